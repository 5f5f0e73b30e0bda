package central

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/big"
)

// digitFont is a 5×7 bitmap font for the digits 0–9.
var digitFont = [10][7]string{
	{"01110", "10001", "10011", "10101", "11001", "10001", "01110"},
	{"00100", "01100", "00100", "00100", "00100", "00100", "01110"},
	{"01110", "10001", "00001", "00010", "00100", "01000", "11111"},
	{"11111", "00010", "00100", "00010", "00001", "10001", "01110"},
	{"00010", "00110", "01010", "10010", "11111", "00010", "00010"},
	{"11111", "10000", "11110", "00001", "00001", "10001", "01110"},
	{"00110", "01000", "10000", "11110", "10001", "10001", "01110"},
	{"11111", "00001", "00010", "00100", "01000", "01000", "01000"},
	{"01110", "10001", "10001", "01110", "10001", "10001", "01110"},
	{"01110", "10001", "10001", "01111", "00001", "00010", "01100"},
}

func rnd(n int) int {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		return 0
	}
	return int(v.Int64())
}

// renderCaptcha draws the digits into a PNG a person reads and a template
// match of the font does not: every glyph is rotated, sheared and scaled at
// random, the whole picture is warped by two sine waves, and ink-coloured
// lines and dots cross it (see TestAttack7CaptchaTemplateMatch). It is a
// speed bump; the login throttles are the defence (PROTOCOL.md).
func renderCaptcha(digits string) ([]byte, error) { return renderCaptchaOpts(digits, true) }

// renderCaptchaOpts draws with or without the distortions (without: the
// plain 5×7 font the tests prove a template match reads).
func renderCaptchaOpts(digits string, distort bool) ([]byte, error) {
	const w, h = 160, 60
	ink := image.NewRGBA(image.Rect(0, 0, w, h)) // glyphs and noise before the warp
	for i, d := range digits {
		if d < '0' || d > '9' {
			return nil, fmt.Errorf("captcha: %q is not a digit", d)
		}
		c := color.RGBA{uint8(rnd(120)), uint8(rnd(120)), uint8(rnd(120)), 255}
		if !distort {
			drawGlyph(ink, digitFont[d-'0'], float64(12+i*36+rnd(6)), float64(6+rnd(10)), 6, 6, 0, 0, c)
			continue
		}
		sx, sy := 4.8+float64(rnd(25))/10, 5.0+float64(rnd(21))/10
		angle := float64(12+rnd(15)) * math.Pi / 180 // never upright: 12–26° either way
		if rnd(2) == 0 {
			angle = -angle
		}
		shear := float64(rnd(61)-30) / 100
		drawGlyph(ink, digitFont[d-'0'], float64(10+i*35+rnd(8)), float64(4+rnd(14)), sx, sy, angle, shear, c)
	}
	if distort {
		for range 2 + rnd(2) { // ink-coloured lines, two pixels wide
			x0, y0, x1, y1 := rnd(w), rnd(h), rnd(w), rnd(h)
			c := color.RGBA{uint8(rnd(120)), uint8(rnd(120)), uint8(rnd(120)), 255}
			steps := max(abs(x1-x0), abs(y1-y0), 1)
			for s := 0; s <= steps; s++ {
				x, y := x0+(x1-x0)*s/steps, y0+(y1-y0)*s/steps
				ink.Set(x, y, c)
				ink.Set(x, y+1, c)
			}
		}
		for range 60 { // ink dots
			ink.Set(rnd(w), rnd(h), color.RGBA{uint8(rnd(120)), uint8(rnd(120)), uint8(rnd(120)), 255})
		}
	}
	ax, ay := 0.0, 0.0
	fx, fy, px, py := 0.0, 0.0, 0.0, 0.0
	if distort {
		ax, ay = 2+float64(rnd(15))/10, 2+float64(rnd(15))/10
		fx, fy = 2*math.Pi/float64(40+rnd(30)), 2*math.Pi/float64(40+rnd(30))
		px, py = float64(rnd(628))/100, float64(rnd(628))/100
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			sx := int(math.Round(float64(x) + ax*math.Sin(fy*float64(y)+py)))
			sy := int(math.Round(float64(y) + ay*math.Sin(fx*float64(x)+px)))
			if c := ink.RGBAAt(sx, sy); c.A != 0 && image.Pt(sx, sy).In(ink.Bounds()) {
				img.SetRGBA(x, y, c)
				continue
			}
			g := uint8(225 + rnd(30))
			img.SetRGBA(x, y, color.RGBA{g, g, uint8(230 + rnd(25)), 255})
		}
	}
	if !distort {
		for range 6 { // light noise lines
			x0, y0, x1, y1 := rnd(w), rnd(h), rnd(w), rnd(h)
			c := color.RGBA{uint8(rnd(200)), uint8(rnd(200)), uint8(rnd(200)), 255}
			steps := max(abs(x1-x0), abs(y1-y0), 1)
			for s := 0; s <= steps; s++ {
				img.Set(x0+(x1-x0)*s/steps, y0+(y1-y0)*s/steps, c)
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("encode captcha: %w", err)
	}
	return buf.Bytes(), nil
}

// drawGlyph paints a 5×7 bitmap glyph with its top left at (ox, oy), cells
// sx×sy pixels, rotated by angle and sheared, by inverse mapping each pixel
// of its bounding box back into the bitmap.
func drawGlyph(img *image.RGBA, glyph [7]string, ox, oy, sx, sy, angle, shear float64, c color.RGBA) {
	gw, gh := 5*sx, 7*sy
	cx, cy := ox+gw/2, oy+gh/2
	sin, cos := math.Sin(angle), math.Cos(angle)
	r := int(math.Hypot(gw, gh)/2) + 2
	for y := int(cy) - r; y <= int(cy)+r; y++ {
		for x := int(cx) - r; x <= int(cx)+r; x++ {
			dx, dy := float64(x)-cx, float64(y)-cy
			u := cos*dx + sin*dy // undo the rotation
			v := -sin*dx + cos*dy
			u -= shear * v // undo the shear
			col, row := int(math.Floor((u+gw/2)/sx)), int(math.Floor((v+gh/2)/sy))
			if row < 0 || row >= 7 || col < 0 || col >= 5 || glyph[row][col] != '1' {
				continue
			}
			// the undistorted font leaves a one-pixel gap between columns
			if angle == 0 && shear == 0 && math.Mod(u+gw/2, sx) >= sx-1 {
				continue
			}
			img.SetRGBA(x, y, c)
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
