package face

import (
	"fmt"
	"image"
	"math"

	"examkiosk/device/face/ort"
)

// The eye-state network: fr_eye.onnx from the npm package
// faceplugin-face-recognition-js@0.0.1 (package licence MIT), the same
// package as the passive detector. Its input "input" [1,1,24,24] is a grey
// square crop of one eye, values 0–1: centred on the mean of the four lid
// points, 1.6 eye widths (corner to corner) on a side, as the package's
// lib/fr_eye.js cuts it from 68 landmarks; its output "output" [1,2] is two
// logits. It looks at the eye's pixels, not at the landmarks: a photo or a
// screen moved in front of the camera can make the landmarks of its eyes
// jitter shut, but the eyes it shows stay as they were.
const (
	// EyeModel is the model file inside the models directory.
	EyeModel = "fr_eye.onnx"
	// EyeModelSHA256 is its SHA-256 (also in build/models.sha256).
	EyeModelSHA256 = "1afcea006abc1ccac3c517022abde0aa092bed74ff3c9fe6878483ef9e6e38de"
	eyeSize        = 24
	eyePad         = 1.6
)

// eyeClosedClass is the output class of a closed eye.
const eyeClosedClass = 0

// EyeState tells open from closed eyes in a frame. It is safe for
// concurrent use.
type EyeState struct {
	sess *ort.Session
}

// OpenEyeState loads the eye-state model from modelsDir with the ONNX
// Runtime library at ortLib ("" for the installed one).
func OpenEyeState(modelsDir, ortLib string) (*EyeState, error) {
	s, err := openModel("eye state", modelsDir, ortLib, EyeModel, EyeModelSHA256, []int64{1, 1, eyeSize, eyeSize}, []int64{1, 2})
	if err != nil {
		return nil, err
	}
	return &EyeState{sess: s}, nil
}

// Close releases the model.
func (e *EyeState) Close() { e.sess.Close() }

// Closed returns the probability that each eye (the image's left one,
// landmarks 36–41, then the right one, 42–47) is closed.
func (e *EyeState) Closed(img image.Image, landmarks []image.Point) (left, right float64, err error) {
	if len(landmarks) != 68 {
		return 0, 0, fmt.Errorf("eye state: %d landmarks, want 68", len(landmarks))
	}
	px, p := toRGB(img), toPts(landmarks)
	l, err := e.logit(px, p, lmLeftEye)
	if err != nil {
		return 0, 0, err
	}
	r, err := e.logit(px, p, lmRightEye)
	return sigmoid(l), sigmoid(r), err
}

// eyesClosed is the probability that both eyes of landmarks p are closed:
// the sigmoid of the mean of the two eyes' logits (so that one eye the
// network is unsure of does not decide alone).
func (e *EyeState) eyesClosed(px *rgbImage, p []pt) (float64, error) {
	l, err := e.logit(px, p, lmLeftEye)
	if err != nil {
		return 0, err
	}
	r, err := e.logit(px, p, lmRightEye)
	if err != nil {
		return 0, err
	}
	return sigmoid((l + r) / 2), nil
}

// logit runs the network on one eye (first landmark eye) and returns the
// logit of "closed" against "open".
func (e *EyeState) logit(px *rgbImage, p []pt, eye int) (float64, error) {
	c := mid(p[eye+1], p[eye+2], p[eye+4], p[eye+5])
	side := math.Abs(p[eye+3].X-p[eye].X) * eyePad
	if side < eyeSize/2 {
		return 0, fmt.Errorf("eye state: eye %.1f px wide, too small", side/eyePad)
	}
	// Bilinear, without the box filter of rgbImage.sample: the package
	// resizes with OpenCV's INTER_LINEAR, which does not filter either.
	step := side / eyeSize
	grey := bilinearGrid(px.luma, c.X-side/2, c.Y-side/2, step, step, eyeSize, eyeSize)
	data := make([]float32, len(grey))
	for i, v := range grey {
		data[i] = float32(v / 255)
	}
	out, err := e.sess.Run(ort.Tensor{Shape: []int64{1, 1, eyeSize, eyeSize}, Data: data})
	if err != nil {
		return 0, fmt.Errorf("eye state: %w", err)
	}
	v := out[0].Data
	if len(v) != 2 {
		return 0, fmt.Errorf("eye state: %d outputs, want 2", len(v))
	}
	return float64(v[eyeClosedClass] - v[1-eyeClosedClass]), nil
}

func sigmoid(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// logit is the inverse of sigmoid, bounded to ±30.
func logit(p float64) float64 {
	p = math.Min(math.Max(p, 1e-13), 1-1e-13)
	return math.Log(p / (1 - p))
}
