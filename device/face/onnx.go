package face

import (
	"context"
	"fmt"
	"path/filepath"

	"examkiosk/device/face/ort"
)

// InstallModelsHint is the command that installs the model files and the
// ONNX Runtime library.
const InstallModelsHint = "make models (or: build/setup.sh models)"

// onnxRecognizer runs an ONNX recognition model on faces aligned from
// dlib's five landmarks.
type onnxRecognizer struct {
	model Model
	spec  kindSpec
	sess  *ort.Session
	lm5   *landmarker // dlib's 5-point shape predictor
	// batch1 is set for models whose batch dimension is fixed at 1: the
	// crop and its mirror image then take two runs.
	batch1 bool
}

// newONNXRecognizer starts the runtime (once per process), opens the model
// after checking its SHA-256 and checks that its input and output suit
// its kind.
func newONNXRecognizer(cfg Config, m Model, lm5 *landmarker) (*onnxRecognizer, error) {
	spec := kinds[m.Kind]
	if err := ort.Init(cfg.ONNXRuntime); err != nil {
		return nil, err
	}
	path := filepath.Join(cfg.ModelsDir, m.ID)
	sess, err := ort.Open(path, m.SHA256, ort.Options{IntraOpThreads: cfg.IntraOpThreads, InstallHint: InstallModelsHint})
	if err != nil {
		return nil, err
	}
	r := &onnxRecognizer{model: m, spec: spec, sess: sess, lm5: lm5}
	if err := r.check(); err != nil {
		sess.Close()
		return nil, err
	}
	return r, nil
}

// check refuses a model whose input is not one 112×112 RGB image in the
// kind's layout or whose output is not the kind's descriptor size.
func (r *onnxRecognizer) check() error {
	in, out := r.sess.Inputs(), r.sess.Outputs()
	want := []int64{-1, AlignSize, AlignSize, 3}
	if r.spec.nchw {
		want = []int64{-1, 3, AlignSize, AlignSize}
	}
	fits := func(got []int64) bool {
		if len(got) != len(want) {
			return false
		}
		for i := range got {
			if want[i] >= 0 && got[i] >= 0 && got[i] != want[i] {
				return false
			}
		}
		return true
	}
	if len(in) == 1 && len(in[0].Shape) > 0 {
		r.batch1 = in[0].Shape[0] == 1
	}
	if len(in) != 1 || !in[0].Float32 || !fits(in[0].Shape) {
		return fmt.Errorf("recognition model %s: input %v does not suit kind %s (want one float32 tensor %v)", r.sess.Path(), in, r.model.Kind, want)
	}
	if len(out) < 1 || !out[0].Float32 || len(out[0].Shape) != 2 || out[0].Shape[1] != int64(r.spec.size) {
		var shape []int64
		if len(out) > 0 {
			shape = out[0].Shape
		}
		return fmt.Errorf("recognition model %s: output shape %v is not a %d-D descriptor, which kind %s gives; check face.recognition_model and face.recognition_kind",
			r.sess.Path(), shape, r.spec.size, r.model.Kind)
	}
	return nil
}

func (r *onnxRecognizer) close() { r.sess.Close() }

// describe finds dlib's five landmarks in the face's box, aligns the face
// onto the 112×112 crop, and runs the model.
func (r *onnxRecognizer) describe(ctx context.Context, px *rgbImage, f Face) (Descriptor, error) {
	if err := ctx.Err(); err != nil {
		return Descriptor{}, err
	}
	pts, err := r.lm5.landmarks(px, f.Rect)
	if err != nil {
		return Descriptor{}, fmt.Errorf("compute descriptor: %w", err)
	}
	crop, ok := alignFace(px, toPts(pts))
	if !ok {
		return Descriptor{}, fmt.Errorf("compute descriptor: degenerate landmarks: %w", ErrNoFace)
	}
	return r.embed(crop)
}

// embed runs the model on one aligned crop and its mirror image in one
// batch of two and adds the two embeddings (test-time flip augmentation:
// on ../shared/faces/eastasia it lowers MobileFaceNet's false rejects at
// FAR 0.1 %, docs/BENCHMARKS.md), then L2-normalises the sum.
func (r *onnxRecognizer) embed(crop *rgbImage) (Descriptor, error) {
	const n = AlignSize * AlignSize
	data := make([]float32, 2*3*n)
	shape := []int64{2, AlignSize, AlignSize, 3}
	if r.spec.nchw {
		shape = []int64{2, 3, AlignSize, AlignSize}
	}
	for b := range 2 {
		img := data[b*3*n : (b+1)*3*n]
		for y := range AlignSize {
			for x := range AlignSize {
				sx := x
				if b == 1 {
					sx = AlignSize - 1 - x
				}
				i, si := y*AlignSize+x, y*AlignSize+sx
				for c := range 3 {
					v := (float32(crop.Pix[3*si+c]) - r.spec.mean) * r.spec.scale
					if r.spec.nchw {
						img[c*n+i] = v
					} else {
						img[3*i+c] = v
					}
				}
			}
		}
	}
	var got []float32
	if r.batch1 {
		shape[0] = 1
		for b := range 2 {
			out, err := r.sess.Run(ort.Tensor{Shape: shape, Data: data[b*3*n : (b+1)*3*n]})
			if err != nil {
				return Descriptor{}, fmt.Errorf("compute descriptor: %w", err)
			}
			got = append(got, out[0].Data...)
		}
	} else {
		out, err := r.sess.Run(ort.Tensor{Shape: shape, Data: data})
		if err != nil {
			return Descriptor{}, fmt.Errorf("compute descriptor: %w", err)
		}
		got = out[0].Data
	}
	if len(got) != 2*r.spec.size {
		return Descriptor{}, fmt.Errorf("compute descriptor: %s gave %d values for 2 faces, want %d each", r.model.ID, len(got), r.spec.size)
	}
	vec := make([]float32, r.spec.size)
	for i := range vec {
		vec[i] = got[i] + got[r.spec.size+i]
	}
	l2normalise(vec)
	return Descriptor{Model: r.model.ID, Kind: r.model.Kind, Vec: vec}, nil
}
