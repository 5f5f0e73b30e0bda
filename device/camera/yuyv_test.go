package camera

import (
	"bytes"
	"image/jpeg"
	"math"
	"os"
	"path/filepath"
	"testing"
)

func TestYUYVToRGBAKnownVectors(t *testing.T) {
	// BT.601 limited-range reference colours (75%/100% bars as webcams code them).
	tests := []struct {
		name    string
		y, u, v byte
		want    [3]byte
	}{
		{"black", 16, 128, 128, [3]byte{0, 0, 0}},
		{"white", 235, 128, 128, [3]byte{255, 255, 255}},
		{"mid grey", 126, 128, 128, [3]byte{128, 128, 128}},
		{"red", 81, 90, 240, [3]byte{255, 0, 0}},
		{"green", 145, 54, 34, [3]byte{0, 255, 1}},
		{"blue", 41, 240, 110, [3]byte{0, 0, 255}},
		{"below black clamps", 0, 128, 128, [3]byte{0, 0, 0}},
		{"above white clamps", 255, 128, 128, [3]byte{255, 255, 255}},
		{"yellow", 210, 16, 146, [3]byte{255, 255, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := []byte{tt.y, tt.u, tt.y, tt.v}
			dst := make([]byte, 8)
			if err := YUYVToRGBA(dst, src, 2, 1); err != nil {
				t.Fatal(err)
			}
			for px := range 2 {
				got := [3]byte{dst[px*4], dst[px*4+1], dst[px*4+2]}
				if !near(got, tt.want, 1) || dst[px*4+3] != 255 {
					t.Errorf("pixel %d = %v alpha %d, want %v±1 alpha 255", px, got, dst[px*4+3], tt.want)
				}
			}
		})
	}
}

func TestYUYVToRGBASharedChroma(t *testing.T) {
	// Two pixels share U and V but keep their own Y: a grey ramp stays grey.
	src := []byte{16, 128, 235, 128, 126, 128, 81, 128}
	dst := make([]byte, 16)
	if err := YUYVToRGBA(dst, src, 4, 1); err != nil {
		t.Fatal(err)
	}
	want := [][3]byte{{0, 0, 0}, {255, 255, 255}, {128, 128, 128}, {76, 76, 76}}
	for i, w := range want {
		got := [3]byte{dst[i*4], dst[i*4+1], dst[i*4+2]}
		if !near(got, w, 1) {
			t.Errorf("pixel %d = %v, want %v", i, got, w)
		}
	}
}

func TestYUYVToRGBAErrors(t *testing.T) {
	tests := []struct {
		name     string
		dst, src int
		w, h     int
	}{
		{"odd width", 12, 6, 3, 1},
		{"short source", 16, 6, 4, 1},
		{"short destination", 12, 8, 4, 1},
		{"zero size", 0, 0, 0, 0},
	}
	for _, tt := range tests {
		if err := YUYVToRGBA(make([]byte, tt.dst), make([]byte, tt.src), tt.w, tt.h); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}

func near(a, b [3]byte, tol int) bool {
	for i := range a {
		d := int(a[i]) - int(b[i])
		if d < -tol || d > tol {
			return false
		}
	}
	return true
}

func BenchmarkYUYVToRGBA640x480(b *testing.B) {
	src := make([]byte, 640*480*2)
	for i := range src {
		src[i] = byte(i * 31)
	}
	dst := make([]byte, 640*480*4)
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if err := YUYVToRGBA(dst, src, 640, 480); err != nil {
			b.Fatal(err)
		}
	}
}

// A real webcam picture survives RGB → YUYV → RGB with only the 4:2:2
// chroma loss: a swapped channel or wrong matrix would fail this.
func TestYUYVRoundTripRealFrame(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(facesDir(t), "live", "cap13_blink_turn", "frames", "000062.jpg"))
	if err != nil {
		t.Skip(err)
	}
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	dst := make([]byte, b.Dx()*b.Dy()*4)
	if err := YUYVToRGBA(dst, toYUYV(img), b.Dx(), b.Dy()); err != nil {
		t.Fatal(err)
	}
	var sum [3]float64
	for y := range b.Dy() {
		for x := range b.Dx() {
			r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			p := dst[(y*b.Dx()+x)*4:]
			sum[0] += math.Abs(float64(r>>8) - float64(p[0]))
			sum[1] += math.Abs(float64(g>>8) - float64(p[1]))
			sum[2] += math.Abs(float64(bl>>8) - float64(p[2]))
		}
	}
	for i, s := range sum {
		if mae := s / float64(b.Dx()*b.Dy()); mae > 3 {
			t.Errorf("channel %d: mean absolute error %.2f, want ≤ 3", i, mae)
		}
	}
}
