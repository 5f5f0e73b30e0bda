package camera

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"testing"

	"examkiosk/internal/testenv"
)

// facesDir returns the shared face fixtures, skipping t when absent.
func facesDir(t testing.TB) string { return testenv.FacesDir(t) }

// testImage draws a w×h picture whose colours depend on n.
func testImage(w, h, n int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x + n*7), uint8(y + n*13), uint8((x ^ y) + n), 255})
		}
	}
	return img
}

func encodeJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 85}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// stripDHT removes every DHT segment before the first scan, as some UVC
// webcams send their MJPEG frames.
func stripDHT(t testing.TB, data []byte) []byte {
	t.Helper()
	out := []byte{0xff, 0xd8}
	i := 2
	for {
		m := data[i+1]
		if m == markerSOS {
			return append(out, data[i:]...)
		}
		n := int(data[i+2])<<8 | int(data[i+3])
		if m != markerDHT {
			out = append(out, data[i:i+2+n]...)
		}
		i += 2 + n
	}
}

// fakeSource is a scripted Source.
type fakeSource struct {
	info   SourceInfo
	read   func(ctx context.Context) (Frame, error)
	closed bool
}

func (s *fakeSource) Read(ctx context.Context) (Frame, error) { return s.read(ctx) }
func (s *fakeSource) Info() SourceInfo                        { return s.info }
func (s *fakeSource) Close() error                            { s.closed = true; return nil }
