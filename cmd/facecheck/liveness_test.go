package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLivenessCLI: replaying a shared clip passes no session, following
// its annotations passes ≥ 95 %, a bad clip or bad flags exit 2.
func TestLivenessCLI(t *testing.T) {
	live := filepath.Join(fixtures(t), "live")
	models(t)
	clip := filepath.Join(live, "cap13_blink_turn", "cap13_blink_turn.mjpeg")
	notes := filepath.Join(live, "annotations.json")
	few := filepath.Join(t.TempDir(), "few.json")
	os.WriteFile(few, []byte(`{"cap13_blink_turn": {"frames": 150, "blink_span": [[61, 64]]}}`), 0o644)
	tests := []struct {
		name   string
		args   []string
		code   int
		key    string  // apcer or bpcer
		max    float64 // largest acceptable rate
		stderr string
	}{
		{"replay", []string{"liveness", clip, "--replay", "--trials", "60"}, exitOK, "apcer", 0, ""},
		{"replay of a frame folder", []string{"liveness", filepath.Join(live, "cap13_blink_turn", "frames"), "--replay", "--trials", "20", "--seed", "7"}, exitOK, "apcer", 0, ""},
		{"follow", []string{"liveness", clip, "--follow", notes, "--trials", "60"}, exitOK, "bpcer", 0.05, ""},
		{"not a clip", []string{"liveness", "/etc/hostname", "--replay"}, exitBad, "", 0, "liveness"},
		{"missing clip", []string{"liveness", "/nonexistent.mjpeg", "--replay"}, exitBad, "", 0, "nonexistent"},
		{"no mode", []string{"liveness", clip}, exitBad, "", 0, "--replay"},
		{"both modes", []string{"liveness", clip, "--replay", "--follow", notes}, exitBad, "", 0, "exactly one"},
		{"clip not annotated", []string{"liveness", filepath.Join(live, "cap12_frontal_no_blink.mjpeg"), "--follow", notes}, exitBad, "", 0, "no annotated action"},
		{"too few actions", []string{"liveness", clip, "--follow", few}, exitBad, "", 0, "fewer actions"},
	}
	hits := analysisHits
	defer func() {
		// The clip, its folder of frames and the follow run: one analysis.
		if analysisHits-hits < 2 {
			t.Errorf("cap13 analysed %d times, want once", 3-(analysisHits-hits))
		}
	}()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCLI(t, tc.args...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out, errs)
			}
			if tc.stderr != "" && !strings.Contains(errs, tc.stderr) {
				t.Errorf("stderr %q does not say %q", errs, tc.stderr)
			}
			if tc.key == "" {
				return
			}
			var r map[string]any
			if err := json.Unmarshal([]byte(out), &r); err != nil {
				t.Fatalf("output is not JSON: %v\n%s", err, out)
			}
			rate, ok := r[tc.key].(float64)
			if !ok || r["trials"] == nil || r["passed"] == nil {
				t.Fatalf("output lacks trials, passed or %s: %s", tc.key, out)
			}
			if rate > tc.max {
				t.Errorf("%s = %g, want ≤ %g: %s", tc.key, rate, tc.max, out)
			}
			// With the passive detector installed, its cues are reported
			// beside it: a live clip is under every limit and live.
			if pad, ok := r["pad"].(map[string]any); ok {
				cues, _ := pad["cues"].(map[string]any)
				for _, k := range []string{"moire", "glare", "edges", "turn_residual", "frames"} {
					if _, ok := cues[k].(float64); !ok {
						t.Errorf("pad.cues lacks %s: %s", k, out)
					}
				}
				if over, _ := pad["cues_over"].([]any); len(over) > 0 || pad["live"] != true || pad["fused"] == nil {
					t.Errorf("live clip: cues over %v, live %v, fused %v", over, pad["live"], pad["fused"])
				}
				if tr, _ := cues["turn_residual"].(float64); tr < 0.06 {
					t.Errorf("cap13 turns, but its turn residual peaks at %g", tr)
				}
			}
		})
	}
}
