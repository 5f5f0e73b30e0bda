package face

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"path/filepath"
	"slices"

	"examkiosk/exam"
)

// PhotoSpec is the exam's ID photo specification. The exam notice asks for
// a recent, bareheaded, frontal colour photo on a red, blue or white
// background, JPEG, more than 20 KB, at least 300×420 pixels.
type PhotoSpec struct {
	// Width and Height are the size of photos the kiosk makes (5:7).
	Width  int `toml:"width"`
	Height int `toml:"height"`
	// MinWidth and MinHeight are the smallest accepted photo.
	MinWidth  int `toml:"min_width"`
	MinHeight int `toml:"min_height"`
	// MinBytes and MaxBytes bound the JPEG file size.
	MinBytes int `toml:"min_bytes"`
	MaxBytes int `toml:"max_bytes"`
	// Backgrounds lists the accepted background colours: red, blue, white.
	Backgrounds []string `toml:"backgrounds"`
	// MaxBackgroundStd is the largest standard deviation of the
	// background's luma (0..255) that still counts as plain.
	MaxBackgroundStd float64 `toml:"max_background_std"`
	// MinEyeLine and MaxEyeLine bound the eye line, from the top, as a
	// fraction of the photo height.
	MinEyeLine float64 `toml:"min_eye_line"`
	MaxEyeLine float64 `toml:"max_eye_line"`
	// MinMeanLuma is the smallest mean luma (0..255) of the whole photo;
	// darker photos are refused as too dark even when the face is lit.
	MinMeanLuma float64 `toml:"min_mean_luma"`
	// AspectTolerance is the accepted relative deviation from 5:7.
	AspectTolerance float64 `toml:"aspect_tolerance"`
	// Face holds the face checks (pose, light, head size …).
	Face Limits `toml:"face"`
	// MakeBackground is the plain colour (red, blue or white, one of
	// Backgrounds) that photos the kiosk makes are put on: the person is
	// segmented from the room and the rest replaced, so a kiosk need not
	// stand before a plain wall. "" keeps the room as the camera sees it.
	// Photos validated as given (ValidatePhoto) are never altered.
	MakeBackground string `toml:"make_background"`
	// SegmentationModel is the person segmentation model file (in the
	// models directory) used when MakeBackground is set.
	SegmentationModel string `toml:"segmentation_model"`
}

// Background colour names.
const (
	BackgroundRed   = exam.BackgroundRed
	BackgroundBlue  = exam.BackgroundBlue
	BackgroundWhite = exam.BackgroundWhite
)

// DefaultPhotoSpec is the spec of the exam notice with the kiosk's
// output size of 360×504.
func DefaultPhotoSpec() PhotoSpec {
	return PhotoSpec{
		Width: 360, Height: 504, MinWidth: exam.PhotoMinWidth, MinHeight: exam.PhotoMinHeight,
		MinBytes: exam.PhotoMinBytes, MaxBytes: 200 * 1024,
		Backgrounds:      exam.PhotoBackgrounds(),
		MaxBackgroundStd: 16,
		MinEyeLine:       0.30, MaxEyeLine: 0.50,
		MinMeanLuma:       50,
		AspectTolerance:   0.04,
		Face:              PhotoLimits(),
		MakeBackground:    BackgroundWhite,
		SegmentationModel: SegmentationModel,
	}
}

// Validate checks the spec and names the offending key.
func (s PhotoSpec) Validate() error {
	var errs []error
	bad := func(key, want string, got any) {
		errs = append(errs, fmt.Errorf("face.photo.%s: want %s, got %v", key, want, got))
	}
	if s.MinWidth < exam.PhotoMinWidth || s.MinHeight < exam.PhotoMinHeight {
		bad("min_width/min_height", fmt.Sprintf("at least the notice's %dx%d", exam.PhotoMinWidth, exam.PhotoMinHeight), fmt.Sprintf("%dx%d", s.MinWidth, s.MinHeight))
	}
	if s.Width < s.MinWidth || s.Height < s.MinHeight || s.Width > 4000 || s.Height > 5600 {
		bad("width/height", fmt.Sprintf("at least %dx%d and at most 4000x5600", s.MinWidth, s.MinHeight), fmt.Sprintf("%dx%d", s.Width, s.Height))
	}
	if s.Width > 0 && math.Abs(float64(s.Width*7)/float64(s.Height*5)-1) > 0.01 {
		bad("width/height", "the 5:7 aspect ratio (e.g. 360x504)", fmt.Sprintf("%dx%d", s.Width, s.Height))
	}
	if s.MinBytes < exam.PhotoMinBytes {
		bad("min_bytes", fmt.Sprintf("at least the notice's %d bytes (more than 20 KB)", exam.PhotoMinBytes), s.MinBytes)
	}
	if s.MaxBytes < s.MinBytes+10*1024 {
		bad("max_bytes", fmt.Sprintf("at least min_bytes + 10240 (%d)", s.MinBytes+10*1024), s.MaxBytes)
	}
	if len(s.Backgrounds) == 0 {
		bad("backgrounds", "a non-empty list of red, blue, white", s.Backgrounds)
	}
	for _, b := range s.Backgrounds {
		if b != BackgroundRed && b != BackgroundBlue && b != BackgroundWhite {
			bad("backgrounds", "only red, blue or white", b)
		}
	}
	if s.MaxBackgroundStd <= 0 || s.MaxBackgroundStd > 80 {
		bad("max_background_std", "0..80", s.MaxBackgroundStd)
	}
	if !(s.MinEyeLine > 0 && s.MinEyeLine < s.MaxEyeLine && s.MaxEyeLine < 1) {
		bad("min_eye_line/max_eye_line", "0 < min < max < 1", fmt.Sprintf("%g/%g", s.MinEyeLine, s.MaxEyeLine))
	}
	if s.MinMeanLuma < 0 || s.MinMeanLuma > 200 {
		bad("min_mean_luma", "0..200", s.MinMeanLuma)
	}
	if s.AspectTolerance < 0 || s.AspectTolerance > 0.5 {
		bad("aspect_tolerance", "0..0.5", s.AspectTolerance)
	}
	if s.MakeBackground != "" {
		if !slices.Contains(s.Backgrounds, s.MakeBackground) {
			bad("make_background", fmt.Sprintf("one of backgrounds %v, or \"\" to keep the room", s.Backgrounds), fmt.Sprintf("%q", s.MakeBackground))
		}
		if s.SegmentationModel == "" || filepath.Base(s.SegmentationModel) != s.SegmentationModel {
			bad("segmentation_model", "a file name inside models_dir (needed by make_background)", fmt.Sprintf("%q", s.SegmentationModel))
		}
	}
	if err := s.Face.validate("face.photo.face"); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// PhotoReport is the verdict on a photo: every rule it breaks.
type PhotoReport struct {
	OK         bool      `json:"ok"`
	Problems   []Problem `json:"problems"`
	Width      int       `json:"width"`
	Height     int       `json:"height"`
	Bytes      int       `json:"bytes"`
	Format     string    `json:"format,omitempty"`
	Background string    `json:"background"` // red, blue, white, or what else it looks like
	// BackgroundStd is the background's luma standard deviation.
	BackgroundStd float64 `json:"background_std"`
	// EyeLine is the eye line from the top as a fraction of the height.
	EyeLine float64 `json:"eye_line,omitempty"`
	Faces   int     `json:"faces"`
	Face    *Face   `json:"face,omitempty"`
}

// Has reports whether the report lists the code c.
func (r PhotoReport) Has(c Code) bool {
	return slices.ContainsFunc(r.Problems, func(p Problem) bool { return p.Code == c })
}

func (r *PhotoReport) add(c Code, v float64, lim string) {
	r.Problems = append(r.Problems, problem(c, v, lim))
}

// ValidatePhoto checks an ID photo file against spec and reports every
// rule it breaks. Data that cannot be decoded gives a report with the
// corrupt problem; the error is only for a closed engine.
func (e *Engine) ValidatePhoto(data []byte, spec PhotoSpec) (PhotoReport, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.lm == nil {
		return PhotoReport{}, ErrClosed
	}
	r := PhotoReport{Problems: []Problem{}, Bytes: len(data)}
	img, err := DecodeImage(data)
	if err != nil {
		r.add(CodeCorrupt, 0, err.Error())
		return r, nil
	}
	_, r.Format, _ = image.DecodeConfig(bytes.NewReader(data))
	if r.Format != "jpeg" {
		r.add(CodeNotJPEG, 0, "jpeg")
	}
	switch {
	case len(data) < spec.MinBytes:
		r.add(CodeFileTooSmall, float64(len(data)), fmt.Sprintf(">= %d bytes", spec.MinBytes))
	case len(data) > spec.MaxBytes:
		r.add(CodeFileTooLarge, float64(len(data)), fmt.Sprintf("<= %d bytes", spec.MaxBytes))
	}
	e.checkPhoto(&r, toRGB(img), spec)
	return r, nil
}

// checkPhoto applies the image rules of spec to px.
func (e *Engine) checkPhoto(r *PhotoReport, px *rgbImage, spec PhotoSpec) {
	r.Width, r.Height = px.W, px.H
	if px.W < spec.MinWidth || px.H < spec.MinHeight {
		r.add(CodeTooSmall, float64(px.W*px.H), fmt.Sprintf(">= %dx%d", spec.MinWidth, spec.MinHeight))
	}
	if math.Abs(float64(px.W*7)/float64(px.H*5)-1) > spec.AspectTolerance {
		r.add(CodeAspect, float64(px.W)/float64(px.H), "5:7")
	}
	if grey(px) {
		r.add(CodeNotColour, 0, "colour")
	}
	faces, err := e.detect(px, false)
	if err != nil {
		r.add(CodeCorrupt, 0, err.Error())
		return
	}
	g := assess(px, faces, spec.Face, image.Rect(0, 0, px.W, px.H), false)
	r.Faces = g.Faces
	r.Face = g.Face
	for _, p := range g.Problems {
		if p.Code == CodeTooFar || p.Code == CodeTooClose {
			// A photo has no "come closer": its head is the wrong size.
			p.Code = CodeHeadSize
		}
		r.Problems = append(r.Problems, p)
	}
	if ml := meanLuma(px); ml < spec.MinMeanLuma && !r.Has(CodeTooDark) {
		r.add(CodeTooDark, ml, fmt.Sprintf("mean luma >= %g", spec.MinMeanLuma))
	}
	var head headRegion
	if g.Face != nil {
		p := toPts(g.Face.Landmarks)
		head.top, head.bottom, head.left, head.right = headBox(p)
		eye := mid(mid(p[36:42]...), mid(p[42:48]...)).Y / float64(px.H)
		r.EyeLine = eye
		if eye < spec.MinEyeLine || eye > spec.MaxEyeLine {
			r.add(CodeEyeLine, eye, fmt.Sprintf("%g..%g", spec.MinEyeLine, spec.MaxEyeLine))
		}
	} else {
		head = headRegion{top: 0.1 * float64(px.H), bottom: float64(px.H), left: 0.25 * float64(px.W), right: 0.75 * float64(px.W)}
	}
	r.Background, r.BackgroundStd = background(px, head)
	if !slices.Contains(spec.Backgrounds, r.Background) || r.BackgroundStd > spec.MaxBackgroundStd {
		r.add(CodeBackground, r.BackgroundStd, fmt.Sprintf("plain %v, std <= %g", spec.Backgrounds, spec.MaxBackgroundStd))
	}
	r.OK = len(r.Problems) == 0
}

// meanLuma is the mean luma of px (sampled).
func meanLuma(px *rgbImage) float64 {
	var s float64
	n := 0
	for i := 0; i+2 < len(px.Pix); i += 3 * 5 {
		s += 0.299*float64(px.Pix[i]) + 0.587*float64(px.Pix[i+1]) + 0.114*float64(px.Pix[i+2])
		n++
	}
	if n == 0 {
		return 0
	}
	return s / float64(n)
}

// grey reports whether px carries (almost) no colour.
func grey(px *rgbImage) bool {
	var s float64
	n := 0
	for i := 0; i < len(px.Pix); i += 3 * 7 {
		r, g, b := float64(px.Pix[i]), float64(px.Pix[i+1]), float64(px.Pix[i+2])
		s += math.Max(r, math.Max(g, b)) - math.Min(r, math.Min(g, b))
		n++
	}
	return n > 0 && s/float64(n) < 3
}

type headRegion struct{ top, bottom, left, right float64 }

// background samples the photo above the head and beside it (down to the
// eyes, clear of the head), takes the per-channel median as the background
// colour and measures how plain it is on the samples near that colour:
// hair or shoulders reaching into the sampled area are left out, but if
// fewer than minBackgroundShare of the samples agree the background is
// not plain (std reports 255).
func background(px *rgbImage, h headRegion) (name string, std float64) {
	W, H := float64(px.W), float64(px.H)
	hw := h.right - h.left
	margin := 0.25 * hw
	var rs, gs, bs []float64
	sample := func(x0, y0, x1, y1 float64) {
		x0, y0 = math.Max(x0, 0), math.Max(y0, 0)
		x1, y1 = math.Min(x1, W), math.Min(y1, H)
		if x1-x0 < 2 || y1-y0 < 2 {
			return
		}
		const k = 24
		for i := range k {
			for j := range k {
				r, g, b := px.at(int(x0+(x1-x0)*(float64(j)+0.5)/k), int(y0+(y1-y0)*(float64(i)+0.5)/k))
				rs, gs, bs = append(rs, float64(r)), append(gs, float64(g)), append(bs, float64(b))
			}
		}
	}
	crown := h.top - 0.1*hw
	eyes := h.top + 0.45*(h.bottom-h.top)
	sample(0, 0, W, crown)                              // above the head
	sample(0, math.Max(crown, 0), h.left-margin, eyes)  // left of the head
	sample(h.right+margin, math.Max(crown, 0), W, eyes) // right of the head
	n := len(rs)
	if n == 0 {
		return "unknown", 255
	}
	mr, mg, mb := median(rs), median(gs), median(bs)
	var sy, sy2 float64
	in := 0
	for i := range n {
		if math.Max(math.Abs(rs[i]-mr), math.Max(math.Abs(gs[i]-mg), math.Abs(bs[i]-mb))) > backgroundOutlier {
			continue
		}
		y := 0.299*rs[i] + 0.587*gs[i] + 0.114*bs[i]
		sy, sy2 = sy+y, sy2+y*y
		in++
	}
	if float64(in) < minBackgroundShare*float64(n) {
		return colourName(mr, mg, mb), 255
	}
	fn := float64(in)
	return colourName(mr, mg, mb), math.Sqrt(math.Max(sy2/fn-(sy/fn)*(sy/fn), 0))
}

// A background sample further than backgroundOutlier (per channel) from
// the median colour is something else (hair, shoulder); at least
// minBackgroundShare of the samples must be background.
const (
	backgroundOutlier  = 40
	minBackgroundShare = 0.75
)

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// colourName classifies a mean background colour.
func colourName(r, g, b float64) string {
	mx := math.Max(r, math.Max(g, b))
	mn := math.Min(r, math.Min(g, b))
	sat := 0.0
	if mx > 0 {
		sat = (mx - mn) / mx
	}
	var hue float64
	switch {
	case mx == mn:
	case mx == r:
		hue = math.Mod((g-b)/(mx-mn)*60+360, 360)
	case mx == g:
		hue = (b-r)/(mx-mn)*60 + 120
	default:
		hue = (r-g)/(mx-mn)*60 + 240
	}
	switch {
	case sat < 0.12 && mx >= 205:
		return BackgroundWhite
	case sat >= 0.35 && mx >= 90 && (hue < 20 || hue >= 340):
		return BackgroundRed
	case sat >= 0.30 && mx >= 90 && hue >= 190 && hue < 250:
		return BackgroundBlue
	case sat < 0.12 && mx < 70:
		return "black"
	case sat < 0.12:
		return "grey"
	}
	return "other"
}

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
	switch {
	case len(jpg) < spec.MinBytes:
		r.add(CodeFileTooSmall, float64(len(jpg)), fmt.Sprintf(">= %d bytes", spec.MinBytes))
	case len(jpg) > spec.MaxBytes:
		r.add(CodeFileTooLarge, float64(len(jpg)), fmt.Sprintf("<= %d bytes", spec.MaxBytes))
	}
	dec, err := DecodeImage(jpg)
	if err != nil {
		return nil, PhotoReport{}, fmt.Errorf("make id photo: re-read: %w", err)
	}
	e.checkPhoto(&r, toRGB(dec), spec)
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
