package face

import (
	"context"
	"errors"
	"fmt"
	"math"

	"examkiosk/device/face/calib"
)

// ModelKind says how a recognition model is run and compared.
type ModelKind string

// Recognition model kinds (package calib describes them).
const (
	// KindDlib is dlib's ResNet (go-face): 128-D, Euclidean distance.
	KindDlib ModelKind = calib.KindDlib
	// KindMobileFaceNet is an ONNX MobileFaceNet: 112×112 RGB NHWC input,
	// (x − 127.5) / 128, 192-D output, L2-normalised, cosine distance.
	KindMobileFaceNet ModelKind = calib.KindMobileFaceNet
	// KindArcFace512 is an ONNX ArcFace-style network with 112×112 RGB
	// NCHW input, (x − 127) / 128 and a 512-D output, L2-normalised,
	// cosine distance (faceplugin's fr_feature.onnx).
	KindArcFace512 ModelKind = calib.KindArcFace512
)

// kindSpec is what the engine needs to know to run and compare a kind.
type kindSpec struct {
	size   int     // descriptor dimensions
	cosine bool    // cosine distance of L2-normalised vectors; else Euclidean
	nchw   bool    // ONNX input layout
	mean   float32 // ONNX input: (x − mean) · scale
	scale  float32
}

// onnxSpec is a kind's description from calib with its ONNX input.
func onnxSpec(kind string, nchw bool, mean, scale float32) kindSpec {
	k, _ := calib.LookupKind(kind)
	return kindSpec{size: k.Size, cosine: k.Cosine, nchw: nchw, mean: mean, scale: scale}
}

var kinds = map[ModelKind]kindSpec{
	KindDlib:          onnxSpec(calib.KindDlib, false, 0, 0),
	KindMobileFaceNet: onnxSpec(calib.KindMobileFaceNet, false, 127.5, 1.0/128),
	KindArcFace512:    onnxSpec(calib.KindArcFace512, true, 127, 1.0/128),
}

// Model describes a recognition model known to the kiosk: its file, kind
// and the thresholds calibrated for it.
type Model struct {
	// ID is the model's file name in the models directory; descriptors
	// carry it.
	ID   string    `json:"id"`
	Kind ModelKind `json:"kind"`
	// Size is the descriptor's dimension.
	Size int `json:"size"`
	// SHA256 is the file's digest (build/models.sha256 lists the same);
	// empty for the dlib model, which app.VerifyModels checks.
	SHA256 string `json:"sha256,omitempty"`
	// Curve is the calibrated false-accept curve: the largest distance
	// that keeps the per-comparison false-accept rate at FAR, for
	// decreasing FAR. ThresholdAt interpolates it.
	Curve []FARPoint `json:"curve"`
	// Calibrated names the data the curve comes from.
	Calibrated string `json:"calibrated"`
}

// FARPoint is one point of a false-accept curve.
type FARPoint = calib.Point

// DefaultRecognitionModel is the recognition model used when the config
// names none: MobileFaceNet on ONNX Runtime (see the README for why).
const DefaultRecognitionModel = calib.MobileFaceNet

// DefaultTargetFAR is the false-accept rate both operating points aim at:
// per comparison for 1:1, per search for 1:N.
const DefaultTargetFAR = calib.DefaultTargetFAR

// DefaultSearchSize is the number of stored faces `facecheck calibrate`
// reports the 1:N threshold for when --n is not given.
const DefaultSearchSize = 100

// LookupModel returns the shipped description of a recognition model
// file name (the calibration table is package calib's).
func LookupModel(id string) (Model, bool) {
	c, ok := calib.Lookup(id)
	if !ok {
		return Model{}, false
	}
	return Model{ID: c.ID, Kind: ModelKind(c.Kind), Size: c.Size, SHA256: c.SHA256, Curve: c.Curve, Calibrated: c.Calibrated}, true
}

// ThresholdAt is the distance threshold for a per-comparison false-accept
// rate far (calib.ThresholdAt: log-linear on the curve, the last segment
// extended below the smallest calibrated FAR).
func (m Model) ThresholdAt(far float64) float64 { return calib.ThresholdAt(m.Curve, far) }

// SearchFAR is the per-comparison false-accept rate that keeps a search
// over n stored faces at the overall rate target: target / n
// (calib.SearchFAR).
func SearchFAR(target float64, n int) float64 { return calib.SearchFAR(target, n) }

// Descriptor is a face descriptor with the model that made it.
// Descriptors of different models are never compared.
type Descriptor struct {
	Model string    `json:"model"`
	Kind  ModelKind `json:"kind"`
	Vec   []float32 `json:"vec"`
}

// ErrModelMismatch is returned when descriptors of different models, or
// of the wrong size for their model, are compared.
var ErrModelMismatch = errors.New("descriptors of different recognition models")

// Distance is the distance between two descriptors of the same model:
// Euclidean for dlib, cosine distance (1 − cos, in [0, 2]) for the ONNX
// models. Descriptors of different models give ErrModelMismatch.
func Distance(a, b Descriptor) (float64, error) {
	if a.Model != b.Model || a.Kind != b.Kind || len(a.Vec) != len(b.Vec) || len(a.Vec) == 0 {
		return math.Inf(1), fmt.Errorf("%w: %s (%d-D) and %s (%d-D)", ErrModelMismatch, a.Model, len(a.Vec), b.Model, len(b.Vec))
	}
	k, _ := calib.LookupKind(string(a.Kind))
	return k.Distance(a.Vec, b.Vec), nil
}

// Fuse averages descriptors of one model into one (the mean of several
// live frames is a steadier template than any single frame); cosine
// models' means are normalised again.
func Fuse(ds []Descriptor) (Descriptor, error) {
	if len(ds) == 0 {
		return Descriptor{}, fmt.Errorf("fuse: %w", ErrNoFace)
	}
	out := Descriptor{Model: ds[0].Model, Kind: ds[0].Kind, Vec: make([]float32, len(ds[0].Vec))}
	for _, d := range ds {
		if d.Model != out.Model || d.Kind != out.Kind || len(d.Vec) != len(out.Vec) {
			return Descriptor{}, fmt.Errorf("fuse: %w", ErrModelMismatch)
		}
		for i, v := range d.Vec {
			out.Vec[i] += v
		}
	}
	for i := range out.Vec {
		out.Vec[i] /= float32(len(ds))
	}
	if kinds[out.Kind].cosine {
		l2normalise(out.Vec)
	}
	return out, nil
}

func l2normalise(v []float32) {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	if s == 0 {
		return
	}
	inv := float32(1 / math.Sqrt(s))
	for i := range v {
		v[i] *= inv
	}
}

// recognizer computes descriptors with one model: dlib (go-face) or an
// ONNX model on ONNX Runtime.
type recognizer interface {
	// describe computes the descriptor of face f found in px.
	describe(ctx context.Context, px *rgbImage, f Face) (Descriptor, error)
	close()
}
