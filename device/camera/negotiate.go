package camera

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// SizeRange is a frame size a device offers: a discrete size (Min == Max,
// steps 0) or a stepwise range, as VIDIOC_ENUM_FRAMESIZES reports them.
type SizeRange struct {
	MinWidth, MaxWidth, StepWidth    int
	MinHeight, MaxHeight, StepHeight int
}

// Discrete returns a SizeRange holding the single size w×h.
func Discrete(w, h int) SizeRange {
	return SizeRange{MinWidth: w, MaxWidth: w, MinHeight: h, MaxHeight: h}
}

func (s SizeRange) String() string {
	if s.MinWidth == s.MaxWidth && s.MinHeight == s.MaxHeight {
		return fmt.Sprintf("%dx%d", s.MaxWidth, s.MaxHeight)
	}
	return fmt.Sprintf("[%d-%d/%d]x[%d-%d/%d]", s.MinWidth, s.MaxWidth, s.StepWidth, s.MinHeight, s.MaxHeight, s.StepHeight)
}

// contains reports whether w×h is one of the sizes in the range.
func (s SizeRange) contains(w, h int) bool {
	in := func(v, lo, hi, step int) bool {
		if v < lo || v > hi {
			return false
		}
		return step <= 1 || (v-lo)%step == 0
	}
	return in(w, s.MinWidth, s.MaxWidth, s.StepWidth) && in(h, s.MinHeight, s.MaxHeight, s.StepHeight)
}

// FormatCaps is what a device offers for one pixel format.
type FormatCaps struct {
	Format      PixelFormat `json:"format"`
	Description string      `json:"description"`
	Sizes       []SizeCaps  `json:"sizes"`
}

// SizeCaps is one frame size (or range) and the frame rates offered at it;
// an empty Rates means the device did not say.
type SizeCaps struct {
	Size  SizeRange `json:"size"`
	Rates []float64 `json:"rates,omitempty"`
}

// ErrNoFormat means the device offers none of the acceptable pixel formats.
var ErrNoFormat = errors.New("no acceptable pixel format")

// Negotiate picks the capture mode from what a device offers. Pixel formats
// are tried in cfg.Formats order (MJPEG first by default, then YUYV); the
// first offered format wins. Within it the size is cfg.Width×cfg.Height
// when offered, else the smallest offered size at least that large with the
// closest aspect ratio, else the largest smaller one. The rate is cfg.FPS
// when offered, else the lowest offered rate above it, else the highest.
func Negotiate(caps []FormatCaps, cfg Config) (Mode, error) {
	var offered []string
	for _, fc := range caps {
		offered = append(offered, fc.Format.String())
	}
	for _, name := range cfg.Formats {
		want, err := ParsePixelFormat(strings.ToUpper(name))
		if err != nil {
			return Mode{}, err
		}
		for _, fc := range caps {
			if fc.Format != want && !(want == FormatMJPEG && fc.Format == FormatJPEG) {
				continue
			}
			if len(fc.Sizes) == 0 {
				continue
			}
			sc, w, h := pickSize(fc.Sizes, cfg.Width, cfg.Height)
			return Mode{Format: fc.Format, Width: w, Height: h, FPS: pickRate(sc.Rates, cfg.FPS)}, nil
		}
	}
	return Mode{}, fmt.Errorf("%w: device offers [%s], configuration accepts [%s]",
		ErrNoFormat, strings.Join(offered, " "), strings.Join(cfg.Formats, " "))
}

func pickSize(sizes []SizeCaps, w, h int) (SizeCaps, int, int) {
	for _, s := range sizes {
		if s.Size.contains(w, h) {
			return s, w, h
		}
	}
	// Candidates: each discrete size, or the clamp of w×h into a range.
	type cand struct {
		sc   SizeCaps
		w, h int
	}
	var cs []cand
	for _, s := range sizes {
		r := s.Size
		cw, ch := r.MaxWidth, r.MaxHeight
		if r.MinWidth != r.MaxWidth || r.MinHeight != r.MaxHeight {
			cw = snap(w, r.MinWidth, r.MaxWidth, r.StepWidth)
			ch = snap(h, r.MinHeight, r.MaxHeight, r.StepHeight)
		}
		cs = append(cs, cand{s, cw, ch})
	}
	want := float64(w) / float64(h)
	best := -1
	better := func(a, b cand) bool { // is a better than b?
		aBig, bBig := a.w >= w && a.h >= h, b.w >= w && b.h >= h
		if aBig != bBig {
			return aBig
		}
		da := math.Abs(float64(a.w)/float64(a.h) - want)
		db := math.Abs(float64(b.w)/float64(b.h) - want)
		if math.Abs(da-db) > 0.01 {
			return da < db
		}
		if aBig {
			return a.w*a.h < b.w*b.h
		}
		return a.w*a.h > b.w*b.h
	}
	for i := range cs {
		if best < 0 || better(cs[i], cs[best]) {
			best = i
		}
	}
	return cs[best].sc, cs[best].w, cs[best].h
}

func snap(v, lo, hi, step int) int {
	if step < 1 {
		step = 1
	}
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	r := lo + (v-lo+step-1)/step*step
	if r > hi {
		r -= step
	}
	return r
}

func pickRate(rates []float64, want float64) float64 {
	if len(rates) == 0 {
		return want
	}
	best := -1.0
	for _, r := range rates {
		if math.Abs(r-want) < 0.01 {
			return r
		}
		if r > want && (best < want || r < best) {
			best = r
		}
	}
	if best > want {
		return best
	}
	for _, r := range rates {
		best = max(best, r)
	}
	return best
}
