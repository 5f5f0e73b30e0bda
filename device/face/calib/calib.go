// Package calib holds the recognition models' calibration: each shipped
// model's kind, descriptor size, distance and false-accept curve, and the
// two operating points read from it (1:1 verification, 1:N duplicate
// search). It is pure Go, so that the central can use the same thresholds
// as the kiosk without loading dlib or ONNX Runtime. Package face reads its
// model table from here: these are the only copy of the numbers.
package calib

import "math"

// Recognition model kinds: how a model is run and compared.
const (
	// KindDlib is dlib's ResNet (go-face): 128-D, Euclidean distance.
	KindDlib = "dlib"
	// KindMobileFaceNet is an ONNX MobileFaceNet: 192-D, L2-normalised,
	// cosine distance.
	KindMobileFaceNet = "mobilefacenet"
	// KindArcFace512 is an ONNX ArcFace-style network: 512-D,
	// L2-normalised, cosine distance.
	KindArcFace512 = "arcface512"
)

// Kind describes how descriptors of one kind are compared.
type Kind struct {
	Name string
	// Size is the descriptor's dimension.
	Size int
	// Cosine is true for cosine distance (1 − cos) of L2-normalised
	// vectors; false for Euclidean distance.
	Cosine bool
}

// LookupKind returns the description of a model kind.
func LookupKind(name string) (Kind, bool) {
	switch name {
	case KindDlib:
		return Kind{Name: name, Size: 128}, true
	case KindMobileFaceNet:
		return Kind{Name: name, Size: 192, Cosine: true}, true
	case KindArcFace512:
		return Kind{Name: name, Size: 512, Cosine: true}, true
	}
	return Kind{}, false
}

// Shipped recognition model ids (their file names in the models
// directory; descriptors carry them).
const (
	// Dlib is dlib's stock face recognition network.
	Dlib = "dlib_face_recognition_resnet_model_v1.dat"
	// MobileFaceNet is sirius-ai's MobileFaceNet converted to ONNX, the
	// kiosk's default recognizer.
	MobileFaceNet = "mobilefacenet.onnx"
)

// DefaultTargetFAR is the false-accept rate both operating points aim at:
// per comparison for 1:1, per search for 1:N.
const DefaultTargetFAR = 0.001

// Point is one point of a false-accept curve: the largest distance that
// keeps the per-comparison false-accept rate at FAR.
type Point struct {
	FAR       float64 `json:"far"`
	Threshold float64 `json:"threshold"`
}

// Model is a shipped recognition model with its calibration.
type Model struct {
	ID     string
	Kind   string
	Size   int
	SHA256 string // of the model file; empty for dlib's (checked elsewhere)
	// Curve is the calibrated false-accept curve, for decreasing FAR.
	Curve []Point
	// Calibrated names the data the curve comes from.
	Calibrated string
}

// eastasia names the data of the shipped curves.
const eastasia = "facecheck calibrate on ../shared/faces/eastasia: 691 photos of 400 East Asian people with a face found, 237,654 impostor pairs"

// Lookup returns the shipped model with id (its file name).
//
// Curves: `facecheck calibrate` on ../shared/faces/eastasia (400 East
// Asian people), impostor pairs = every pair of photos of different people
// in the folder, thresholds rounded down to 3 decimals (stricter); the
// smallest FAR is 1e-4 because 237,654 pairs resolve about 4e-5 (10 false
// accepts). See docs/BENCHMARKS.md.
func Lookup(id string) (Model, bool) {
	switch id {
	case Dlib:
		return Model{
			ID: id, Kind: KindDlib, Size: 128, Calibrated: eastasia,
			Curve: []Point{{1e-2, 0.443}, {3e-3, 0.413}, {1e-3, 0.389}, {3e-4, 0.365}, {1e-4, 0.344}},
		}, true
	case MobileFaceNet:
		return Model{
			ID: id, Kind: KindMobileFaceNet, Size: 192,
			SHA256:     "8645b97307ff84ba4a89b860801edff14cf500b7ee50361b7befd5b91680dcb5",
			Calibrated: eastasia,
			Curve:      []Point{{1e-2, 0.535}, {3e-3, 0.475}, {1e-3, 0.428}, {3e-4, 0.387}, {1e-4, 0.348}},
		}, true
	}
	return Model{}, false
}

// Shipped lists the shipped models' ids.
func Shipped() []string { return []string{Dlib, MobileFaceNet} }

// ThresholdAt is the distance threshold for a per-comparison false-accept
// rate far, interpolated on the curve linearly in log(FAR). Above the
// curve's first FAR it holds the first threshold. Below its last FAR,
// which is the smallest the calibration data resolves, the last segment is
// extended (stricter as FAR falls, never below 0): the tail of the
// impostor distribution is close to log-linear there.
func (m Model) ThresholdAt(far float64) float64 { return ThresholdAt(m.Curve, far) }

// ThresholdAt is Model.ThresholdAt for a curve.
func ThresholdAt(c []Point, far float64) float64 {
	switch {
	case len(c) == 0 || !(far > 0):
		return math.NaN()
	case far >= c[0].FAR:
		return c[0].Threshold
	case len(c) == 1:
		return c[0].Threshold
	}
	i := 1
	for i < len(c)-1 && far < c[i].FAR {
		i++
	}
	lo, hi := c[i], c[i-1]
	f := (math.Log(far) - math.Log(lo.FAR)) / (math.Log(hi.FAR) - math.Log(lo.FAR))
	return math.Max(lo.Threshold+f*(hi.Threshold-lo.Threshold), 0)
}

// SearchFAR is the per-comparison false-accept rate that keeps a search
// over n stored faces at the overall rate target: target / n (the union
// bound; for small rates 1 − (1 − p)^n ≈ n·p).
func SearchFAR(target float64, n int) float64 { return target / float64(max(n, 1)) }

// SearchThreshold is the 1:N threshold for a search among n stored faces
// at an overall false-accept rate target: the distance at which the
// per-comparison rate is target / n, never looser than the 1:1 threshold
// at target.
func (m Model) SearchThreshold(target float64, n int) float64 {
	return math.Min(m.ThresholdAt(SearchFAR(target, n)), m.ThresholdAt(target))
}

// Distance is the distance between two descriptors of one kind and size:
// cosine distance (1 − cos, in [0, 2]) for cosine kinds, Euclidean
// otherwise. A zero vector is at cosine distance 1 from everything.
func (k Kind) Distance(a, b []float32) float64 {
	if k.Cosine {
		var dot, na, nb float64
		for i := range a {
			dot += float64(a[i]) * float64(b[i])
			na += float64(a[i]) * float64(a[i])
			nb += float64(b[i]) * float64(b[i])
		}
		if na == 0 || nb == 0 {
			return 1
		}
		return 1 - dot/math.Sqrt(na*nb)
	}
	var s float64
	for i := range a {
		d := float64(a[i] - b[i])
		s += d * d
	}
	return math.Sqrt(s)
}
