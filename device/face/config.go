package face

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"examkiosk/device/face/calib"
	"examkiosk/internal/paths"
)

// StockRecognitionModel is the file name of dlib's stock face recognition
// network (dlib_face_recognition_resnet_model_v1.dat).
const StockRecognitionModel = calib.Dlib

// StockThreshold was the match threshold shipped for StockRecognitionModel
// before calibration on East Asian faces; the model's curve in the shipped
// model table (recognizer.go) now gives its thresholds.
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
	// RecognitionModel is the descriptor network's file name. The shipped
	// ones (LookupModel) come with their kind, SHA-256 and calibrated
	// thresholds; another one needs recognition_kind, its SHA-256 (ONNX)
	// and its threshold in Thresholds.
	RecognitionModel string `toml:"recognition_model"`
	// RecognitionKind is "dlib", "mobilefacenet" or "arcface512"; empty
	// means the shipped model's kind.
	RecognitionKind ModelKind `toml:"recognition_kind"`
	// RecognitionSHA256 is the SHA-256 of an ONNX recognition model that is
	// not shipped; empty for a shipped one.
	RecognitionSHA256 string `toml:"recognition_model_sha256"`
	// ONNXRuntime is the path of libonnxruntime.so.1; empty means where
	// build/setup.sh installs it (ort.DefaultLibraryPath).
	ONNXRuntime string `toml:"onnxruntime_library"`
	// IntraOpThreads is the number of threads one ONNX model run may use.
	IntraOpThreads int `toml:"intra_op_threads"`
	// TargetFAR is the false-accept rate both operating points aim at: per
	// comparison for 1:1 (Threshold), per search over N stored faces for
	// 1:N (SearchThreshold, per-comparison rate TargetFAR / N).
	TargetFAR float64 `toml:"target_far"`
	// CNNDetectorModel is dlib's MMOD detector, used only as a fallback on
	// small crops when the HOG detector misses a face.
	CNNDetectorModel string `toml:"cnn_detector_model"`
	// Thresholds maps a recognition model file name to the largest
	// descriptor distance that still counts as the same person (1:1). It
	// overrides the shipped, calibrated threshold at TargetFAR.
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
		RecognitionModel: DefaultRecognitionModel,
		CNNDetectorModel: "mmod_human_face_detector.dat",
		Thresholds:       map[string]float64{},
		IntraOpThreads:   1,
		TargetFAR:        DefaultTargetFAR,
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

// Model resolves the recognition model: the shipped description of
// RecognitionModel, or one made from RecognitionKind and
// RecognitionSHA256 for a model that is not shipped.
func (c Config) Model() (Model, error) {
	m, shipped := LookupModel(c.RecognitionModel)
	if shipped {
		if c.RecognitionKind != "" && c.RecognitionKind != m.Kind {
			return Model{}, fmt.Errorf("face.recognition_kind: %s is a %s model, got %q", c.RecognitionModel, m.Kind, c.RecognitionKind)
		}
		if c.RecognitionSHA256 != "" && c.RecognitionSHA256 != m.SHA256 {
			return Model{}, fmt.Errorf("face.recognition_model_sha256: the shipped %s has SHA-256 %s; leave the key out", c.RecognitionModel, m.SHA256)
		}
		return m, nil
	}
	spec, ok := kinds[c.RecognitionKind]
	if !ok {
		return Model{}, fmt.Errorf("face.recognition_kind: %s is not a shipped model: want dlib, mobilefacenet or arcface512, got %q", c.RecognitionModel, c.RecognitionKind)
	}
	m = Model{ID: c.RecognitionModel, Kind: c.RecognitionKind, Size: spec.size, SHA256: c.RecognitionSHA256}
	if m.Kind != KindDlib && len(m.SHA256) != 64 {
		return Model{}, fmt.Errorf("face.recognition_model_sha256: want the 64-hex-digit SHA-256 of %s, got %q", c.RecognitionModel, c.RecognitionSHA256)
	}
	return m, nil
}

// Threshold returns the 1:1 match threshold for the recognition model: the
// Thresholds entry when there is one, else the shipped model's threshold
// at TargetFAR.
func (c Config) Threshold() (float64, error) {
	if t, ok := c.Thresholds[c.RecognitionModel]; ok {
		return t, nil
	}
	m, err := c.Model()
	if err != nil {
		return 0, err
	}
	if len(m.Curve) == 0 {
		return 0, fmt.Errorf("face.thresholds: no threshold for recognition_model %q; run `facecheck calibrate` and add it", c.RecognitionModel)
	}
	return m.ThresholdAt(c.TargetFAR), nil
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
	if _, err := c.Model(); err != nil {
		errs = append(errs, err)
	} else if _, err := c.Threshold(); err != nil {
		errs = append(errs, err)
	}
	for name, t := range c.Thresholds {
		if t <= 0 || t >= 2 {
			bad("thresholds."+name, "a distance in (0, 2)", t)
		}
	}
	if c.IntraOpThreads < 1 || c.IntraOpThreads > 64 {
		bad("intra_op_threads", "1..64", c.IntraOpThreads)
	}
	if !(c.TargetFAR > 0 && c.TargetFAR < 0.1) {
		bad("target_far", "a rate in (0, 0.1)", c.TargetFAR)
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
