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
recognition_kind = "dlib"
onnxruntime_library = "/opt/ort/libonnxruntime.so.1"
intra_op_threads = 2
target_far = 0.0005
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
		cfg.IntraOpThreads != 2 || cfg.TargetFAR != 0.0005 || cfg.ONNXRuntime != "/opt/ort/libonnxruntime.so.1" ||
		cfg.Live.MaxPitch != LiveLimits().MaxPitch || cfg.Liveness.StepTimeout != 8*time.Second ||
		cfg.Photo.Width != 420 || cfg.Photo.Face.MaxRoll != 6 || cfg.Photo.Face.MaxYaw != 5 {
		t.Errorf("decoded %+v", cfg)
	}
	// A model that is not shipped needs its kind, its SHA-256 (ONNX) and
	// its threshold; each refusal names the key.
	for doc, key := range map[string]string{
		`recognition_model = "new.dat"`:                                              "face.recognition_kind",
		`recognition_model = "new.dat"` + "\nrecognition_kind = \"dlib\"":            "face.thresholds",
		`recognition_model = "new.onnx"` + "\nrecognition_kind = \"arcface512\"":     "face.recognition_model_sha256",
		`recognition_model = "mobilefacenet.onnx"` + "\nrecognition_kind = \"dlib\"": "face.recognition_kind",
		"target_far = 0.5":     "face.target_far",
		"intra_op_threads = 0": "face.intra_op_threads",
	} {
		bad := DefaultConfig()
		if _, err := toml.Decode(doc, &bad); err != nil {
			t.Fatal(err)
		}
		if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%s: Validate() = %v, want %s", doc, err, key)
		}
	}
	var sb strings.Builder
	if err := toml.NewEncoder(&sb).Encode(DefaultConfig()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sb.String(), `step_timeout = "6s"`) {
		t.Errorf("encoded defaults lack step_timeout:\n%s", sb.String())
	}
}
