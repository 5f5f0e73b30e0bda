package face

import (
	"bytes"
	"image/png"
	"math"
	"slices"
	"strings"
	"testing"
)

// The photo rules on recorded detections and synthetic pixels: no dlib, no
// ../shared/faces. These are the tests `make mutation` runs against
// photo.go (^TestRules).

// madePortrait is the kiosk's own ID photo of a fixture portrait as
// detection saw it: 360×504, one frontal face, every rule passed.
const madePortrait = "made:idphoto/portrait/deepface_img11.jpg"

// portrait returns the recorded faces of the made portrait and its size.
func portrait(t *testing.T) (w, h int, faces []Face) {
	t.Helper()
	p := recordedPhotoNamed(t, madePortrait)
	if len(p.Codes) != 0 || len(p.Faces) != 1 {
		t.Fatalf("%s: recorded with problems %v and %d faces", madePortrait, p.Codes, len(p.Faces))
	}
	return p.W, p.H, p.faces()
}

func TestRulesSyntheticPortraitPasses(t *testing.T) {
	w, h, faces := portrait(t)
	r := check(t, synthPhoto(w, h, white, faces), DefaultPhotoSpec(), faces)
	if !r.OK || len(r.Problems) != 0 {
		t.Fatalf("synthetic portrait refused: %+v", r.Problems)
	}
	t.Logf("%+v %+v", r, r.Face.Measures)
}

// landmarkCodes are the codes a photo's landmarks alone decide (with its
// size): the synthetic pixels drawn around recorded landmarks must give
// exactly the codes the real photo gave.
var landmarkCodes = []Code{
	CodeTooSmall, CodeAspect, CodeNoFace, CodeMultipleFaces, CodeFaceIncomplete, CodeHeadSize,
	CodeOffCenter, CodeHeadTurned, CodeHeadTilted, CodeHeadUpDown, CodeEyeLine,
}

// TestRulesOnRecordedPhotos: for every recorded fixture photo (the ID-photo
// set, the kiosk's photos made from its portraits and the 76 photos of the
// verification set), the rules decided by the landmarks (size, 5:7, faces,
// head size, placement, pose, eye line) give on the recorded detections
// the codes the whole pipeline gave on the real photo.
func TestRulesOnRecordedPhotos(t *testing.T) {
	spec := DefaultPhotoSpec()
	n := 0
	for _, p := range recordedPhotos(t) {
		if p.Codes == nil && p.W == 0 {
			continue // does not decode
		}
		n++
		faces := p.faces()
		// Small photos are drawn at their size; a large one on a canvas
		// of the same size too (the rules sample it).
		px := synthPhoto(p.W, p.H, white, faces)
		r := check(t, px, spec, faces)
		var got, want []Code
		for _, c := range landmarkCodes {
			if r.Has(c) {
				got = append(got, c)
			}
			if slices.Contains(p.Codes, c) {
				want = append(want, c)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: landmark codes %v, the real photo gave %v", p.Name, got, want)
		}
		if r.Faces != people(faces, spec.Face) {
			t.Errorf("%s: %d faces reported, %d people", p.Name, r.Faces, people(faces, spec.Face))
		}
	}
	if n < 90 {
		t.Errorf("only %d recorded photos", n)
	}
}

// problemOf returns the problem with code c in r.
func problemOf(t *testing.T, r PhotoReport, c Code) Problem {
	t.Helper()
	for _, p := range r.Problems {
		if p.Code == c {
			return p
		}
	}
	t.Fatalf("no %s in %v", c, codesOf(r.Problems))
	return Problem{}
}

// scaled is the portrait scaled to w×h (landmarks and pixels).
func scaled(t *testing.T, w, h int) (*rgbImage, []Face) {
	pw, ph, faces := portrait(t)
	sx, sy := float64(w)/float64(pw), float64(h)/float64(ph)
	f := mapFaces(faces, func(p pt) pt { return pt{p.X * sx, p.Y * sy} })
	return synthPhoto(w, h, white, f), f
}

// TestRulesMinimumSize: at least 300×420 pixels (the notice), each side on
// its own; the refusal gives the pixel count and the limit.
func TestRulesMinimumSize(t *testing.T) {
	spec := DefaultPhotoSpec()
	for _, c := range []struct {
		w, h  int
		small bool
	}{{300, 420, false}, {299, 420, true}, {300, 419, true}, {200, 280, true}, {360, 504, false}} {
		px, faces := scaled(t, c.w, c.h)
		r := check(t, px, spec, faces)
		if r.Has(CodeTooSmall) != c.small {
			t.Errorf("%dx%d: too_small = %v, want %v (%v)", c.w, c.h, r.Has(CodeTooSmall), c.small, codesOf(r.Problems))
			continue
		}
		if r.Width != c.w || r.Height != c.h {
			t.Errorf("%dx%d: reported as %dx%d", c.w, c.h, r.Width, r.Height)
		}
		if c.small {
			p := problemOf(t, r, CodeTooSmall)
			if p.Value != float64(c.w*c.h) || p.Limit != ">= 300x420" {
				t.Errorf("%dx%d: %+v, want value %d, limit >= 300x420", c.w, c.h, p, c.w*c.h)
			}
			if r.OK {
				t.Errorf("%dx%d: OK with a problem", c.w, c.h)
			}
		} else if c.w == 300 && !r.OK {
			t.Errorf("300x420 refused: %v", codesOf(r.Problems))
		}
	}
}

// TestRulesAspect: 5:7 within the spec's tolerance (4 %), measured on the
// frame around the same face.
func TestRulesAspect(t *testing.T) {
	pw, ph, faces := portrait(t)
	spec := DefaultPhotoSpec()
	for _, c := range []struct {
		w, h   int
		aspect bool
	}{{360, 504, false}, {360, 485, false}, {360, 484, true}, {360, 524, false}, {360, 526, true}, {374, 504, false}, {375, 504, true}, {346, 504, false}, {345, 504, true}} {
		dx, dy := float64(c.w-pw)/2, float64(c.h-ph)/2
		f := mapFaces(faces, func(p pt) pt { return pt{p.X + dx, p.Y + dy} })
		r := check(t, synthPhoto(c.w, c.h, white, f), spec, f)
		if r.Has(CodeAspect) != c.aspect {
			t.Errorf("%dx%d: aspect = %v, want %v", c.w, c.h, r.Has(CodeAspect), c.aspect)
			continue
		}
		if c.aspect {
			if p := problemOf(t, r, CodeAspect); p.Value != float64(c.w)/float64(c.h) || p.Limit != "5:7" {
				t.Errorf("%dx%d: %+v, want value %g", c.w, c.h, p, float64(c.w)/float64(c.h))
			}
		}
	}
	// No tolerance: exactly 5:7 still passes.
	spec.AspectTolerance = 0
	if r := check(t, synthPhoto(pw, ph, white, faces), spec, faces); r.Has(CodeAspect) {
		t.Errorf("exact 5:7 refused with no tolerance")
	}
}

// TestRulesColour: a photo whose pixels carry, on average, less than 3
// levels of colour (max − min channel) is black-and-white.
func TestRulesColour(t *testing.T) {
	spec := DefaultPhotoSpec()
	for _, c := range []struct {
		c    rgb
		grey bool
	}{{rgb{250, 250, 250}, true}, {rgb{120, 122, 120}, true}, {rgb{120, 123, 120}, false}, {rgb{200, 120, 100}, false}} {
		r := check(t, newPhoto(360, 504, c.c), spec, nil)
		if r.Has(CodeNotColour) != c.grey {
			t.Errorf("photo of %v: not_colour = %v, want %v", c.c, r.Has(CodeNotColour), c.grey)
		}
	}
	// The portrait in grey (luma), and in colour.
	w, h, faces := portrait(t)
	px := synthPhoto(w, h, white, faces)
	if r := check(t, px, spec, faces); r.Has(CodeNotColour) {
		t.Fatal("colour portrait refused as black-and-white")
	}
	for i := 0; i < len(px.Pix); i += 3 {
		l := clampByte(0.299*float64(px.Pix[i]) + 0.587*float64(px.Pix[i+1]) + 0.114*float64(px.Pix[i+2]))
		px.Pix[i], px.Pix[i+1], px.Pix[i+2] = l, l, l
	}
	r := check(t, px, spec, faces)
	if p := problemOf(t, r, CodeNotColour); p.Limit != "colour" || r.OK {
		t.Errorf("grey portrait: %+v, OK %v", p, r.OK)
	}
	// Colour only in a few pixels: every 7th pixel is sampled, so a
	// colour stripe one pixel in seven wide is found whatever its phase.
	for phase := range 7 {
		px := newPhoto(70, 98, rgb{128, 128, 128})
		for i := phase; i < 70*98; i += 7 {
			copy(px.Pix[3*i:], []byte{255, 0, 0})
		}
		got := grey(px)
		if phase == 0 && got {
			t.Errorf("colour in every sampled pixel: grey")
		}
		if phase != 0 && !got {
			t.Errorf("colour only between the samples (phase %d): not grey", phase)
		}
	}
}

// TestRulesMeanLight: the mean luma of the whole photo (sampled every 5th
// pixel) at least MinMeanLuma; a dark photo is reported too dark once.
func TestRulesMeanLight(t *testing.T) {
	for _, c := range []struct {
		c    rgb
		want float64
	}{{rgb{200, 100, 50}, 0.299*200 + 0.587*100 + 0.114*50}, {rgb{0, 0, 0}, 0}, {rgb{10, 200, 30}, 0.299*10 + 0.587*200 + 0.114*30}} {
		if got := meanLuma(newPhoto(13, 7, c.c)); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("meanLuma(%v) = %g, want %g", c.c, got, c.want)
		}
	}
	// Every 5th pixel: a pattern of period 5 is seen through its first pixel.
	px := newPhoto(50, 7, rgb{0, 0, 0})
	for i := 0; i < 50*7; i += 5 {
		copy(px.Pix[3*i:], []byte{100, 100, 100})
	}
	if got := meanLuma(px); math.Abs(got-100) > 1e-9 {
		t.Errorf("meanLuma of a period-5 pattern = %g, want 100", got)
	}
	// The last whole pixel is sampled, a trailing partial one is not.
	px = newPhoto(6, 1, rgb{0, 0, 0})
	copy(px.Pix[15:], []byte{100, 100, 100})
	if got := meanLuma(px); math.Abs(got-50) > 1e-9 {
		t.Errorf("meanLuma with the last pixel lit = %g, want 50", got)
	}
	if got := meanLuma(&rgbImage{}); got != 0 {
		t.Errorf("meanLuma(empty) = %g", got)
	}

	spec := DefaultPhotoSpec()
	spec.Face.MinBrightness = 0 // the photo's rule alone
	for _, c := range []struct {
		c    rgb
		dark bool
	}{{rgb{60, 50, 40}, false}, {rgb{50, 45, 40}, true}, {rgb{200, 190, 180}, false}} {
		px := newPhoto(360, 504, c.c)
		ml := meanLuma(px)
		r := check(t, px, spec, nil)
		if r.Has(CodeTooDark) != c.dark {
			t.Errorf("mean luma %g: too_dark = %v, want %v", ml, r.Has(CodeTooDark), c.dark)
			continue
		}
		if c.dark {
			if p := problemOf(t, r, CodeTooDark); p.Value != ml || p.Limit != "mean luma >= 50" {
				t.Errorf("%+v, want value %g", p, ml)
			}
		}
		// At the limit exactly: not too dark; just above it: too dark.
		at := spec
		at.MinMeanLuma = ml
		if r := check(t, px, at, nil); r.Has(CodeTooDark) {
			t.Errorf("mean luma %g at the limit: too dark", ml)
		}
		at.MinMeanLuma = ml + 1e-9
		if r := check(t, px, at, nil); !r.Has(CodeTooDark) {
			t.Errorf("mean luma %g under the limit %g: not too dark", ml, at.MinMeanLuma)
		}
	}
	// A dark face in a dark photo: too dark once.
	w, h, faces := portrait(t)
	px = synthPhoto(w, h, white, faces)
	for i := range px.Pix {
		px.Pix[i] /= 6
	}
	r := check(t, px, DefaultPhotoSpec(), faces)
	n := 0
	for _, p := range r.Problems {
		if p.Code == CodeTooDark {
			n++
		}
	}
	if n != 1 {
		t.Errorf("dark portrait: too_dark %d times, want once (%v)", n, codesOf(r.Problems))
	}
}

// TestRulesBackground: the background (above and beside the head) must be
// plain red, blue or white; its luma standard deviation at most
// MaxBackgroundStd.
func TestRulesBackground(t *testing.T) {
	w, h, faces := portrait(t)
	spec := DefaultPhotoSpec()
	for _, c := range []struct {
		bg   rgb
		name string
		ok   bool
	}{{white, BackgroundWhite, true}, {rgb{200, 30, 40}, BackgroundRed, true}, {rgb{40, 110, 210}, BackgroundBlue, true},
		{rgb{150, 150, 150}, "grey", false}, {rgb{60, 160, 60}, "other", false}, {rgb{20, 20, 20}, "black", false}} {
		r := check(t, synthPhoto(w, h, c.bg, faces), spec, faces)
		if r.Background != c.name || r.Has(CodeBackground) == c.ok {
			t.Errorf("background %v: %s, background problem %v; want %s, %v", c.bg, r.Background, r.Has(CodeBackground), c.name, !c.ok)
		}
		if r.BackgroundStd > 1e-3 {
			t.Errorf("plain background %v: std %g", c.bg, r.BackgroundStd)
		}
	}
	// Only the colours the spec lists.
	only := spec
	only.Backgrounds = []string{BackgroundBlue}
	if r := check(t, synthPhoto(w, h, white, faces), only, faces); !r.Has(CodeBackground) {
		t.Error("white accepted when only blue is")
	} else if p := problemOf(t, r, CodeBackground); p.Limit != "plain [blue], std <= 16" || p.Value != 0 {
		t.Errorf("%+v", p)
	}

	// Left half 210, right half 230: every sampled area is split evenly
	// (above the head) or lies in one half (beside it), so the std is 10.
	px := synthPhoto(w, h, white, faces)
	halves := func(px *rgbImage, a, b byte) {
		for y := range px.H {
			for x := range px.W {
				i := 3 * (y*px.W + x)
				if px.Pix[i] != white[0] || px.Pix[i+1] != white[1] {
					continue // the person
				}
				v := a
				if x >= px.W/2 {
					v = b
				}
				px.Pix[i], px.Pix[i+1], px.Pix[i+2] = v, v, v
			}
		}
	}
	halves(px, 210, 230)
	r := check(t, px, spec, faces)
	if math.Abs(r.BackgroundStd-10) > 1e-6 || r.Background != BackgroundWhite || r.Has(CodeBackground) {
		t.Fatalf("halves 210/230: %s, std %g, problems %v; want white, 10, none", r.Background, r.BackgroundStd, codesOf(r.Problems))
	}
	lim := spec
	lim.MaxBackgroundStd = r.BackgroundStd
	if r := check(t, px, lim, faces); r.Has(CodeBackground) {
		t.Error("std at the limit refused")
	}
	lim.MaxBackgroundStd = r.BackgroundStd - 1e-6
	if r2 := check(t, px, lim, faces); !r2.Has(CodeBackground) {
		t.Error("std over the limit accepted")
	} else if p := problemOf(t, r2, CodeBackground); p.Value != r.BackgroundStd {
		t.Errorf("%+v, want value %g", p, r.BackgroundStd)
	}
	// Halves 190/240: 50 apart, more than backgroundOutlier from the
	// median (240): half the samples are something else, not plain.
	px = synthPhoto(w, h, white, faces)
	halves(px, 190, 240)
	if r := check(t, px, spec, faces); r.BackgroundStd != 255 || !r.Has(CodeBackground) {
		t.Errorf("halves 190/240: std %g, problems %v; want 255 (not plain)", r.BackgroundStd, codesOf(r.Problems))
	}
}

// TestRulesBackgroundOutliers: samples further than backgroundOutlier from
// the median colour (hair, a shoulder) are left out of the std, as long
// as at least minBackgroundShare of them agree.
func TestRulesBackgroundOutliers(t *testing.T) {
	// No face: the head is assumed in the middle; only the band above
	// 0.1·H − 0.05·W (the crown) is sampled above it, and beside it the
	// outer eighths down to 0.505·H.
	const W, H = 400, 560
	for _, c := range []struct {
		name      string
		rows      int // rows of the top band painted
		v         byte
		wantStd   float64
		wantPlain bool
	}{
		// The top band is 36 rows: 24 sampled rows of 24 in it. Painting
		// k of its rows another colour changes about k/36 of the band.
		{"plain", 0, 0, 0, true},
		{"a fifth of the band 30 darker, kept", 7, 220, -1, false},
		{"a fifth of the band 41 darker, left out", 7, 209, 0, true},
	} {
		px := newPhoto(W, H, rgb{250, 250, 250})
		for y := range c.rows {
			for x := range W {
				px.set(x, y, rgb{c.v, c.v, c.v})
			}
		}
		name, std := background(px, headRegion{top: 0.1 * H, bottom: H, left: 0.25 * W, right: 0.75 * W})
		if name != BackgroundWhite {
			t.Errorf("%s: %s", c.name, name)
		}
		if c.wantPlain && std != c.wantStd {
			t.Errorf("%s: std %g, want %g", c.name, std, c.wantStd)
		}
		if !c.wantPlain && !(std > 1 && std < 255) {
			t.Errorf("%s: std %g, want the darker rows counted", c.name, std)
		}
	}
	// A third of every sampled area differs by more than the outlier
	// limit: not plain.
	px := newPhoto(W, H, rgb{250, 250, 250})
	for y := range H {
		for x := range W {
			if x%3 == 0 {
				px.set(x, y, rgb{100, 100, 100})
			}
		}
	}
	if _, std := background(px, headRegion{top: 0.1 * H, bottom: H, left: 0.25 * W, right: 0.75 * W}); std != 255 {
		t.Errorf("a third of the samples far off: std %g, want 255", std)
	}
	// Nothing to sample (the head fills the photo): unknown, not plain.
	if name, std := background(newPhoto(10, 10, white), headRegion{top: 1, bottom: 10, left: 2.5, right: 7.5}); name != "unknown" || std != 255 {
		t.Errorf("nothing to sample: %s, %g", name, std)
	}
}

// zoomed is the portrait with its face scaled by k about the photo's
// centre.
func zoomed(t *testing.T, k float64) (*rgbImage, []Face) {
	w, h, faces := portrait(t)
	cx, cy := float64(w)/2, float64(h)/2
	f := mapFaces(faces, func(p pt) pt { return pt{cx + k*(p.X-cx), cy + k*(p.Y-cy)} })
	return synthPhoto(w, h, white, f), f
}

// TestRulesHeadSize: the head (crown to chin) 55–85 % of the photo height;
// too small and too large are both head_size (a photo has no "come
// closer").
func TestRulesHeadSize(t *testing.T) {
	spec := DefaultPhotoSpec()
	spec.MinEyeLine, spec.MaxEyeLine = 0.01, 0.99 // the head's own rule
	for _, c := range []struct {
		k    float64
		want bool
	}{{1, false}, {0.75, true}, {1.3, true}} {
		px, faces := zoomed(t, c.k)
		r := check(t, px, spec, faces)
		p := toPts(faces[0].Landmarks)
		top, bottom, _, _ := headBox(p)
		head := (bottom - top) / float64(px.H)
		if r.Has(CodeHeadSize) != c.want || r.Has(CodeTooFar) || r.Has(CodeTooClose) {
			t.Errorf("head %.2f of the height: %v, want head_size %v", head, codesOf(r.Problems), c.want)
		}
		if r.Face == nil || math.Abs(r.Face.Measures.Head-head) > 1e-9 {
			t.Fatalf("head %.3f: measured %+v", head, r.Face)
		}
		if c.want {
			if got := problemOf(t, r, CodeHeadSize); got.Value != r.Face.Measures.Head {
				t.Errorf("%+v, want value %g", got, r.Face.Measures.Head)
			}
		}
		// At each limit exactly: accepted.
		at := spec
		at.Face.MinHead, at.Face.MaxHead = head, head
		if r := check(t, px, at, faces); r.Has(CodeHeadSize) {
			t.Errorf("head %.3f at both limits: refused", head)
		}
	}
}

// TestRulesEyeLine: the eye line (mean of the two eye centres) between
// 30 % and 50 % of the height from the top, limits included.
func TestRulesEyeLine(t *testing.T) {
	w, h, faces := portrait(t)
	spec := DefaultPhotoSpec()
	spec.Face.MaxOffset = 1
	for _, dy := range []float64{0, -60, -120, 60} {
		f := mapFaces(faces, func(p pt) pt { return pt{p.X, p.Y + dy} })
		p := toPts(f[0].Landmarks)
		var ys float64
		for i := 36; i < 48; i++ {
			ys += p[i].Y
		}
		eye := ys / 12 / float64(h)
		px := synthPhoto(w, h, white, f)
		r := check(t, px, spec, f)
		if math.Abs(r.EyeLine-eye) > 1e-9 {
			t.Fatalf("eye line %.4f measured %.4f", eye, r.EyeLine)
		}
		want := eye < 0.30 || eye > 0.50
		if r.Has(CodeEyeLine) != want {
			t.Errorf("eye line %.3f: eye_line = %v, want %v", eye, r.Has(CodeEyeLine), want)
		}
		if want {
			if got := problemOf(t, r, CodeEyeLine); got.Value != r.EyeLine || got.Limit != "0.3..0.5" {
				t.Errorf("%+v", got)
			}
		}
		at := spec
		at.MinEyeLine, at.MaxEyeLine = r.EyeLine, r.EyeLine
		if r := check(t, px, at, f); r.Has(CodeEyeLine) {
			t.Errorf("eye line %.3f at both limits: refused", eye)
		}
		at.MinEyeLine = r.EyeLine + 1e-9
		if r := check(t, px, at, f); !r.Has(CodeEyeLine) {
			t.Errorf("eye line %.3f under the minimum: accepted", eye)
		}
		at.MinEyeLine, at.MaxEyeLine = r.EyeLine-0.1, r.EyeLine-1e-9
		if r := check(t, px, at, f); !r.Has(CodeEyeLine) {
			t.Errorf("eye line %.3f over the maximum: accepted", eye)
		}
	}
}

// TestRulesFaces: no face, another person, a small face further back (not
// a person in the picture), a face only the CNN found (turned), a failed
// detector.
func TestRulesFaces(t *testing.T) {
	w, h, faces := portrait(t)
	spec := DefaultPhotoSpec()
	px := synthPhoto(w, h, white, faces)

	r := check(t, newPhoto(w, h, white), spec, nil)
	if !r.Has(CodeNoFace) || r.Faces != 0 || r.Face != nil || r.OK || r.EyeLine != 0 {
		t.Errorf("no face: %+v", r)
	}
	// Without a face the head is assumed in the middle: a white photo with
	// a dark figure where a head would be has a plain background.
	fig := newPhoto(w, h, white)
	for y := int(0.1*float64(h) - 0.05*float64(w) + 2); y < h; y++ {
		for x := int(0.15 * float64(w)); x < int(0.85*float64(w)); x++ {
			fig.set(x, y, hair)
		}
	}
	if r := check(t, fig, spec, nil); r.Has(CodeBackground) || r.Background != BackgroundWhite {
		t.Errorf("figure in the middle, no face found: %s %g %v", r.Background, r.BackgroundStd, codesOf(r.Problems))
	}
	for _, c := range []struct {
		k      float64
		people int
	}{{1, 2}, {0.45, 2}, {0.35, 1}} {
		second := mapFaces(faces, func(p pt) pt { return pt{p.X*c.k + 5, p.Y*c.k + 5} })
		all := append(slices.Clone(faces), second...)
		r := check(t, px, spec, all)
		if r.Faces != c.people || r.Has(CodeMultipleFaces) != (c.people > 1) {
			t.Errorf("second face at %.0f %%: %d people, %v", c.k*100, r.Faces, codesOf(r.Problems))
		}
		if c.people > 1 {
			if p := problemOf(t, r, CodeMultipleFaces); p.Value != 2 {
				t.Errorf("%+v", p)
			}
		}
	}
	cnn := slices.Clone(faces)
	cnn[0].Frontal = false
	if r := check(t, px, spec, cnn); !r.Has(CodeHeadTurned) {
		t.Errorf("a face only the CNN found: %v, want head_turned", codesOf(r.Problems))
	}
	r = PhotoReport{Problems: []Problem{}}
	checkPhoto(&r, px, spec, failing)
	if len(r.Problems) != 1 || r.Problems[0].Code != CodeCorrupt || r.Problems[0].Limit != errFinder.Error() || r.Background != "" || r.OK {
		t.Errorf("failed detector: %+v", r)
	}
	// A turned head is refused (the pose rule through the photo's limits).
	turned := mapFaces(faces, func(p pt) pt { return p })
	tp := turned[0].Landmarks
	tp[lmNoseTip].X += 30
	if r := check(t, px, spec, turned); !r.Has(CodeHeadTurned) {
		t.Errorf("nose 30 px aside: %v", codesOf(r.Problems))
	}
	if r := check(t, px, spec, faces); r.Face == nil || r.Faces != 1 || r.Face.Rect != faces[0].Rect {
		t.Errorf("the face is not reported: %+v", r)
	}
}

// TestRulesFile: the file is a JPEG of more than 20 KB (and at most
// MaxBytes); what does not decode is corrupt, and nothing else is said.
func TestRulesFile(t *testing.T) {
	w, h, faces := portrait(t)
	spec := DefaultPhotoSpec()
	img := synthPhoto(w, h, white, faces).toImage()
	jpg := encodeQuality(t, img, 60)
	if len(jpg) >= spec.MinBytes {
		t.Fatalf("the JPEG is %d bytes, want it under %d", len(jpg), spec.MinBytes)
	}
	find := found(faces)
	for _, c := range []struct {
		n    int
		want Code
	}{{len(jpg), CodeFileTooSmall}, {spec.MinBytes - 1, CodeFileTooSmall}, {spec.MinBytes, ""}, {spec.MaxBytes, ""}, {spec.MaxBytes + 1, CodeFileTooLarge}} {
		r := validatePhoto(padTo(t, jpg, c.n), spec, find)
		if r.Bytes != c.n || r.Format != "jpeg" || r.Width != w || r.Faces != 1 {
			t.Errorf("%d bytes: %+v", c.n, r)
		}
		if c.want == "" {
			if !r.OK {
				t.Errorf("%d bytes: %v", c.n, codesOf(r.Problems))
			}
			continue
		}
		if len(r.Problems) != 1 || r.Problems[0].Code != c.want || r.Problems[0].Value != float64(c.n) {
			t.Errorf("%d bytes: %+v, want %s", c.n, r.Problems, c.want)
		}
	}
	if p := validatePhoto(padTo(t, jpg, 0+spec.MinBytes-1), spec, find).Problems[0]; p.Limit != ">= 20481 bytes" {
		t.Errorf("%+v", p)
	}
	if p := validatePhoto(padTo(t, jpg, spec.MaxBytes+1), spec, find).Problems[0]; p.Limit != "<= 204800 bytes" {
		t.Errorf("%+v", p)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	r := validatePhoto(padTo(t, b.Bytes(), max(b.Len(), spec.MinBytes)), spec, find)
	if r.Format != "png" || len(r.Problems) != 1 || r.Problems[0].Code != CodeNotJPEG || r.OK {
		t.Errorf("PNG: %+v", r)
	}
	for _, bad := range [][]byte{nil, []byte("not an image at all"), jpg[:len(jpg)/2]} {
		r := validatePhoto(bad, spec, find)
		if len(r.Problems) != 1 || r.Problems[0].Code != CodeCorrupt || r.Bytes != len(bad) || r.OK || r.Faces != 0 {
			t.Errorf("%d bad bytes: %+v", len(bad), r)
		}
	}
}

// TestRulesPhotoSpecBounds: each limit of PhotoSpec.Validate at its
// boundary, on both sides.
func TestRulesPhotoSpecBounds(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*PhotoSpec)
		want string // "" valid
	}{
		{"smallest made photo", func(s *PhotoSpec) { s.Width, s.Height = 300, 420 }, ""},
		{"largest made photo", func(s *PhotoSpec) { s.Width, s.Height = 4000, 5600 }, ""},
		{"wider than 4000", func(s *PhotoSpec) { s.Width, s.Height = 4005, 5607 }, "at most 4000x5600"},
		{"under the minimum width", func(s *PhotoSpec) { s.MinWidth, s.MinHeight, s.Width, s.Height = 300, 420, 295, 413 }, "at least 300x420 and"},
		{"minimum below the notice", func(s *PhotoSpec) { s.MinWidth = 299 }, "at least the notice's 300x420, got 299x420"},
		{"minimum height below the notice", func(s *PhotoSpec) { s.MinHeight = 419 }, "got 300x419"},
		{"no size", func(s *PhotoSpec) { s.Width, s.Height = 0, 1 }, "at least 300x420"},
		{"min bytes at the notice", func(s *PhotoSpec) { s.MinBytes = 20481 }, ""},
		{"min bytes below the notice", func(s *PhotoSpec) { s.MinBytes = 20480 }, "face.photo.min_bytes: want at least the notice's 20481 bytes"},
		{"max bytes 10 KB over min", func(s *PhotoSpec) { s.MaxBytes = s.MinBytes + 10240 }, ""},
		{"max bytes under 10 KB over min", func(s *PhotoSpec) { s.MaxBytes = s.MinBytes + 10239 }, "at least min_bytes + 10240 (30721)"},
		{"no backgrounds", func(s *PhotoSpec) { s.Backgrounds, s.MakeBackground = nil, "" }, "face.photo.backgrounds"},
		{"background std 80", func(s *PhotoSpec) { s.MaxBackgroundStd = 80 }, ""},
		{"background std over 80", func(s *PhotoSpec) { s.MaxBackgroundStd = 80.001 }, "face.photo.max_background_std"},
		{"background std 0", func(s *PhotoSpec) { s.MaxBackgroundStd = 0 }, "face.photo.max_background_std"},
		{"background std tiny", func(s *PhotoSpec) { s.MaxBackgroundStd = 0.001 }, ""},
		{"eye line from 0", func(s *PhotoSpec) { s.MinEyeLine = 0 }, "face.photo.min_eye_line/max_eye_line"},
		{"eye line empty", func(s *PhotoSpec) { s.MinEyeLine, s.MaxEyeLine = 0.4, 0.4 }, "min_eye_line"},
		{"eye line to 1", func(s *PhotoSpec) { s.MaxEyeLine = 1 }, "min_eye_line"},
		{"eye line narrow", func(s *PhotoSpec) { s.MinEyeLine, s.MaxEyeLine = 0.001, 0.999 }, ""},
		{"mean luma 0", func(s *PhotoSpec) { s.MinMeanLuma = 0 }, ""},
		{"mean luma 200", func(s *PhotoSpec) { s.MinMeanLuma = 200 }, ""},
		{"mean luma negative", func(s *PhotoSpec) { s.MinMeanLuma = -0.001 }, "face.photo.min_mean_luma"},
		{"mean luma over 200", func(s *PhotoSpec) { s.MinMeanLuma = 200.001 }, "face.photo.min_mean_luma"},
		{"aspect 0", func(s *PhotoSpec) { s.AspectTolerance = 0 }, ""},
		{"aspect 0.5", func(s *PhotoSpec) { s.AspectTolerance = 0.5 }, ""},
		{"aspect negative", func(s *PhotoSpec) { s.AspectTolerance = -0.001 }, "face.photo.aspect_tolerance"},
		{"aspect over 0.5", func(s *PhotoSpec) { s.AspectTolerance = 0.501 }, "face.photo.aspect_tolerance"},
		{"model in a folder", func(s *PhotoSpec) { s.SegmentationModel = "x/" + s.SegmentationModel }, "face.photo.segmentation_model"},
		{"5:7 within 1 %", func(s *PhotoSpec) { s.Width, s.Height = 363, 504 }, ""},
		{"5:7 off by 1.2 %", func(s *PhotoSpec) { s.Width, s.Height = 365, 504 }, "the 5:7 aspect ratio"},
		{"5:7 off by 1.2 % the other way", func(s *PhotoSpec) { s.Width, s.Height = 360, 510 }, "the 5:7 aspect ratio"},
	}
	for _, tc := range tests {
		s := DefaultPhotoSpec()
		tc.mod(&s)
		err := s.Validate()
		if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: Validate() = %v, want error naming %q", tc.name, err, tc.want)
		}
		if tc.name == "no size" && err != nil && strings.Contains(err.Error(), "5:7") {
			t.Errorf("%s: a zero width is not measured for 5:7: %v", tc.name, err)
		}
	}
}

// TestRulesBackgroundColourNames: colourName at each of its thresholds.
func TestRulesBackgroundColourNames(t *testing.T) {
	for _, c := range []struct {
		r, g, b float64
		want    string
	}{
		{205, 205, 205, BackgroundWhite}, {204, 204, 204, "grey"},
		{250, 250, 221, BackgroundWhite}, {250, 250, 220, "other"}, // saturation 0.116, 0.12
		{69, 69, 69, "black"}, {70, 70, 70, "grey"}, {50, 50, 44, "other"}, // saturation 0.12: not black
		{180, 59, 0, BackgroundRed}, {180, 60, 0, "other"}, // hue 19.7°, 20°
		{180, 0, 60, BackgroundRed}, {180, 0, 61, "other"}, // hue 340°, 339.7°
		{200, 130, 130, BackgroundRed}, {200, 131, 131, "other"}, // saturation 0.35, 0.345
		{90, 0, 0, BackgroundRed}, {89, 0, 0, "other"},
		{0, 150, 180, BackgroundBlue}, {0, 151, 180, "other"}, // hue 190°, 189.7°
		{29, 0, 180, BackgroundBlue}, {30, 0, 180, "other"}, // hue 249.7°, 250°
		{140, 140, 200, BackgroundBlue}, {141, 141, 200, "other"}, // saturation 0.30, 0.295
		{0, 0, 90, BackgroundBlue}, {0, 0, 89, "other"},
		{0, 200, 0, "other"}, {100, 200, 0, "other"}, {0, 200, 100, "other"}, {0, 100, 200, BackgroundBlue},
		{200, 0, 200, "other"}, {200, 100, 100, BackgroundRed}, {100, 100, 100, "grey"}, {0, 0, 0, "black"},
		// Hues measured from a minimum above 0 (the span is max − min).
		{200, 133, 100, BackgroundRed}, {200, 134, 100, "other"}, // hue 19.8°, 20.4°
		{40, 20, 180, BackgroundBlue}, {70, 40, 180, "other"}, // hue 247.5°, 252.9°
		{50, 200, 150, "other"}, {100, 200, 190, "other"}, // green-max hues (60–180°) are never red or blue
	} {
		if got := colourName(c.r, c.g, c.b); got != c.want {
			t.Errorf("colourName(%g, %g, %g) = %s, want %s", c.r, c.g, c.b, got, c.want)
		}
	}
}

// TestRulesBackgroundArea: the background is sampled above the crown and
// beside the head down to the eyes, a quarter of the head's width clear
// of it: light hair, a white collar or ears there change nothing; the
// same shade just inside the sampled area counts.
func TestRulesBackgroundArea(t *testing.T) {
	w, h, faces := portrait(t)
	spec := DefaultPhotoSpec()
	p := toPts(faces[0].Landmarks)
	top, bottom, left, right := headBox(p)
	hw := right - left
	crown, eyes := top-0.1*hw, top+0.45*(bottom-top)
	near := rgb{228, 228, 228} // within backgroundOutlier of the white: counted when sampled
	block := func(px *rgbImage, x0, y0, x1, y1 float64) {
		for y := int(math.Ceil(y0)); float64(y) < y1; y++ {
			for x := int(math.Ceil(x0)); float64(x) < x1; x++ {
				px.set(x, y, near)
			}
		}
	}
	m := 0.25 * hw
	for _, c := range []struct {
		name           string
		x0, y0, x1, y1 float64
		sampled        bool
	}{
		{"above the head, below the crown line", left - m + 1, crown + 1, right + m - 1, top + 2, false},
		{"above the crown line", 0, crown - 12, float64(w), crown - 1, true},
		// The last of the 24 sampled rows above the head, half a row step
		// above the crown line.
		{"the last row step above the crown line", left - m + 1, crown - crown/24 - 0.5, right + m - 1, crown, true},
		{"beside the head, within the margin", left - m + 1, crown, left + 1, eyes, false},
		{"beside the head, right, within the margin", right - 1, crown, right + m - 1, eyes, false},
		{"left of the margin", left - m - 12, crown + 2, left - m - 1, eyes - 2, true},
		{"right of the margin", right + m + 1, crown + 2, right + m + 12, eyes - 2, true},
		{"beside the head, below the eyes", 0, eyes + 1, float64(w), float64(h), false},
		{"beside the head, above the eyes", 0, eyes - 12, left - m - 1, eyes - 1, true},
	} {
		px := synthPhoto(w, h, white, faces)
		block(px, c.x0, c.y0, c.x1, c.y1)
		// The person drawn again over the block: only the background changes.
		drawFace(px, p)
		r := check(t, px, spec, faces)
		if (r.BackgroundStd > 0.01) != c.sampled || r.Background != BackgroundWhite || r.BackgroundStd > 16 {
			t.Errorf("%s: background %s, std %g; sampled %v", c.name, r.Background, r.BackgroundStd, c.sampled)
		}
	}
	// Without a face the head is assumed in the middle (x 25–75 %, from 10
	// % of the height down): a light figure there is not sampled, a figure
	// a little wider is.
	for _, c := range []struct {
		x0, y0  float64
		sampled bool
	}{{0.125*float64(w) + 1, 0.1*float64(h) - 0.05*float64(w) + 1, false}, {0.125*float64(w) - 2, 0.1*float64(h) - 0.05*float64(w) + 1, true}, {0.125*float64(w) + 1, 0.1*float64(h) - 0.05*float64(w) - 3, true}} {
		px := newPhoto(w, h, white)
		block(px, c.x0, c.y0, float64(w)-c.x0, float64(h))
		r := check(t, px, spec, nil)
		if (r.BackgroundStd > 0.01) != c.sampled {
			t.Errorf("no face, figure from (%.0f, %.0f): std %g, sampled %v", c.x0, c.y0, r.BackgroundStd, c.sampled)
		}
	}
	// A sampled area exactly 2 px wide (or high) is sampled, a narrower
	// one not (with nothing else sampled: unknown, std 255).
	for _, c := range []struct {
		size    float64
		sampled bool
	}{{2, true}, {1.9, false}} {
		px := newPhoto(100, 100, white)
		// Head 80 wide: margin 20; crown 1 (nothing above it), nothing
		// right of it; the left area is [0, size).
		if _, std := background(px, headRegion{top: 9, bottom: 100, left: c.size + 20, right: c.size + 100}); (std != 255) != c.sampled {
			t.Errorf("left area %g px wide: std %g, sampled %v", c.size, std, c.sampled)
		}
		// Nothing beside the head; the area above it is [0, size).
		if _, std := background(px, headRegion{top: c.size + 8, bottom: 100, left: 21, right: 101}); (std != 255) != c.sampled {
			t.Errorf("area above %g px high: std %g, sampled %v", c.size, std, c.sampled)
		}
	}
}

// TestRulesBackgroundLimits: a sample exactly backgroundOutlier (40) from
// the median still counts; exactly minBackgroundShare (75 %) of samples
// near the median is still plain.
func TestRulesBackgroundLimits(t *testing.T) {
	// Only the area above the head is sampled: [0, 96) × [0, 48), 24×24
	// samples; the columns x < 24 hold 6 of the 24 sampled columns (25 %).
	hr := headRegion{top: 57.4, bottom: 96, left: 1, right: 95}
	for _, c := range []struct {
		v       byte
		wantStd float64
	}{
		{210, 40 * math.Sqrt(0.25*0.75)}, // 40 from 250: counted
		{209, 0},                         // 41: left out, and 75 % remain
		{100, 0},
	} {
		px := newPhoto(96, 96, white)
		for y := range 96 {
			for x := range 24 {
				px.set(x, y, rgb{c.v, c.v, c.v})
			}
		}
		name, std := background(px, hr)
		if name != BackgroundWhite || math.Abs(std-c.wantStd) > 1e-6 {
			t.Errorf("a quarter at %d: %s, std %g, want white, %g", c.v, name, std, c.wantStd)
		}
	}
	// One more sampled column off (7 of 24): under 75 % agree.
	px := newPhoto(96, 96, white)
	for y := range 96 {
		for x := range 28 {
			px.set(x, y, rgb{100, 100, 100})
		}
	}
	if _, std := background(px, hr); std != 255 {
		t.Errorf("7 of 24 columns off: std %g, want 255", std)
	}
}

// TestRulesBackgroundThinSideArea: an area beside the head less than 2 px
// high is not sampled, wherever it starts (here just below the area above
// the head: rows 42 to 43.25, x < 10).
func TestRulesBackgroundThinSideArea(t *testing.T) {
	px := newPhoto(100, 100, white)
	for y := 42; y < 44; y++ {
		for x := range 10 {
			px.set(x, y, rgb{228, 228, 228})
		}
	}
	// Head 80 wide from x = 30: margin 20, left area x < 10; crown at
	// 50 − 8 = 42, eyes at 50 + 0.45·(35 − 50) = 43.25.
	name, std := background(px, headRegion{top: 50, bottom: 35, left: 30, right: 110})
	if name != BackgroundWhite || std != 0 {
		t.Errorf("a side area 1.25 px high was sampled: %s, std %g", name, std)
	}
	// The same area 2.25 px high (eyes at 44.25) is sampled.
	if _, std := background(px, headRegion{top: 50, bottom: 37.22222222222222, left: 30, right: 110}); std == 0 {
		t.Errorf("a side area 2.25 px high was not sampled")
	}
}
