package central

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"image"
	"image/color"
	"image/png"
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

// renderCaptcha draws the digits with jitter and noise into a PNG.
func renderCaptcha(digits string) ([]byte, error) {
	const scale, w, h = 6, 160, 60
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			g := uint8(225 + rnd(30))
			img.Set(x, y, color.RGBA{g, g, uint8(230 + rnd(25)), 255})
		}
	}
	for i, d := range digits {
		if d < '0' || d > '9' {
			return nil, fmt.Errorf("captcha: %q is not a digit", d)
		}
		ox, oy := 12+i*36+rnd(6), 6+rnd(10)
		ink := color.RGBA{uint8(rnd(120)), uint8(rnd(120)), uint8(rnd(120)), 255}
		for row, line := range digitFont[d-'0'] {
			for col, bit := range line {
				if bit != '1' {
					continue
				}
				for dy := range scale {
					for dx := range scale - 1 {
						img.Set(ox+col*scale+dx, oy+row*scale+dy, ink)
					}
				}
			}
		}
	}
	for range 6 { // noise lines
		x0, y0, x1, y1 := rnd(w), rnd(h), rnd(w), rnd(h)
		c := color.RGBA{uint8(rnd(200)), uint8(rnd(200)), uint8(rnd(200)), 255}
		steps := max(abs(x1-x0), abs(y1-y0), 1)
		for s := 0; s <= steps; s++ {
			img.Set(x0+(x1-x0)*s/steps, y0+(y1-y0)*s/steps, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("encode captcha: %w", err)
	}
	return buf.Bytes(), nil
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
