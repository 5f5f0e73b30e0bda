package face

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"path/filepath"
	"sync"
	"testing"
)

// The exam notice's photo rules, each checked by its refusal code on a
// photo that breaks that rule alone, made from a photo that passes. Each
// case fails if its rule is loosened (a smaller minimum size, a smaller
// minimum file size, grey accepted, a wider aspect tolerance, no head size
// or eye line check).

var goodPhoto struct {
	once sync.Once
	img  *image.RGBA
	err  error
}

// passingPhoto is the kiosk's own ID photo of a fixture portrait: 360×504,
// white background, passing every rule.
func passingPhoto(t *testing.T, e *Engine) *image.RGBA {
	t.Helper()
	f := filepath.Join(facesDir(t), "idphoto", "portrait", "deepface_img11.jpg")
	goodPhoto.once.Do(func() {
		src, err := DecodeImage(readFile(t, f))
		if err != nil {
			goodPhoto.err = err
			return
		}
		jpg, r, err := e.MakeIDPhoto(context.Background(), src, e.Config().Photo)
		if err != nil || !r.OK {
			goodPhoto.err = err
			if err == nil {
				t.Fatalf("the kiosk's photo of %s does not pass: %v", f, codesOf(r.Problems))
			}
			return
		}
		img, err := jpeg.Decode(bytes.NewReader(jpg))
		if err != nil {
			goodPhoto.err = err
			return
		}
		goodPhoto.img = rgbaCopy(img)
	})
	if goodPhoto.err != nil {
		t.Fatal(goodPhoto.err)
	}
	return goodPhoto.img
}

func rgbaCopy(img image.Image) *image.RGBA {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			out.Set(x, y, img.At(b.Min.X+x, b.Min.Y+y))
		}
	}
	return out
}

// warpPhoto makes a w×h image whose pixel (x, y) is src at (a·x + c, a·y + d)
// (bilinear), and the background colour bg outside src.
func warpPhoto(src *image.RGBA, w, h int, a, c, d float64, bg color.RGBA) *image.RGBA {
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			sx, sy := a*(float64(x)+0.5)+c-0.5, a*(float64(y)+0.5)+d-0.5
			x0, y0 := int(sx), int(sy)
			if sx < 0 || sy < 0 || x0+1 >= sw || y0+1 >= sh {
				out.SetRGBA(x, y, bg)
				continue
			}
			fx, fy := sx-float64(x0), sy-float64(y0)
			var px [4]float64
			for _, k := range [4]struct {
				dx, dy int
				w      float64
			}{{0, 0, (1 - fx) * (1 - fy)}, {1, 0, fx * (1 - fy)}, {0, 1, (1 - fx) * fy}, {1, 1, fx * fy}} {
				p := src.RGBAAt(x0+k.dx, y0+k.dy)
				px[0] += k.w * float64(p.R)
				px[1] += k.w * float64(p.G)
				px[2] += k.w * float64(p.B)
			}
			out.SetRGBA(x, y, color.RGBA{uint8(px[0] + 0.5), uint8(px[1] + 0.5), uint8(px[2] + 0.5), 255})
		}
	}
	return out
}

// scalePhoto resizes src to w×h (aspect taken from the width).
func scalePhoto(src *image.RGBA, w, h int) *image.RGBA {
	return warpPhoto(src, w, h, float64(src.Rect.Dx())/float64(w), 0, 0, color.RGBA{255, 255, 255, 255})
}

func encodeQuality(t *testing.T, img image.Image, quality int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: quality}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// padTo appends bytes after the JPEG's end marker (decoders ignore them)
// so the file is exactly n bytes.
func padTo(t *testing.T, jpg []byte, n int) []byte {
	t.Helper()
	if len(jpg) > n {
		t.Fatalf("JPEG of %d bytes is over %d already", len(jpg), n)
	}
	return append(append([]byte(nil), jpg...), make([]byte, n-len(jpg))...)
}

// bigJPEG encodes img at a quality high enough that the file is over 20 KB
// (so the file size rule is not what refuses it).
func bigJPEG(t *testing.T, img image.Image) []byte {
	t.Helper()
	for q := 90; q <= 100; q += 5 {
		if b := encodeQuality(t, img, q); len(b) > 24<<10 {
			return b
		}
	}
	return padTo(t, encodeQuality(t, img, 95), 24<<10)
}

func validateDefault(t *testing.T, e *Engine, jpg []byte) PhotoReport {
	t.Helper()
	r, err := e.ValidatePhoto(jpg, DefaultPhotoSpec())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestPhotoRulesOfTheNotice(t *testing.T) {
	e := testEngine(t)
	good := passingPhoto(t, e)
	white := color.RGBA{255, 255, 255, 255}
	if r := validateDefault(t, e, bigJPEG(t, good)); !r.OK {
		t.Fatalf("the starting photo does not pass: %v", codesOf(r.Problems))
	}

	t.Run("at least 300x420", func(t *testing.T) {
		for _, c := range []struct {
			w, h  int
			small bool
		}{{300, 420, false}, {299, 420, true}, {300, 419, true}, {295, 413, true}, {200, 280, true}} {
			r := validateDefault(t, e, bigJPEG(t, scalePhoto(good, c.w, c.h)))
			if r.Has(CodeTooSmall) != c.small {
				t.Errorf("%dx%d: too_small = %v, want %v (problems %v)", c.w, c.h, r.Has(CodeTooSmall), c.small, codesOf(r.Problems))
			}
		}
	})

	t.Run("more than 20 KB", func(t *testing.T) {
		small := encodeQuality(t, good, 10)
		for _, c := range []struct {
			n     int
			small bool
		}{{20<<10 - 1, true}, {15 << 10, true}, {len(small), true}, {20<<10 + 1, false}, {40 << 10, false}} {
			if c.n < len(small) {
				continue
			}
			r := validateDefault(t, e, padTo(t, small, c.n))
			if r.Has(CodeFileTooSmall) != c.small {
				t.Errorf("%d bytes: file_too_small = %v, want %v", c.n, r.Has(CodeFileTooSmall), c.small)
			}
		}
	})

	t.Run("colour, not black-and-white", func(t *testing.T) {
		grey := image.NewRGBA(good.Rect)
		for i := 0; i+3 < len(good.Pix); i += 4 {
			l := uint8((299*int(good.Pix[i]) + 587*int(good.Pix[i+1]) + 114*int(good.Pix[i+2])) / 1000)
			grey.Pix[i], grey.Pix[i+1], grey.Pix[i+2], grey.Pix[i+3] = l, l, l, 255
		}
		if r := validateDefault(t, e, bigJPEG(t, grey)); !r.Has(CodeNotColour) {
			t.Errorf("black-and-white photo: problems %v, want %s", codesOf(r.Problems), CodeNotColour)
		}
		g := image.NewGray(good.Rect) // a true one-channel JPEG too
		for y := 0; y < good.Rect.Dy(); y++ {
			for x := 0; x < good.Rect.Dx(); x++ {
				g.Set(x, y, good.At(x, y))
			}
		}
		if r := validateDefault(t, e, bigJPEG(t, g)); !r.Has(CodeNotColour) {
			t.Errorf("greyscale JPEG: problems %v, want %s", codesOf(r.Problems), CodeNotColour)
		}
	})

	t.Run("5:7", func(t *testing.T) {
		for _, c := range []struct {
			w, h   int
			aspect bool
		}{{360, 504, false}, {360, 480, true}, {360, 530, true}, {360, 420, true}, {420, 504, true}} {
			// Crop or extend the canvas around the same face: only the
			// frame's shape changes.
			img := warpPhoto(good, c.w, c.h, 1, float64(360-c.w)/2, float64(504-c.h)/2, white)
			r := validateDefault(t, e, bigJPEG(t, img))
			if r.Has(CodeAspect) != c.aspect {
				t.Errorf("%dx%d: aspect = %v, want %v (problems %v)", c.w, c.h, r.Has(CodeAspect), c.aspect, codesOf(r.Problems))
			}
		}
	})

	t.Run("head size", func(t *testing.T) {
		// The same photo with the head at 55 % and at 170 % of its size,
		// around the same centre.
		for _, zoom := range []float64{0.55, 1.7} {
			a := 1 / zoom
			img := warpPhoto(good, 360, 504, a, 180-a*180, 252-a*252, white)
			if r := validateDefault(t, e, bigJPEG(t, img)); !r.Has(CodeHeadSize) {
				t.Errorf("head at %.0f %%: problems %v, want %s", zoom*100, codesOf(r.Problems), CodeHeadSize)
			}
		}
	})

	t.Run("eye line", func(t *testing.T) {
		base := validateDefault(t, e, bigJPEG(t, good))
		if base.EyeLine < 0.30 || base.EyeLine > 0.50 {
			t.Fatalf("starting eye line %.2f", base.EyeLine)
		}
		// Move the picture down (eyes low) and up (eyes high).
		for _, target := range []float64{0.58, 0.22} {
			dy := (base.EyeLine - target) * 504
			r := validateDefault(t, e, bigJPEG(t, warpPhoto(good, 360, 504, 1, 0, dy, white)))
			if !r.Has(CodeEyeLine) {
				t.Errorf("eye line moved to %.2f (measured %.2f): problems %v, want %s", target, r.EyeLine, codesOf(r.Problems), CodeEyeLine)
			}
		}
	})
}

// TestPhotoSpecIsTheNotice: the defaults are the exam notice's numbers, so a
// loosened default fails here even where no photo is at the boundary.
func TestPhotoSpecIsTheNotice(t *testing.T) {
	s := DefaultPhotoSpec()
	if s.MinWidth != 300 || s.MinHeight != 420 || s.MinBytes < 20<<10 || s.Width*7 != s.Height*5 {
		t.Errorf("DefaultPhotoSpec = min %dx%d, min %d bytes, made %dx%d; the notice asks >= 300x420, > 20 KB, 5:7", s.MinWidth, s.MinHeight, s.MinBytes, s.Width, s.Height)
	}
	for _, bg := range s.Backgrounds {
		if bg != BackgroundRed && bg != BackgroundBlue && bg != BackgroundWhite {
			t.Errorf("background %q accepted; the notice allows red, blue, white", bg)
		}
	}
}

// TestDarkPhotoOnce: a photo darker than the notice's light allows is
// refused as too dark, and the code is reported once however many rules
// (the face's light, the whole photo's mean) find it.
func TestDarkPhotoOnce(t *testing.T) {
	e := testEngine(t)
	good := passingPhoto(t, e)
	spec := DefaultPhotoSpec()
	dark := image.NewRGBA(good.Rect)
	var sum float64
	for i := 0; i+3 < len(good.Pix); i += 4 {
		sum += 0.299*float64(good.Pix[i]) + 0.587*float64(good.Pix[i+1]) + 0.114*float64(good.Pix[i+2])
	}
	mean := sum / float64(len(good.Pix)/4)
	k := 0.7 * spec.MinMeanLuma / mean // the mean well under the limit
	for i := 0; i+3 < len(good.Pix); i += 4 {
		for c := range 3 {
			dark.Pix[i+c] = uint8(float64(good.Pix[i+c])*k + 0.5)
		}
		dark.Pix[i+3] = 255
	}
	r := validateDefault(t, e, bigJPEG(t, dark))
	n := 0
	for _, p := range r.Problems {
		if p.Code == CodeTooDark {
			n++
		}
	}
	if n != 1 {
		t.Errorf("photo at %.0f %% of its light (mean luma %.0f, limit %g): too_dark reported %d times, want once (problems %v)",
			k*100, mean*k, spec.MinMeanLuma, n, codesOf(r.Problems))
	}
}
