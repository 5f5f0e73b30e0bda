package face

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"examkiosk/internal/paths"
)

// StockRecognitionModel is the file name of dlib's stock face recognition
// network (dlib_face_recognition_resnet_model_v1.dat).
const StockRecognitionModel = "dlib_face_recognition_resnet_model_v1.dat"

// StockThreshold is the default match threshold for StockRecognitionModel.
// `facecheck calibrate --target-far 0.001` on ../shared/faces/verify (19
// mostly Western people, 154 same and 154 different pairs) gives 0.668:
// same-person distances reach 0.617, different-person ones start at 0.669.
// The default is stricter because the stock model separates East Asian
// faces poorly (different Chinese people often measure below 0.6) and the
// kiosk compares an ID photo made from the same session (distance ≈ 0.1).
// Re-calibrate on the candidates' population; see the package doc.
const StockThreshold = 0.5

// Config configures the face engine. The kiosk embeds it under its own
// TOML table (e.g. [face]).
type Config struct {
	// ModelsDir holds the model files named below.
	ModelsDir string `toml:"models_dir"`
	// LandmarkModel is the 68-point shape predictor used for guidance,
	// liveness and the ID photo.
	LandmarkModel string `toml:"landmark_model"`
	// AlignModel is the 5-point shape predictor go-face aligns faces with
	// before computing descriptors.
	AlignModel string `toml:"align_model"`
	// RecognitionModel is the descriptor network; swap it for a model that
	// suits the candidates better and add its threshold to Thresholds.
	RecognitionModel string `toml:"recognition_model"`
	// CNNDetectorModel is dlib's MMOD detector, used only as a fallback on
	// small crops when the HOG detector misses a face.
	CNNDetectorModel string `toml:"cnn_detector_model"`
	// Thresholds maps a recognition model file name to the largest
	// descriptor distance that still counts as the same person.
	Thresholds map[string]float64 `toml:"thresholds"`
	// FuseFrames is how many of the best live frames are fused into the
	// live descriptor.
	FuseFrames int `toml:"fuse_frames"`
	// DetectWidth is the width live frames are downscaled to for HOG
	// detection (faces narrower than about 80 px at that width are missed).
	DetectWidth int `toml:"detect_width"`
	// BLASThreads is the OpenBLAS thread count set at engine start.
	BLASThreads int `toml:"blas_threads"`
	// Live holds the thresholds of live guidance.
	Live Limits `toml:"live"`
	// Liveness configures the active liveness challenge.
	Liveness LivenessConfig `toml:"liveness"`
	// Photo is the exam's ID photo specification.
	Photo PhotoSpec `toml:"photo"`
}

// LivenessConfig configures the liveness challenge.
type LivenessConfig struct {
	// Actions is the pool challenges are drawn from: blink, turn_left,
	// turn_right, open_mouth.
	Actions []Action `toml:"actions"`
	// Steps is how many different actions a challenge asks for (≥ 2).
	Steps int `toml:"steps"`
	// StepTimeout is the longest wait, before each prompt, for the face to
	// rest (frontal, still, eyes open, mouth closed) for the baseline; the
	// action itself must start within 0.2–1.7 s of its prompt.
	StepTimeout time.Duration `toml:"step_timeout"`
	// Attempts is how many challenges a candidate may try (≤ 3).
	Attempts int `toml:"attempts"`
}

// DefaultModelsDir is where build/setup.sh installs the models:
// $EXAMKIOSK_MODELS, else ${XDG_DATA_HOME:-~/.local/share}/examkiosk/models.
func DefaultModelsDir() string { return paths.ModelsDir() }

// DefaultConfig returns the configuration used when the kiosk config
// leaves the face table out.
func DefaultConfig() Config {
	return Config{
		ModelsDir:        DefaultModelsDir(),
		LandmarkModel:    "shape_predictor_68_face_landmarks.dat",
		AlignModel:       "shape_predictor_5_face_landmarks.dat",
		RecognitionModel: StockRecognitionModel,
		CNNDetectorModel: "mmod_human_face_detector.dat",
		Thresholds:       map[string]float64{StockRecognitionModel: StockThreshold},
		FuseFrames:       5,
		DetectWidth:      320,
		BLASThreads:      1,
		Live:             LiveLimits(),
		Liveness: LivenessConfig{
			Actions:     []Action{ActionBlink, ActionTurnLeft, ActionTurnRight, ActionOpenMouth},
			Steps:       2,
			StepTimeout: 6 * time.Second,
			Attempts:    3,
		},
		Photo: DefaultPhotoSpec(),
	}
}

// Threshold returns the match threshold configured for the recognition model.
func (c Config) Threshold() (float64, error) {
	t, ok := c.Thresholds[c.RecognitionModel]
	if !ok {
		return 0, fmt.Errorf("face.thresholds: no threshold for recognition_model %q; run `facecheck calibrate` and add it", c.RecognitionModel)
	}
	return t, nil
}

// Validate checks every key and names the offending one.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, want string, got any) {
		errs = append(errs, fmt.Errorf("face.%s: want %s, got %v", key, want, got))
	}
	if c.ModelsDir == "" {
		bad("models_dir", "a directory holding the dlib model files", `""`)
	}
	for key, v := range map[string]string{
		"landmark_model": c.LandmarkModel, "align_model": c.AlignModel,
		"recognition_model": c.RecognitionModel, "cnn_detector_model": c.CNNDetectorModel,
	} {
		if v == "" || filepath.Base(v) != v {
			bad(key, "a file name inside models_dir", fmt.Sprintf("%q", v))
		}
	}
	if t, ok := c.Thresholds[c.RecognitionModel]; !ok {
		bad("thresholds", fmt.Sprintf("an entry for recognition_model %q (run `facecheck calibrate`)", c.RecognitionModel), c.Thresholds)
	} else if t <= 0 || t >= 2 {
		bad("thresholds."+c.RecognitionModel, "a distance in (0, 2)", t)
	}
	if c.FuseFrames < 1 || c.FuseFrames > 30 {
		bad("fuse_frames", "1..30", c.FuseFrames)
	}
	if c.DetectWidth < 160 || c.DetectWidth > 1920 {
		bad("detect_width", "160..1920 pixels", c.DetectWidth)
	}
	if c.BLASThreads < 1 || c.BLASThreads > 64 {
		bad("blas_threads", "1..64", c.BLASThreads)
	}
	if err := c.Live.validate("face.live"); err != nil {
		errs = append(errs, err)
	}
	if err := c.Liveness.validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Photo.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (l LivenessConfig) validate() error {
	var errs []error
	seen := map[Action]bool{}
	for _, a := range l.Actions {
		if !a.valid() {
			errs = append(errs, fmt.Errorf("face.liveness.actions: want blink, turn_left, turn_right or open_mouth, got %q", a))
		}
		if seen[a] {
			errs = append(errs, fmt.Errorf("face.liveness.actions: %q listed twice", a))
		}
		seen[a] = true
	}
	if l.Steps < 2 || l.Steps > len(l.Actions) {
		errs = append(errs, fmt.Errorf("face.liveness.steps: want 2..%d (the number of actions), got %d", len(l.Actions), l.Steps))
	}
	if l.StepTimeout < time.Second || l.StepTimeout > time.Minute {
		errs = append(errs, fmt.Errorf("face.liveness.step_timeout: want 1s..1m, got %v", l.StepTimeout))
	}
	if l.Attempts < 1 || l.Attempts > 3 {
		errs = append(errs, fmt.Errorf("face.liveness.attempts: want 1..3, got %d", l.Attempts))
	}
	return errors.Join(errs...)
}
