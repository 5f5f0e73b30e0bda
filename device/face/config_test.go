package face

import (
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
)

// TestConfigTOML decodes the documented keys over the defaults, as the
// kiosk config does with its [face] table.
func TestConfigTOML(t *testing.T) {
	const doc = `
models_dir = "/opt/models"
recognition_model = "my_model.dat"
fuse_frames = 3
[thresholds]
"my_model.dat" = 0.42
[live]
max_yaw = 20.0
[liveness]
actions = ["blink", "turn_left", "turn_right"]
steps = 3
step_timeout = "8s"
attempts = 2
[photo]
width = 420
height = 588
max_bytes = 150000
backgrounds = ["blue", "white"]
[photo.face]
max_roll = 6.0
`
	cfg := DefaultConfig()
	md, err := toml.Decode(doc, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		t.Fatalf("undecoded keys %v", und)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	th, _ := cfg.Threshold()
	if cfg.ModelsDir != "/opt/models" || th != 0.42 || cfg.FuseFrames != 3 || cfg.Live.MaxYaw != 20 ||
		cfg.Live.MaxPitch != LiveLimits().MaxPitch || cfg.Liveness.StepTimeout != 8*time.Second ||
		cfg.Photo.Width != 420 || cfg.Photo.Face.MaxRoll != 6 || cfg.Photo.Face.MaxYaw != 5 {
		t.Errorf("decoded %+v", cfg)
	}
	// An unknown model without a threshold is refused with the key named.
	bad := DefaultConfig()
	if _, err := toml.Decode(`recognition_model = "new.dat"`, &bad); err != nil {
		t.Fatal(err)
	}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "face.thresholds") {
		t.Errorf("Validate() = %v, want face.thresholds", err)
	}
	var sb strings.Builder
	if err := toml.NewEncoder(&sb).Encode(DefaultConfig()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sb.String(), `step_timeout = "6s"`) {
		t.Errorf("encoded defaults lack step_timeout:\n%s", sb.String())
	}
}
