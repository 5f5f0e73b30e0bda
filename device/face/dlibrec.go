package face

import (
	"context"
	"fmt"
	"math"
	"slices"

	goface "github.com/Kagami/go-face"
)

// dlibRecognizer computes dlib ResNet descriptors through go-face.
type dlibRecognizer struct {
	g     *goface.Recognizer // owned by the Engine
	model Model
}

func (dlibRecognizer) close() {}

// descriptorFace is the face width, in pixels, crops are scaled to before
// go-face computes a descriptor (its aligned chip is 150 px).
const descriptorFace = 160

// describe computes the descriptor of face f in px: the face is cropped
// with a margin, scaled so the face is about descriptorFace px wide,
// encoded as colour JPEG for go-face, which aligns it with its 5-point
// predictor and runs the network. If go-face's HOG pass misses the face on
// the small crop, its CNN detector is tried on the same crop.
func (r dlibRecognizer) describe(ctx context.Context, px *rgbImage, f Face) (Descriptor, error) {
	if err := ctx.Err(); err != nil {
		return Descriptor{}, err
	}
	p := toPts(f.Landmarks)
	_, _, left, right := headBox(p)
	fw := math.Max(right-left, float64(f.Rect.Dx()))
	c := mid(p[lmNoseTop], p[lmNoseTip])
	const side = 2.2 * descriptorFace
	step := fw / descriptorFace
	crop := px.resample(c.X-side/2*step, c.Y-side/2*step, step, side, side)
	jpg, err := crop.encodeJPEG(95)
	if err != nil {
		return Descriptor{}, err
	}
	faces, err := r.g.Recognize(jpg)
	if err != nil {
		return Descriptor{}, fmt.Errorf("compute descriptor: %w", err)
	}
	if len(faces) == 0 {
		if err := ctx.Err(); err != nil {
			return Descriptor{}, err
		}
		if faces, err = r.g.RecognizeCNN(jpg); err != nil {
			return Descriptor{}, fmt.Errorf("compute descriptor (cnn): %w", err)
		}
	}
	if len(faces) == 0 {
		return Descriptor{}, fmt.Errorf("compute descriptor: %w", ErrNoFace)
	}
	best, bestD := 0, math.Inf(1)
	for i, g := range faces {
		cx := float64(g.Rectangle.Min.X+g.Rectangle.Max.X) / 2
		cy := float64(g.Rectangle.Min.Y+g.Rectangle.Max.Y) / 2
		if d := math.Hypot(cx-side/2, cy-side/2); d < bestD {
			best, bestD = i, d
		}
	}
	return Descriptor{Model: r.model.ID, Kind: KindDlib, Vec: slices.Clone(faces[best].Descriptor[:])}, nil
}
