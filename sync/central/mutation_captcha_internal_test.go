package central

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log/slog"
	"math"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"examkiosk/sync/wire"
)

// The captcha a candidate reads at the kiosk (captcha.go): a 160×60 PNG of
// four digits in dark ink on a light background, each glyph in its own
// slot, drawn from the 5×7 font. Served captchas turn, shear, scale and
// warp every glyph and add ink lines and dots; the plain font is only the
// tests' baseline for the attacker's template match.

// decodePixels decodes a captcha's PNG, checking its format and size.
func decodePixels(t *testing.T, b []byte) [][]color.RGBA {
	t.Helper()
	if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("not a PNG: % x", b[:min(8, len(b))])
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds() != image.Rect(0, 0, 160, 60) {
		t.Fatalf("captcha is %v, want 160×60", img.Bounds())
	}
	px := make([][]color.RGBA, 60)
	for y := range 60 {
		px[y] = make([]color.RGBA, 160)
		for x := range 160 {
			r, g, b, a := img.At(x, y).RGBA()
			px[y][x] = color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(b >> 8), uint8(a >> 8)}
		}
	}
	return px
}

// background reports whether c is the captcha's light paper: grey 225–254
// with a blue 230–254.
func background(c color.RGBA) bool {
	return c.R == c.G && c.R >= 225 && c.B >= 230 && c.A == 255
}

// dark reports whether c is glyph ink: every channel below 120, opaque.
func dark(c color.RGBA) bool { return c.R < 120 && c.G < 120 && c.B < 120 && c.A == 255 }

// uprightGlyph is the pixel set of an undistorted glyph with its top left
// at (ox, oy) and cells sx×sy pixels, the last column of each cell blank.
func uprightGlyph(d, ox, oy, sx, sy int) map[image.Point]bool {
	set := map[image.Point]bool{}
	for row := range 7 {
		for col := range 5 {
			if digitFont[d][row][col] != '1' {
				continue
			}
			for y := oy + row*sy; y < oy+(row+1)*sy; y++ {
				for x := ox + col*sx; x < ox+(col+1)*sx-1; x++ {
					set[image.Pt(x, y)] = true
				}
			}
		}
	}
	return set
}

// drawGlyph draws each cell where its turned and sheared place is: every
// point well inside a cell is inked exactly when the font's bit is 1,
// checked by mapping the point forward (shear, then turn about the glyph's
// centre), the opposite way to drawGlyph's inverse mapping. Upright and
// unsheared, the glyph is exactly its cells with a one-pixel gap after
// each column.
func TestCaptchaGlyphGeometry(t *testing.T) {
	ink := color.RGBA{10, 20, 30, 255}
	for _, g := range []struct{ sx, sy int }{{6, 6}, {5, 7}} {
		for d := range 10 {
			img := image.NewRGBA(image.Rect(0, 0, 160, 60))
			ox, oy := 40+d, 3+d/2
			drawGlyph(img, digitFont[d], float64(ox), float64(oy), float64(g.sx), float64(g.sy), 0, 0, ink)
			want := uprightGlyph(d, ox, oy, g.sx, g.sy)
			for y := range 60 {
				for x := range 160 {
					if got := img.RGBAAt(x, y) == ink; got != want[image.Pt(x, y)] {
						t.Fatalf("upright %d at %d,%d cells %d×%d: pixel %d,%d inked %v", d, ox, oy, g.sx, g.sy, x, y, got)
					}
				}
			}
		}
	}
	deg := math.Pi / 180
	for _, g := range []struct{ sx, sy, angle, shear float64 }{
		{5.3, 6.4, 20 * deg, 0.25},
		{6.9, 5.2, -15 * deg, -0.2},
		{7.2, 7.0, 26 * deg, 0.3}, // the far corners reach 30 px from the centre
		{4.8, 5.0, -26 * deg, 0},
		{6, 6, 0, 0.3},
	} {
		for d := range 10 {
			img := image.NewRGBA(image.Rect(0, 0, 160, 100))
			gw, gh := 5*g.sx, 7*g.sy
			ox, oy := 80-gw/2, 50-gh/2 // the centre at 80,50
			drawGlyph(img, digitFont[d], ox, oy, g.sx, g.sy, g.angle, g.shear, ink)
			cx, cy := 80.0, 50.0
			sin, cos := math.Sin(g.angle), math.Cos(g.angle)
			for row := range 7 {
				for col := range 5 {
					on := digitFont[d][row][col] == '1'
					for _, f := range [][2]float64{{.5, .5}, {.25, .25}, {.75, .25}, {.25, .75}, {.75, .75}} {
						u := float64(col)*g.sx + f[0]*g.sx - gw/2
						v := float64(row)*g.sy + f[1]*g.sy - gh/2
						u += g.shear * v
						x, y := cx+cos*u-sin*v, cy+sin*u+cos*v
						px, py := int(math.Round(x)), int(math.Round(y))
						if got := img.RGBAAt(px, py) == ink; got != on {
							t.Fatalf("%+v digit %d cell %d,%d point %v at pixel %d,%d: inked %v, want %v", g, d, col, row, f, px, py, got, on)
						}
					}
				}
			}
		}
	}
}

// glyphFound is where a plain glyph was found and in which ink.
type glyphFound struct {
	at  image.Point
	ink color.RGBA
}

// findPlainGlyph finds digit d of slot i in a plain captcha: its cells at
// 6×6 pixels with its top left 12–17 px into its 36 px slot and 6–15 px
// down, all in one dark ink that appears nowhere else; pixels of the set
// may only be painted over by the noise lines (another ink, not paper).
func findPlainGlyph(px [][]color.RGBA, d, i int) (glyphFound, bool) {
	for oy := 6; oy <= 15; oy++ {
		for ox := 12 + 36*i; ox <= 17+36*i; ox++ {
			set := uprightGlyph(d, ox, oy, 6, 6)
			counts := map[color.RGBA]int{}
			for p := range set {
				counts[px[p.Y][p.X]]++
			}
			var ink color.RGBA
			best := 0
			for c, n := range counts {
				if n > best {
					ink, best = c, n
				}
			}
			if !dark(ink) || best < len(set)*3/4 {
				continue
			}
			ok := true
			for y := range 60 {
				for x := range 160 {
					c, in := px[y][x], set[image.Pt(x, y)]
					if (c == ink && !in) || (in && c != ink && background(c)) {
						ok = false
					}
				}
			}
			if ok {
				return glyphFound{image.Pt(ox, oy), ink}, true
			}
		}
	}
	return glyphFound{}, false
}

// A plain captcha is exactly the font: each digit in its slot in one dark
// ink, on light paper, crossed by straight lines of a lighter ink (below
// 200) that reach from end to end. Every digit 0–9 is drawn; anything else
// is refused.
func TestCaptchaPlainExact(t *testing.T) {
	linePixels, lineLength, allLines, edgeLines := 0, 0, 0, 0
	seen := map[string]bool{}
	for _, digits := range []string{"0123", "4567", "8901", "2345", "6789", "0123"} {
		b, err := renderCaptchaOpts(digits, false)
		if err != nil {
			t.Fatal(err)
		}
		seen[string(b)] = true
		px := decodePixels(t, b)
		glyphInk := map[color.RGBA]bool{}
		for i := range 4 {
			g, ok := findPlainGlyph(px, int(digits[i]-'0'), i)
			if !ok {
				t.Fatalf("%s: digit %d (%c) not found in its slot as the 5×7 font", digits, i, digits[i])
			}
			glyphInk[g.ink] = true
		}
		if len(glyphInk) != 4 {
			t.Errorf("%s: %d glyph inks, want one per digit", digits, len(glyphInk))
		}
		lines := map[color.RGBA][]image.Point{}
		for y := range 60 {
			for x := range 160 {
				c := px[y][x]
				if background(c) || glyphInk[c] {
					continue
				}
				if c.R >= 200 || c.G >= 200 || c.B >= 200 || c.A != 255 {
					t.Fatalf("%s: pixel %d,%d is %v: neither paper (grey 225–254, blue 230–254) nor ink", digits, x, y, c)
				}
				lines[c] = append(lines[c], image.Pt(x, y))
			}
		}
		if len(lines) == 0 || len(lines) > 6 {
			t.Errorf("%s: %d noise lines, want 1 to 6", digits, len(lines))
		}
		for c, ps := range lines {
			n, l := checkStraight(t, digits, c, ps)
			linePixels += n
			lineLength += l
			allLines++
			for _, p := range ps {
				if p.X == 0 || p.X == 159 || p.Y == 0 || p.Y == 59 {
					edgeLines++
					break
				}
			}
		}
	}
	if len(seen) != 6 {
		t.Errorf("%d different pictures of 6 plain captchas (two of the same digits)", len(seen))
	}
	// A line joins two points of the picture: few reach its edge (about
	// one in eleven: 9 % of the 36 lines, sd 1.7), where a line drawn past
	// the picture is cut there.
	if edgeLines > 12 {
		t.Errorf("%d of %d noise lines reach the picture's edge", edgeLines, allLines)
	}
	// Six lines a picture between random points are about 55 steps long
	// (2000 in the six pictures, sd about 200).
	if lineLength < 800 {
		t.Errorf("the noise lines of six pictures are %d steps long in all", lineLength)
	}
	// Later lines paint over parts of earlier ones, a stretch where two run
	// alike; most of each line is seen.
	if linePixels < lineLength*4/5 {
		t.Errorf("the noise lines show %d pixels of their %d", linePixels, lineLength)
	}
	for _, bad := range []string{"12a4", "/123", "123:", "12 4"} {
		if _, err := renderCaptchaOpts(bad, false); err == nil {
			t.Errorf("%q rendered plain", bad)
		}
		if _, err := renderCaptcha(bad); err == nil {
			t.Errorf("%q rendered", bad)
		}
	}
}

// checkStraight checks that the pixels of one noise line lie on the
// segment between its two farthest pixels, at most one pixel per step
// along its longer axis; it returns how many pixels the line shows and its
// length in steps.
func checkStraight(t *testing.T, what string, c color.RGBA, ps []image.Point) (int, int) {
	t.Helper()
	a, b, far := ps[0], ps[0], -1
	for _, p := range ps {
		for _, q := range ps {
			if d := (p.X-q.X)*(p.X-q.X) + (p.Y-q.Y)*(p.Y-q.Y); d > far {
				a, b, far = p, q, d
			}
		}
	}
	dx, dy := float64(b.X-a.X), float64(b.Y-a.Y)
	l := math.Hypot(dx, dy)
	for _, p := range ps {
		if l == 0 {
			break
		}
		if off := math.Abs(dx*float64(p.Y-a.Y)-dy*float64(p.X-a.X)) / l; off > 1 {
			t.Errorf("%s: line %v: pixel %v is %.1f px off the segment %v–%v", what, c, p, off, a, b)
			break
		}
	}
	steps := max(abs(b.X-a.X), abs(b.Y-a.Y)) + 1
	if len(ps) > steps {
		t.Errorf("%s: line %v from %v to %v has %d pixels, more than its %d steps", what, c, a, b, len(ps), steps)
	}
	return len(ps), steps
}

// inkGroup is the pixels of one ink in a served captcha.
type inkGroup struct {
	n             int
	mx, my        float64 // centroid
	cxx, cyy, cxy float64 // second moments about it
	minX, maxX    int
	minY, maxY    int
}

// tilt is the group's long axis from the vertical, in degrees (positive:
// leaning right going down).
func (g inkGroup) tilt() float64 { return 0.5 * math.Atan2(2*g.cxy, g.cyy-g.cxx) * 180 / math.Pi }

// wave is how far the group's pixels lie from its long axis (RMS, px).
func (g inkGroup) wave() float64 {
	tr, det := g.cxx+g.cyy, g.cxx*g.cyy-g.cxy*g.cxy
	return math.Sqrt(math.Max(tr/2-math.Sqrt(math.Max(tr*tr/4-det, 0)), 0))
}

// inkGroups gathers the dark inks of a captcha (every glyph, line and dot
// has its own random ink).
func inkGroups(px [][]color.RGBA) map[color.RGBA]*inkGroup {
	gs := map[color.RGBA]*inkGroup{}
	for y := range 60 {
		for x := range 160 {
			c := px[y][x]
			if !dark(c) {
				continue
			}
			g := gs[c]
			if g == nil {
				g = &inkGroup{minX: x, maxX: x, minY: y, maxY: y}
				gs[c] = g
			}
			g.n++
			g.mx += float64(x)
			g.my += float64(y)
			g.minX, g.maxX, g.minY, g.maxY = min(g.minX, x), max(g.maxX, x), min(g.minY, y), max(g.maxY, y)
		}
	}
	for _, g := range gs {
		g.mx /= float64(g.n)
		g.my /= float64(g.n)
	}
	for y := range 60 {
		for x := range 160 {
			if g := gs[px[y][x]]; g != nil {
				dx, dy := float64(x)-g.mx, float64(y)-g.my
				g.cxx += dx * dx / float64(g.n)
				g.cyy += dy * dy / float64(g.n)
				g.cxy += dx * dy / float64(g.n)
			}
		}
	}
	return gs
}

// servedGlyphs finds the four glyphs of a served captcha: in each 35 px
// slot the ink with the most pixels there.
func servedGlyphs(px [][]color.RGBA, gs map[color.RGBA]*inkGroup) [4]color.RGBA {
	var out [4]color.RGBA
	for i := range 4 {
		counts := map[color.RGBA]int{}
		for y := range 60 {
			for x := 10 + 35*i; x < 45+35*i && x < 160; x++ {
				if gs[px[y][x]] != nil {
					counts[px[y][x]]++
				}
			}
		}
		best := 0
		for c, n := range counts {
			if n > best {
				out[i], best = c, n
			}
		}
	}
	return out
}

// servedFigures renders n served captchas of "1111" (a narrow glyph whose
// long axis shows its turn) and returns their figures: per glyph its mean
// tilt and |tilt| (°), pixels, pieces (8-connected), centre into its slot
// (x0…x3) and down (px); per captcha its ink lines (12 pixels or more, not
// a glyph), the lines that reach within 3 px of the edge, and the ink
// share; per long line (60 pixels or more) its RMS off straight (px) and
// its pixels per step along its longer axis (two a step: the line is two
// pixels wide); per steep line (taller than wide, 30 pixels or more) its
// RMS off straight, which shows the warp along y.
func servedFigures(t *testing.T, n int) map[string]float64 {
	t.Helper()
	f := map[string]float64{}
	seen := map[string]bool{}
	waves, steep, steepWave := 0.0, 0.0, 0.0
	for range n {
		b, err := renderCaptcha("1111")
		if err != nil {
			t.Fatal(err)
		}
		seen[string(b)] = true
		px := decodePixels(t, b)
		gs := inkGroups(px)
		glyphs := servedGlyphs(px, gs)
		isGlyph := map[color.RGBA]bool{}
		for i, c := range glyphs {
			g := gs[c]
			isGlyph[c] = true
			f["tilt"] += g.tilt()
			f["|tilt|"] += math.Abs(g.tilt())
			f["pixels"] += float64(g.n)
			f["pieces"] += float64(pieces(px, c))
			f[fmt.Sprint("x", i)] += (g.mx - float64(35*i)) * 4
			f["y"] += g.my
		}
		for c, g := range gs {
			f["ink"] += float64(g.n) / (160 * 60)
			if isGlyph[c] || g.n < 12 {
				continue
			}
			f["lines"]++
			if g.n >= 30 && g.maxY-g.minY > g.maxX-g.minX {
				steepWave += g.wave()
				steep++
			}
			if g.minX <= 3 || g.maxX >= 156 {
				f["lines at a side"]++
			}
			if g.minY <= 3 || g.maxY >= 56 {
				f["lines at the top or bottom"]++
			}
			if g.n >= 60 {
				f["wave"] += g.wave()
				f["line thickness"] += float64(g.n) / float64(max(g.maxX-g.minX, g.maxY-g.minY)+1)
				waves++
			}
		}
	}
	for k := range f {
		f[k] /= 4 * float64(n) // per glyph
	}
	for _, k := range []string{"lines", "lines at a side", "lines at the top or bottom", "ink"} {
		f[k] *= 4 // per captcha
	}
	f["wave"] *= 4 * float64(n) / max(waves, 1)
	f["line thickness"] *= 4 * float64(n) / max(waves, 1)
	f["steep wave"] = steepWave / max(steep, 1)
	f["steep lines"] = steep
	f["long lines"] = waves
	f["pictures"] = float64(len(seen))
	return f
}

// pieces counts the 8-connected pieces of ink c.
func pieces(px [][]color.RGBA, c color.RGBA) int {
	seen := map[image.Point]bool{}
	n := 0
	for y := range 60 {
		for x := range 160 {
			if px[y][x] != c || seen[image.Pt(x, y)] {
				continue
			}
			n++
			stack := []image.Point{image.Pt(x, y)}
			seen[stack[0]] = true
			for len(stack) > 0 {
				p := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				for dy := -1; dy <= 1; dy++ {
					for dx := -1; dx <= 1; dx++ {
						q := p.Add(image.Pt(dx, dy))
						if q.In(image.Rect(0, 0, 160, 60)) && !seen[q] && px[q.Y][q.X] == c {
							seen[q] = true
							stack = append(stack, q)
						}
					}
				}
			}
		}
	}
	return n
}

// A served captcha turns every glyph 12–26° either way (with a shear of up
// to ±0.3), scales its cells to 4.8–7.2 × 5.0–7.0 px, places glyph i 10–17
// px into its 35 px slot and 4–17 px down, keeps each glyph's strokes
// whole, draws two or three ink lines between points of the picture and
// warps the whole picture by two sine waves of 2–3.4 px. Each is checked on
// the figures of 40 captchas against bounds about six standard deviations
// of such figures from their mean (30 runs of 40 captchas at the commit:
// mean glyph tilt +3.2° sd 1.4, |tilt| 19.8° sd 1.0, 338 pixels sd 3.3 and
// 1.74 pieces sd 0.07 a glyph, its centre 27.7 px into its slot sd 0.5 and
// 33.5 px down sd 0.3; a captcha has 2.45 lines of 12 pixels or more sd
// 0.08, 0.25 reaching a side sd 0.07, 70 of 60 pixels or more in 40
// captchas sd 5.7 (bound at 3.5 sd: lines cut at the edge fall to about
// 40); a long line lies 1.62 px RMS off straight sd 0.07 and has 1.93
// pixels a step (8 runs: 1.90 to 1.96; a line drawn in more steps than its
// length thickens to about 2.09); a steep line (taller than wide, 30
// pixels or more: about 35 in 80 captchas) lies 1.01 px RMS off straight
// (20 runs of 80: mean 1.02 sd 0.07; a warp along y of 0.6–2 px gives 0.67, none
// 0.5, one of a shorter period 1.5); 17.5 % of the picture is ink sd 0.2).
// The bounds were set on runs of 40 captchas; the test draws 80.
func TestCaptchaServedDistortion(t *testing.T) {
	const n = 80
	f := servedFigures(t, n)
	t.Logf("%v", f)
	if f["pictures"] != n {
		t.Errorf("%.0f different pictures of %d captchas of the same digits", f["pictures"], n)
	}
	for _, c := range []struct {
		what   string
		lo, hi float64
	}{
		{"tilt", -5, 11},
		{"|tilt|", 14, 26},
		{"pixels", 318, 358},
		{"pieces", 1.3, 2.2},
		{"x0", 25, 30.5},
		{"x1", 25, 30.5},
		{"x2", 25, 30.5},
		{"x3", 25, 30.5},
		{"y", 31.5, 35.5},
		{"lines", 2, 2.9},
		{"long lines", 1.25 * n, 3 * n},
		{"lines at a side", 0, 0.6},
		{"ink", 0.163, 0.187},
		{"wave", 1.25, 2},
		{"line thickness", 1.76, 2.02},
		{"steep wave", 0.76, 1.32},
	} {
		if got := f[c.what]; got < c.lo || got > c.hi {
			t.Errorf("%s: %.2f, want %.2f to %.2f", c.what, got, c.lo, c.hi)
		}
	}
}

// What the kiosk and the centre rely on from a captcha challenge: its
// picture is a 160×60 PNG, its answer four digits (every digit occurs),
// each challenge has an answer of its own, valid for five minutes to the
// second, and is taken by the first answer, right or wrong: a used, wrong
// or expired answer is refused. Spaces around a typed answer are ignored.
func TestCaptchaChallenge(t *testing.T) {
	at := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	s, err := Open(cfg, WithLogger(slog.New(slog.DiscardHandler)), WithClock(func() time.Time { return at }))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	challenge := func() (wire.Captcha, string) {
		t.Helper()
		rec := httptest.NewRecorder()
		s.handleCaptcha(rec, httptest.NewRequest("GET", "/v1/captcha", nil), "", nil)
		var c wire.Captcha
		if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &c) != nil {
			t.Fatalf("captcha: %d %s", rec.Code, rec.Body)
		}
		return c, s.CaptchaAnswer(c.ID)
	}
	digits := map[rune]bool{}
	ids := map[string]bool{}
	for range 30 {
		c, a := challenge()
		if len(a) != 4 || strings.Trim(a, "0123456789") != "" {
			t.Fatalf("answer %q, want four digits", a)
		}
		for _, d := range a {
			digits[d] = true
		}
		if ids[c.ID] {
			t.Fatalf("challenge id %s handed out twice", c.ID)
		}
		ids[c.ID] = true
		if !c.ExpiresAt.Equal(at.Add(5 * time.Minute)) {
			t.Fatalf("expires %s, want five minutes after %s", c.ExpiresAt, at)
		}
		decodePixels(t, c.PNG)
	}
	if len(digits) != 10 {
		t.Errorf("answers use %d of the 10 digits", len(digits))
	}

	c, a := challenge()
	if !s.checkCaptcha(c.ID, " "+a+" ") {
		t.Error("the right answer (with spaces) refused")
	}
	if s.checkCaptcha(c.ID, a) {
		t.Error("an answer used twice")
	}
	c, a = challenge()
	wrong := fmt.Sprintf("%04d", (mustAtoi(t, a)+1)%10000)
	if s.checkCaptcha(c.ID, wrong) {
		t.Errorf("wrong answer %s for %s accepted", wrong, a)
	}
	if s.checkCaptcha(c.ID, a) {
		t.Error("the right answer after a wrong one accepted: a challenge takes one answer")
	}
	c1, a1 := challenge()
	c2, a2 := challenge()
	if a1 != a2 && s.checkCaptcha(c1.ID, a2) {
		t.Error("another challenge's answer accepted")
	}
	if s.checkCaptcha("no-such-challenge", a2) {
		t.Error("an unknown challenge accepted")
	}
	at = at.Add(5 * time.Minute)
	if !s.checkCaptcha(c2.ID, a2) {
		t.Error("the right answer at exactly five minutes refused")
	}
	c, a = challenge()
	at = at.Add(5*time.Minute + time.Second)
	if s.checkCaptcha(c.ID, a) {
		t.Error("the right answer after five minutes accepted")
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
