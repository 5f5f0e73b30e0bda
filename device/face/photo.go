package face

import (
	"bytes"
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
	return validatePhoto(data, spec, e.photoFaces), nil
}

// faceFinder finds the faces of a photo, largest first, with their
// landmarks. The engine's is Engine.photoFaces (dlib); the photo rules
// take it as a parameter so that their tests can run them on faces
// recorded from it, without dlib.
type faceFinder func(px *rgbImage) ([]Face, error)

// photoFaces is the engine's faceFinder: detection tuned for photos.
func (e *Engine) photoFaces(px *rgbImage) ([]Face, error) { return e.detect(px, false) }

// validatePhoto applies every rule of spec to the file data, finding its
// faces with find.
func validatePhoto(data []byte, spec PhotoSpec, find faceFinder) PhotoReport {
	r := PhotoReport{Problems: []Problem{}, Bytes: len(data)}
	img, err := DecodeImage(data)
	if err != nil {
		r.add(CodeCorrupt, 0, err.Error())
		return r
	}
	_, r.Format, _ = image.DecodeConfig(bytes.NewReader(data))
	if r.Format != "jpeg" {
		r.add(CodeNotJPEG, 0, "jpeg")
	}
	checkFileSize(&r, len(data), spec)
	checkPhoto(&r, toRGB(img), spec, find)
	return r
}

// checkFileSize applies the file size rule of spec to a file of n bytes.
func checkFileSize(r *PhotoReport, n int, spec PhotoSpec) {
	switch {
	case n < spec.MinBytes:
		r.add(CodeFileTooSmall, float64(n), fmt.Sprintf(">= %d bytes", spec.MinBytes))
	case n > spec.MaxBytes:
		r.add(CodeFileTooLarge, float64(n), fmt.Sprintf("<= %d bytes", spec.MaxBytes))
	}
}

// checkPhoto applies the image rules of spec to px, whose faces find
// finds.
func checkPhoto(r *PhotoReport, px *rgbImage, spec PhotoSpec, find faceFinder) {
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
	faces, err := find(px)
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
