package face

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	_ "image/gif" // register GIF for DecodeImage
	"image/jpeg"
	_ "image/png" // register PNG for DecodeImage
	"math"
)

// MaxImagePixels bounds the size of an image DecodeImage accepts, so that a
// hostile header cannot make the kiosk allocate gigabytes.
const MaxImagePixels = 40_000_000

// ErrBadImage is wrapped by the errors DecodeImage returns for data that is
// empty, truncated, not an image or too large.
var ErrBadImage = errors.New("not a usable image")

// DecodeImage decodes a JPEG, PNG or GIF held in data. It never panics on
// hostile input; errors wrap ErrBadImage.
func DecodeImage(data []byte) (img image.Image, err error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("decode image: empty data: %w", ErrBadImage)
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("decode image header: %v: %w", err, ErrBadImage)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > MaxImagePixels {
		return nil, fmt.Errorf("decode %s image: size %dx%d out of range: %w", format, cfg.Width, cfg.Height, ErrBadImage)
	}
	defer func() {
		if r := recover(); r != nil { // the standard decoders should not panic; be safe anyway
			img, err = nil, fmt.Errorf("decode %s image: %v: %w", format, r, ErrBadImage)
		}
	}()
	img, _, err = image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("decode %s image: %v: %w", format, err, ErrBadImage)
	}
	return img, nil
}

// rgbImage is a packed 8-bit RGB image, the form dlib takes.
type rgbImage struct {
	W, H int
	Pix  []byte // 3 bytes per pixel, row-major
}

// toRGB converts any image to packed RGB with its origin at (0,0).
func toRGB(img image.Image) *rgbImage {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	out := &rgbImage{W: w, H: h, Pix: make([]byte, 3*w*h)}
	switch src := img.(type) {
	case *image.YCbCr:
		for y := range h {
			for x := range w {
				yi := src.YOffset(b.Min.X+x, b.Min.Y+y)
				ci := src.COffset(b.Min.X+x, b.Min.Y+y)
				r, g, bl := color.YCbCrToRGB(src.Y[yi], src.Cb[ci], src.Cr[ci])
				o := 3 * (y*w + x)
				out.Pix[o], out.Pix[o+1], out.Pix[o+2] = r, g, bl
			}
		}
	case *image.Gray:
		for y := range h {
			row := src.Pix[(y)*src.Stride:]
			for x := range w {
				v := row[x]
				o := 3 * (y*w + x)
				out.Pix[o], out.Pix[o+1], out.Pix[o+2] = v, v, v
			}
		}
	case *image.RGBA:
		for y := range h {
			row := src.Pix[y*src.Stride:]
			for x := range w {
				o := 3 * (y*w + x)
				copy(out.Pix[o:o+3], row[4*x:4*x+3])
			}
		}
	case *image.NRGBA:
		for y := range h {
			row := src.Pix[y*src.Stride:]
			for x := range w {
				o := 3 * (y*w + x)
				a := uint32(row[4*x+3])
				// Composite over white, as a transparent PNG is shown.
				for c := range 3 {
					out.Pix[o+c] = byte((uint32(row[4*x+c])*a + 255*(255-a)) / 255)
				}
			}
		}
	default:
		for y := range h {
			for x := range w {
				c := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
				a := uint32(c.A)
				o := 3 * (y*w + x)
				out.Pix[o] = byte((uint32(c.R)*a + 255*(255-a)) / 255)
				out.Pix[o+1] = byte((uint32(c.G)*a + 255*(255-a)) / 255)
				out.Pix[o+2] = byte((uint32(c.B)*a + 255*(255-a)) / 255)
			}
		}
	}
	return out
}

// at returns the pixel at (x, y), clamped to the image (edge replication).
func (m *rgbImage) at(x, y int) (r, g, b byte) {
	x = min(max(x, 0), m.W-1)
	y = min(max(y, 0), m.H-1)
	o := 3 * (y*m.W + x)
	return m.Pix[o], m.Pix[o+1], m.Pix[o+2]
}

// luma returns the BT.601 luma of the pixel at (x, y), clamped.
func (m *rgbImage) luma(x, y int) float64 {
	r, g, b := m.at(x, y)
	return 0.299*float64(r) + 0.587*float64(g) + 0.114*float64(b)
}

// toImage returns m as an *image.RGBA (for encoding).
func (m *rgbImage) toImage() *image.RGBA {
	out := image.NewRGBA(image.Rect(0, 0, m.W, m.H))
	for i, j := 0, 0; i < len(m.Pix); i, j = i+3, j+4 {
		out.Pix[j], out.Pix[j+1], out.Pix[j+2], out.Pix[j+3] = m.Pix[i], m.Pix[i+1], m.Pix[i+2], 255
	}
	return out
}

// resample takes a w×h crop whose pixel (u, v) comes from input
// (x0 + u·step, y0 + v·step), bilinearly, with edge replication outside
// the input. It serves crops, scaling and both at once.
func (m *rgbImage) resample(x0, y0, step float64, w, h int) *rgbImage {
	return m.sample(x0, y0, step, 0, 0, step, w, h)
}

// sample takes a w×h image whose pixel (u, v) comes from input
// (x0 + u·ux + v·vx, y0 + u·uy + v·vy): any similarity transform (crop,
// scale, rotation), bilinear, with edge replication outside the input.
func (m *rgbImage) sample(x0, y0, ux, uy, vx, vy float64, w, h int) *rgbImage {
	out := &rgbImage{W: w, H: h, Pix: make([]byte, 3*w*h)}
	// Box-filter first when shrinking a lot, so that bilinear sampling
	// does not alias.
	src := m
	if step := math.Hypot(ux, uy); step >= 2 {
		f := int(step)
		src = m.shrink(f)
		ff := float64(f)
		x0, y0 = (x0+0.5)/ff-0.5, (y0+0.5)/ff-0.5
		ux, uy, vx, vy = ux/ff, uy/ff, vx/ff, vy/ff
	}
	for v := range h {
		fv := float64(v) + 0.5
		for u := range w {
			fu := float64(u) + 0.5
			sx := x0 + fu*ux + fv*vx - 0.5
			sy := y0 + fu*uy + fv*vy - 0.5
			ix, iy := int(math.Floor(sx)), int(math.Floor(sy))
			fx, fy := sx-float64(ix), sy-float64(iy)
			r00, g00, b00 := src.at(ix, iy)
			r10, g10, b10 := src.at(ix+1, iy)
			r01, g01, b01 := src.at(ix, iy+1)
			r11, g11, b11 := src.at(ix+1, iy+1)
			o := 3 * (v*w + u)
			out.Pix[o] = bilerp(r00, r10, r01, r11, fx, fy)
			out.Pix[o+1] = bilerp(g00, g10, g01, g11, fx, fy)
			out.Pix[o+2] = bilerp(b00, b10, b01, b11, fx, fy)
		}
	}
	return out
}

func bilerp(a, b, c, d byte, fx, fy float64) byte {
	top := float64(a) + (float64(b)-float64(a))*fx
	bot := float64(c) + (float64(d)-float64(c))*fx
	return byte(math.Round(top + (bot-top)*fy))
}

// shrink box-filters m by an integer factor f.
func (m *rgbImage) shrink(f int) *rgbImage {
	w, h := max(m.W/f, 1), max(m.H/f, 1)
	out := &rgbImage{W: w, H: h, Pix: make([]byte, 3*w*h)}
	for y := range h {
		for x := range w {
			var s [3]int
			n := 0
			for yy := y * f; yy < min((y+1)*f, m.H); yy++ {
				for xx := x * f; xx < min((x+1)*f, m.W); xx++ {
					o := 3 * (yy*m.W + xx)
					s[0] += int(m.Pix[o])
					s[1] += int(m.Pix[o+1])
					s[2] += int(m.Pix[o+2])
					n++
				}
			}
			o := 3 * (y*w + x)
			for c := range 3 {
				out.Pix[o+c] = byte(s[c] / max(n, 1))
			}
		}
	}
	return out
}

// encodeJPEG encodes m as a colour JPEG at the given quality.
func (m *rgbImage) encodeJPEG(quality int) ([]byte, error) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m.toImage(), &jpeg.Options{Quality: quality}); err != nil {
		return nil, fmt.Errorf("encode jpeg: %w", err)
	}
	return buf.Bytes(), nil
}

// ImageFromRGB is a helper for callers holding raw frames: it wraps packed
// 8-bit RGB pixels (3 bytes per pixel, row-major) as an image.Image.
func ImageFromRGB(pix []byte, w, h int) (image.Image, error) {
	if w <= 0 || h <= 0 || len(pix) < 3*w*h {
		return nil, fmt.Errorf("raw rgb frame %dx%d needs %d bytes, have %d", w, h, 3*w*h, len(pix))
	}
	return (&rgbImage{W: w, H: h, Pix: pix}).toImage(), nil
}
