package face

import (
	"fmt"
	"image"
	"math"
	"path/filepath"
	"slices"

	"examkiosk/device/face/ort"
)

// The passive presentation-attack detector (PAD): a single-frame
// anti-spoofing network, fr_liveness.onnx from the npm package
// faceplugin-face-recognition-js@0.0.1 (package licence MIT). Its input is
// "input" [1,3,128,128]: the face's box enlarged 2.7 times about its centre
// (shifted to stay inside the picture), resized to 128×128, planes of raw
// 0–255 values; its output "output" [1,3] is three logits, softmaxed (the
// package's lib/fr_liveness.js reads the first as its liveness score). The
// crop and the three classes follow Silent-Face-Anti-Spoofing's MiniFASNet
// (scale 2.7; live and two kinds of attack). Measured on the shared pad/
// stills and live/ clips with dlib's face box: in BGR plane order class 0
// separates them (live_1 0.90, print 0.00006, screen 0.013, live clips'
// frames ≥ 0.8); in RGB order (as the package's browser code feeds it) the
// print attack scores 0.9995 live, so the model was trained on BGR (as
// OpenCV reads images) and BGR is what is fed here.
const (
	// PADModel is the model file inside the models directory.
	PADModel = "fr_liveness.onnx"
	// PADModelSHA256 is its SHA-256 (also in build/models.sha256).
	PADModelSHA256 = "afa783b7e902fdfcf323a7240cac2a1c580c25314ea4161129dc1b0d100dc32d"
	padSize        = 128
	padScale       = 2.7
)

// PADLiveClass is the output class of a live face.
const PADLiveClass = 0

// PADThreshold is the smallest median live score of a liveness session.
// Calibrated on the shared files (TestPADScores): the live clips' frames
// score 0.98–1.00 (live_1.jpg, a still of a live person, 0.90); the print
// and screen photos moved in front of a virtual camera score at most 0.56
// in any frame, 0.003 and 0.025 in the median. 0.5 lies between with room
// on both sides.
const PADThreshold = 0.5

// padEvery: a session scores one frame in padEvery (~10 ms each).
const padEvery = 2

// PAD scores single frames for presentation attacks. It is safe for
// concurrent use.
type PAD struct {
	sess *ort.Session
}

// OpenPAD loads the PAD model from modelsDir with the ONNX Runtime library
// at ortLib ("" for the installed one).
func OpenPAD(modelsDir, ortLib string) (*PAD, error) {
	s, err := openModel("presentation-attack detector", modelsDir, ortLib, PADModel, PADModelSHA256, []int64{1, 3, padSize, padSize}, []int64{1, 3})
	if err != nil {
		return nil, err
	}
	return &PAD{sess: s}, nil
}

// openModel loads the single-input, single-output ONNX model file of
// modelsDir, checked against sha256 and against the input and output
// shapes the caller feeds and reads; what names it in errors.
func openModel(what, modelsDir, ortLib, file, sha256 string, in, out []int64) (*ort.Session, error) {
	if err := ort.Init(ortLib); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	s, err := ort.Open(filepath.Join(modelsDir, file), sha256, ort.Options{InstallHint: InstallModelsHint})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	ins, outs := s.Inputs(), s.Outputs()
	if len(ins) != 1 || !slices.Equal(ins[0].Shape, in) || len(outs) != 1 || !slices.Equal(outs[0].Shape, out) {
		s.Close()
		return nil, fmt.Errorf("%s %s: want input %v and output %v, got %+v and %+v", what, file, in, out, ins, outs)
	}
	return s, nil
}

// Close releases the model.
func (p *PAD) Close() { p.sess.Close() }

// Scores returns the softmax of the three classes for the face in box of
// img (PADLiveClass is live). Only the crop is converted.
func (p *PAD) Scores(img image.Image, box image.Rectangle) ([3]float64, error) {
	var sc [3]float64
	if box.Dx() < 8 || box.Dy() < 8 {
		return sc, fmt.Errorf("presentation-attack detector: face box %v too small", box)
	}
	b := img.Bounds()
	x0, y0, w, h := padRect(b.Dx(), b.Dy(), box.Sub(b.Min))
	r := image.Rect(int(x0), int(y0), int(math.Ceil(x0+w))+1, int(math.Ceil(y0+h))+1).Add(b.Min).Intersect(b)
	if sub, ok := img.(interface {
		SubImage(image.Rectangle) image.Image
	}); ok {
		img = sub.SubImage(r)
	} else {
		r = b
	}
	off := r.Min.Sub(b.Min)
	crop := toRGB(img).sample(x0-float64(off.X), y0-float64(off.Y), w/padSize, 0, 0, h/padSize, padSize, padSize)
	return p.run(crop)
}

// Live returns the probability that the face in box is live.
func (p *PAD) Live(img image.Image, box image.Rectangle) (float64, error) {
	s, err := p.Scores(img, box)
	return s[PADLiveClass], err
}

// run runs the network on a padSize×padSize crop.
func (p *PAD) run(crop *rgbImage) ([3]float64, error) {
	var sc [3]float64
	const n = padSize * padSize
	data := make([]float32, 3*n)
	for i := range n {
		for c := range 3 {
			data[c*n+i] = float32(crop.Pix[3*i+2-c]) // BGR
		}
	}
	out, err := p.sess.Run(ort.Tensor{Shape: []int64{1, 3, padSize, padSize}, Data: data})
	if err != nil {
		return sc, fmt.Errorf("presentation-attack detector: %w", err)
	}
	v := out[0].Data
	if len(v) != 3 {
		return sc, fmt.Errorf("presentation-attack detector: %d outputs, want 3", len(v))
	}
	m := math.Max(float64(v[0]), math.Max(float64(v[1]), float64(v[2])))
	var sum float64
	for i := range 3 {
		sc[i] = math.Exp(float64(v[i]) - m)
		sum += sc[i]
	}
	for i := range 3 {
		sc[i] /= sum
	}
	return sc, nil
}

// padRect is the model's input crop in a W×H picture: box scaled by
// padScale about its centre (less when the picture is too small), moved
// inside the picture. It is resized to padSize×padSize.
func padRect(W, H int, box image.Rectangle) (x0, y0, w, h float64) {
	bw, bh := float64(box.Dx()), float64(box.Dy())
	s := math.Min(math.Min(float64(H-1)/bh, float64(W-1)/bw), padScale)
	w, h = bw*s, bh*s
	cx, cy := float64(box.Min.X)+bw/2, float64(box.Min.Y)+bh/2
	x0 = math.Max(0, math.Min(cx-w/2, float64(W-1)-w))
	y0 = math.Max(0, math.Min(cy-h/2, float64(H-1)-h))
	return x0, y0, w, h
}
