package face

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
)

// headTarget is where MakeIDPhoto puts the head: its height (crown to
// chin) as a fraction of the photo height, and the crown's distance from
// the top edge.
const (
	headTarget = 0.68
	crownTop   = 0.09
	// maxHeadTarget is the largest head MakeIDPhoto makes to fit a frame
	// that ends close below the chin (PhotoLimits allow up to 0.85).
	maxHeadTarget = 0.78
)

// frameBelow is how far the frame px reaches below the levelled chin line
// at y = chin (levelled about ec by theta): the distance, along the
// levelled vertical, from the chin line to the frame's bottom edge under
// the eye centre.
func frameBelow(px *rgbImage, ec pt, theta, chin float64) float64 {
	// The levelled vertical through ec, in input coordinates, points along
	// (-sin, cos); it leaves the frame at the bottom edge (or a side).
	cos, sin := math.Cos(theta), math.Sin(theta)
	t := (float64(px.H) - ec.Y) / math.Max(cos, 1e-6)
	if sin > 1e-6 {
		t = math.Min(t, ec.X/sin)
	} else if sin < -1e-6 {
		t = math.Min(t, (float64(px.W)-ec.X)/-sin)
	}
	return t - (chin - ec.Y)
}

// overflow is how many pixels the image sampled from m by (x0, y0, ux,
// uy, vx, vy, w, h) (see rgbImage.sample) reaches outside m at most.
func overflow(m *rgbImage, x0, y0, ux, uy, vx, vy float64, w, h int) int {
	over := 0.0
	for _, c := range [][2]float64{{0, 0}, {float64(w), 0}, {0, float64(h)}, {float64(w), float64(h)}} {
		x, y := x0+c[0]*ux+c[1]*vx, y0+c[0]*uy+c[1]*vy
		over = math.Max(over, math.Max(math.Max(-x, x-float64(m.W)), math.Max(-y, y-float64(m.H))))
	}
	return int(math.Ceil(over))
}

// mirrorPad returns m with pad pixels added on every side, mirrored from
// the image (reflection about the edge pixels). With sides false only the
// bottom is mirrored and the rest of the margin is black.
func (m *rgbImage) mirrorPad(pad int, sides bool) *rgbImage {
	w, h := m.W+2*pad, m.H+2*pad
	out := &rgbImage{W: w, H: h, Pix: make([]byte, 3*w*h)}
	reflect := func(i, n int) int {
		if n == 1 {
			return 0
		}
		p := 2 * (n - 1)
		i = ((i % p) + p) % p
		if i >= n {
			i = p - i
		}
		return i
	}
	for y := range h {
		sy := reflect(y-pad, m.H)
		for x := range w {
			if !sides && (y < pad || (y < pad+m.H && (x < pad || x >= pad+m.W))) {
				continue
			}
			sx := reflect(x-pad, m.W)
			copy(out.Pix[3*(y*w+x):3*(y*w+x)+3], m.Pix[3*(sy*m.W+sx):3*(sy*m.W+sx)+3])
		}
	}
	return out
}

// MakeIDPhoto makes an ID photo to spec from img (a live frame or a
// photo): it crops around the largest face at 5:7 with the head size and
// eye line of a standard ID photo, scales to spec.Width×spec.Height and
// encodes a JPEG whose quality is adapted to land between spec.MinBytes
// and spec.MaxBytes. The report is the photo's own validation; the photo
// is returned even when the report is not OK, for the UI to show.
func (e *Engine) MakeIDPhoto(ctx context.Context, img image.Image, spec PhotoSpec) ([]byte, PhotoReport, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if err := spec.Validate(); err != nil {
		return nil, PhotoReport{}, err
	}
	px := toRGB(img)
	faces, err := e.detect(px, false)
	if err != nil {
		return nil, PhotoReport{}, fmt.Errorf("make id photo: %w", err)
	}
	if len(faces) == 0 {
		return nil, PhotoReport{}, fmt.Errorf("make id photo: %w", ErrNoFace)
	}
	if people(faces, spec.Face) > 1 {
		return nil, PhotoReport{}, fmt.Errorf("make id photo: %w", ErrMultipleFaces)
	}
	// Level the eyes: rotate about the eye centre by the roll, then place
	// the head as in a standard ID photo.
	p := toPts(faces[0].Landmarks)
	le, re := mid(p[36:42]...), mid(p[42:48]...)
	theta := math.Atan2(re.Y-le.Y, re.X-le.X)
	cos, sin := math.Cos(theta), math.Sin(theta)
	ec := mid(le, re)
	lev := make([]pt, len(p)) // landmarks in the levelled frame
	for i, q := range p {
		dx, dy := q.X-ec.X, q.Y-ec.Y
		lev[i] = pt{ec.X + dx*cos + dy*sin, ec.Y - dx*sin + dy*cos}
	}
	top, bottom, left, right := headBox(lev)
	// A webcam frame often ends at the chest: below the chin the photo
	// needs (1−crownTop−head)/head head heights of picture. When the frame
	// has less, the head is made larger (up to maxHeadTarget, inside the
	// spec's head size) so that the photo needs less.
	head := headTarget
	if below := frameBelow(px, ec, theta, bottom); below < (1-crownTop-head)/head*(bottom-top) {
		need := (1 - crownTop) * (bottom - top) / (below + (bottom - top))
		head = min(max(need, headTarget), maxHeadTarget)
	}
	step := (bottom - top) / (head * float64(spec.Height))
	cx := (left + right) / 2
	// Output (u, v) ↦ levelled point (lx, ly) ↦ input by rotating back.
	lx0 := cx - float64(spec.Width)/2*step
	ly0 := top - crownTop*float64(spec.Height)*step
	dx, dy := lx0-ec.X, ly0-ec.Y
	x0 := ec.X + dx*cos - dy*sin
	y0 := ec.Y + dx*sin + dy*cos
	// Whatever still falls outside the frame is mirrored in from its edge
	// (clothes continue as clothes), not smeared from the last row.
	pad := overflow(px, x0, y0, step*cos, step*sin, -step*sin, step*cos, spec.Width, spec.Height) + 2
	crop := func(m *rgbImage, sides bool) *rgbImage {
		return m.mirrorPad(pad, sides).sample(x0+float64(pad), y0+float64(pad), step*cos, step*sin, -step*sin, step*cos, spec.Width, spec.Height)
	}
	out := crop(px, true)
	if spec.MakeBackground != "" {
		if e.seg == nil {
			return nil, PhotoReport{}, fmt.Errorf("make id photo: make_background %q needs the segmentation model %s, which the engine did not load", spec.MakeBackground, spec.SegmentationModel)
		}
		// The model sees the whole frame (a person in a room, as it was
		// trained on), and its mask is cropped the way the photo is.
		mask, err := e.seg.personMask(px)
		if err != nil {
			return nil, PhotoReport{}, fmt.Errorf("make id photo: %w", err)
		}
		// Above and beside the frame is room (mask 0), below it the
		// mirrored body continues.
		replaceBackground(out, crop(maskImage(mask, px.W, px.H), false), backgroundRGB[spec.MakeBackground])
	}
	jpg, err := encodeWithin(ctx, out, spec.MinBytes, spec.MaxBytes)
	if err != nil {
		return nil, PhotoReport{}, fmt.Errorf("make id photo: %w", err)
	}
	r := PhotoReport{Problems: []Problem{}, Bytes: len(jpg), Format: "jpeg"}
	checkFileSize(&r, len(jpg), spec)
	dec, err := DecodeImage(jpg)
	if err != nil {
		return nil, PhotoReport{}, fmt.Errorf("make id photo: re-read: %w", err)
	}
	checkPhoto(&r, toRGB(dec), spec, e.photoFaces)
	return jpg, r, nil
}

// encodeWithin searches the JPEG quality (binary search over 40..100) for
// the highest quality whose size is at most maxBytes; when even quality
// 100 stays below minBytes the smallest result above it is impossible and
// the quality-100 encoding is returned for the report to refuse.
func encodeWithin(ctx context.Context, px *rgbImage, minBytes, maxBytes int) ([]byte, error) {
	lo, hi := 40, 100
	var best []byte
	for lo <= hi {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		q := (lo + hi) / 2
		b, err := px.encodeJPEG(q)
		if err != nil {
			return nil, err
		}
		if len(b) <= maxBytes {
			best = b
			if len(b) >= minBytes && q >= 92 {
				break // good enough: high quality, within bounds
			}
			lo = q + 1
		} else {
			hi = q - 1
		}
	}
	if best == nil {
		return px.encodeJPEG(40)
	}
	return best, nil
}

// Verification is the comparison of an ID photo with the live face.
type Verification struct {
	Distance  float64   `json:"distance"`
	Threshold float64   `json:"threshold"`
	Match     bool      `json:"match"`
	Problems  []Problem `json:"problems"`
}

// VerifyPhoto compares the face in an ID photo with a live descriptor
// (usually Capture.Descriptor). A mismatch is reported as face_mismatch.
func (e *Engine) VerifyPhoto(ctx context.Context, live Descriptor, photo []byte) (Verification, error) {
	v := Verification{Threshold: e.threshold, Problems: []Problem{}}
	img, err := DecodeImage(photo)
	if err != nil {
		v.Problems = append(v.Problems, problem(CodeCorrupt, 0, err.Error()))
		return v, nil
	}
	d, _, err := e.Descriptor(ctx, img)
	if errors.Is(err, ErrNoFace) {
		v.Problems = append(v.Problems, problem(CodeNoFace, 0, "one face"))
		return v, nil
	}
	if err != nil {
		return v, fmt.Errorf("verify photo: %w", err)
	}
	if v.Distance, err = Distance(live, d); err != nil {
		return v, fmt.Errorf("verify photo: %w", err)
	}
	v.Match = v.Distance <= e.threshold
	if !v.Match {
		v.Problems = append(v.Problems, problem(CodeFaceMismatch, v.Distance, fmt.Sprintf("<= %g", e.threshold)))
	}
	return v, nil
}
