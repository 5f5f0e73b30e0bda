package face

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

func TestZZDump(t *testing.T) {
	dir := facesDir(t)
	for name, p := range map[string]string{
		"cap13": "live/cap13_blink_turn/cap13_blink_turn.mjpeg",
		"cap12": "live/cap12_frontal_no_blink.mjpeg",
		"d9":    "live/d9_blinks.mjpeg",
	} {
		out := "/tmp/live-cache/" + name + ".json"
		if _, err := os.Stat(out); err == nil {
			continue
		}
		gs := analyzeClip(t, filepath.Join(dir, p))
		b, _ := json.Marshal(gs)
		os.WriteFile(out, b, 0o644)
	}
}
