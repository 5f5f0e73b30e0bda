package face

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// Code is a stable identifier of a guidance hint or a photo problem. The
// UI keys its own texts on it; Text gives the package's zh-CN and en texts.
type Code string

// Guidance and photo problem codes.
const (
	CodeNoFace         Code = "no_face"
	CodeMultipleFaces  Code = "multiple_faces"
	CodeTooFar         Code = "too_far"
	CodeTooClose       Code = "too_close"
	CodeOffCenter      Code = "off_center"
	CodeFaceIncomplete Code = "face_incomplete"
	CodeHeadTurned     Code = "head_turned"
	CodeHeadTilted     Code = "head_tilted"
	CodeHeadUpDown     Code = "head_up_down"
	CodeTooDark        Code = "too_dark"
	CodeTooBright      Code = "too_bright"
	CodeUnevenLight    Code = "uneven_light"
	CodeBlurry         Code = "blurry"
	CodeEyesClosed     Code = "eyes_closed"
	CodeMouthOpen      Code = "mouth_open"
	CodeOccluded       Code = "occluded"
	// Photo-only codes.
	CodeCorrupt        Code = "corrupt"
	CodeTooSmall       Code = "too_small"
	CodeAspect         Code = "aspect"
	CodeNotColour      Code = "not_colour"
	CodeBackground     Code = "background"
	CodeFileTooSmall   Code = "file_too_small"
	CodeFileTooLarge   Code = "file_too_large"
	CodeNotJPEG        Code = "not_jpeg"
	CodeFaceMismatch   Code = "face_mismatch"
	CodeHeadSize       Code = "head_size"
	CodeEyeLine        Code = "eye_line"
	CodeNoLiveFace     Code = "no_live_face"
	CodeLivenessFailed Code = "liveness_failed"
)

// Problem is one failed rule, with the measured value where there is one.
type Problem struct {
	Code  Code    `json:"code"` // the UI's words: frontend/src/i18n problem.<code>
	Value float64 `json:"value,omitempty"`
	Limit string  `json:"limit,omitempty"`
}

func problem(c Code, value float64, limit string) Problem {
	return Problem{Code: c, Value: value, Limit: limit}
}

// Limits holds every threshold of the face checks. LiveLimits and
// PhotoLimits are the documented defaults; this struct is the one place
// that defines what each check compares.
type Limits struct {
	// Face size: head height (crown to chin, estimated from landmarks) as
	// a fraction of the guide frame height (live) or the photo height.
	MinHead float64 `toml:"min_head"`
	MaxHead float64 `toml:"max_head"`
	// MaxOffset is the largest distance of the head centre from the guide
	// centre, as a fraction of the guide height.
	MaxOffset float64 `toml:"max_offset"`
	// Head pose limits in degrees.
	MaxYaw   float64 `toml:"max_yaw"`
	MaxPitch float64 `toml:"max_pitch"`
	MaxRoll  float64 `toml:"max_roll"`
	// PoseTolerance is the measurement uncertainty of the landmark-based
	// pose, in degrees: a pose is refused when it exceeds its limit by more
	// than this. Photos of the verify set that look frontal measure up to
	// about ±12° yaw (anatomy differs from the average head).
	PoseTolerance float64 `toml:"pose_tolerance"`
	// Mean luma (0..255) of the face.
	MinBrightness float64 `toml:"min_brightness"`
	MaxBrightness float64 `toml:"max_brightness"`
	// MaxImbalance is |left − right| / mean of the median luma of the two
	// cheeks (skin between the jaw line and the nose, mirrored).
	MaxImbalance float64 `toml:"max_imbalance"`
	// MinSharpness is the variance of the Laplacian of the face scaled to
	// 128 px wide.
	MinSharpness float64 `toml:"min_sharpness"`
	// MinEyeOpen is the smallest mean eye aspect ratio of open eyes.
	MinEyeOpen float64 `toml:"min_eye_open"`
	// MaxMouthOpen is the largest inner-lip aspect ratio of a closed mouth.
	MaxMouthOpen float64 `toml:"max_mouth_open"`
	// MaxOcclusion bounds the occlusion score: the chroma distance between
	// the lower face and the cheeks, or darkness of the eyes, normalised
	// so that 1 is clearly covered.
	MaxOcclusion float64 `toml:"max_occlusion"`
	// SecondFace is the size, relative to the largest face, from which a
	// further face counts as another person in the picture.
	SecondFace float64 `toml:"second_face"`
	// GuideHeight is the height of the on-screen guide frame (5:7,
	// centred) as a fraction of the camera frame height; live only.
	GuideHeight float64 `toml:"guide_height"`
}

// LiveLimits are the live guidance thresholds: looser than the photo's so
// that a candidate can get through guidance at a kiosk.
func LiveLimits() Limits {
	return Limits{
		MinHead: 0.50, MaxHead: 0.95, MaxOffset: 0.15,
		MaxYaw: 15, MaxPitch: 15, MaxRoll: 10, PoseTolerance: 0,
		MinBrightness: 60, MaxBrightness: 215, MaxImbalance: 0.35,
		MinSharpness: 8, MinEyeOpen: 0.17, MaxMouthOpen: 0.25,
		MaxOcclusion: 1, SecondFace: 0.4, GuideHeight: 0.95,
	}
}

// PhotoLimits are the ID-photo face thresholds: ISO/IEC 19794-5 and ICAO
// 9303 ask for yaw and pitch within ±5° and roll within ±8°; the head
// (chin to crown) fills 60–80% of the photo height.
func PhotoLimits() Limits {
	return Limits{
		MinHead: 0.55, MaxHead: 0.85, MaxOffset: 0.12,
		MaxYaw: 5, MaxPitch: 5, MaxRoll: 8, PoseTolerance: 8,
		MinBrightness: 70, MaxBrightness: 220, MaxImbalance: 0.30,
		MinSharpness: 20, MinEyeOpen: 0.17, MaxMouthOpen: 0.25,
		MaxOcclusion: 1, SecondFace: 0.4, GuideHeight: 1,
	}
}

func (l Limits) validate(table string) error {
	var errs []error
	chk := func(key string, v, lo, hi float64) {
		if !(v >= lo && v <= hi) {
			errs = append(errs, fmt.Errorf("%s.%s: want %g..%g, got %g", table, key, lo, hi, v))
		}
	}
	chk("min_head", l.MinHead, 0.05, 1)
	chk("max_head", l.MaxHead, l.MinHead, 2)
	chk("max_offset", l.MaxOffset, 0, 1)
	chk("max_yaw", l.MaxYaw, 1, 60)
	chk("max_pitch", l.MaxPitch, 1, 60)
	chk("max_roll", l.MaxRoll, 1, 60)
	chk("pose_tolerance", l.PoseTolerance, 0, 30)
	chk("min_brightness", l.MinBrightness, 0, 255)
	chk("max_brightness", l.MaxBrightness, l.MinBrightness, 255)
	chk("max_imbalance", l.MaxImbalance, 0, 2)
	chk("min_sharpness", l.MinSharpness, 0, 10000)
	chk("min_eye_open", l.MinEyeOpen, 0, 1)
	chk("max_mouth_open", l.MaxMouthOpen, 0, 2)
	chk("max_occlusion", l.MaxOcclusion, 0, 10)
	chk("second_face", l.SecondFace, 0.05, 1)
	chk("guide_height", l.GuideHeight, 0.2, 1)
	return errors.Join(errs...)
}

// Measures are the per-face measurements the checks compare with Limits.
type Measures struct {
	Head       float64 `json:"head"`   // head height / guide height
	Offset     float64 `json:"offset"` // head centre offset / guide height
	Pose       Pose    `json:"pose"`
	Brightness float64 `json:"brightness"`
	Imbalance  float64 `json:"imbalance"`
	Sharpness  float64 `json:"sharpness"`
	EyeOpen    float64 `json:"eye_open"`
	// EyesClosed is the eye-state network's probability that both eyes
	// are closed (eyestate.go), from the eyes' pixels; -1 when not
	// measured (photos, eyes too small).
	EyesClosed float64 `json:"eyes_closed"`
	MouthOpen  float64 `json:"mouth_open"`
	Occlusion  float64 `json:"occlusion"`
	Inside     bool    `json:"inside"` // the whole head lies inside the image
}

// check compares m with l and returns the failed rules in the order a
// candidate should fix them (placement first, then pose, light, details).
func (l Limits) check(m Measures) []Problem {
	var ps []Problem
	add := func(c Code, v float64, lim string) { ps = append(ps, problem(c, v, lim)) }
	if !m.Inside {
		add(CodeFaceIncomplete, 0, "head inside the image")
	}
	switch {
	case m.Head < l.MinHead:
		add(CodeTooFar, m.Head, fmt.Sprintf(">= %g", l.MinHead))
	case m.Head > l.MaxHead:
		add(CodeTooClose, m.Head, fmt.Sprintf("<= %g", l.MaxHead))
	}
	if m.Offset > l.MaxOffset {
		add(CodeOffCenter, m.Offset, fmt.Sprintf("<= %g", l.MaxOffset))
	}
	tol := l.PoseTolerance
	if math.Abs(m.Pose.Yaw) > l.MaxYaw+tol {
		add(CodeHeadTurned, m.Pose.Yaw, fmt.Sprintf("±%g° (+%g° tolerance)", l.MaxYaw, tol))
	}
	if math.Abs(m.Pose.Roll) > l.MaxRoll+tol {
		add(CodeHeadTilted, m.Pose.Roll, fmt.Sprintf("±%g° (+%g° tolerance)", l.MaxRoll, tol))
	}
	if math.Abs(m.Pose.Pitch) > l.MaxPitch+tol {
		add(CodeHeadUpDown, m.Pose.Pitch, fmt.Sprintf("±%g° (+%g° tolerance)", l.MaxPitch, tol))
	}
	switch {
	case m.Brightness < l.MinBrightness:
		add(CodeTooDark, m.Brightness, fmt.Sprintf(">= %g", l.MinBrightness))
	case m.Brightness > l.MaxBrightness:
		add(CodeTooBright, m.Brightness, fmt.Sprintf("<= %g", l.MaxBrightness))
	}
	if m.Imbalance > l.MaxImbalance {
		add(CodeUnevenLight, m.Imbalance, fmt.Sprintf("<= %g", l.MaxImbalance))
	}
	if m.Sharpness < l.MinSharpness {
		add(CodeBlurry, m.Sharpness, fmt.Sprintf(">= %g", l.MinSharpness))
	}
	if m.Occlusion > l.MaxOcclusion {
		add(CodeOccluded, m.Occlusion, fmt.Sprintf("<= %g", l.MaxOcclusion))
	} else {
		// Eye and mouth landmarks are meaningless on a covered face.
		if m.EyeOpen < l.MinEyeOpen {
			add(CodeEyesClosed, m.EyeOpen, fmt.Sprintf(">= %g", l.MinEyeOpen))
		}
		if m.MouthOpen > l.MaxMouthOpen {
			add(CodeMouthOpen, m.MouthOpen, fmt.Sprintf("<= %g", l.MaxMouthOpen))
		}
	}
	return ps
}

// Guidance is the verdict on one live frame.
type Guidance struct {
	// OK is true when the frame has exactly one well-placed face and no
	// problems: it may be used for liveness and capture.
	OK bool `json:"ok"`
	// Problems lists what to fix, most important first; the UI shows the
	// first one.
	Problems []Problem `json:"problems"`
	// Face is the main face (nil when none was found).
	Face *Face `json:"face,omitempty"`
	// Faces is the number of faces counted as people.
	Faces int `json:"faces"`
	// Quality ranks usable frames for capture (higher is better).
	Quality float64 `json:"quality"`
}

// Has reports whether g lists the code c.
func (g Guidance) Has(c Code) bool {
	return slices.ContainsFunc(g.Problems, func(p Problem) bool { return p.Code == c })
}
