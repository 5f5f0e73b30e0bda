package exam

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"testing"
)

// noiseJPEG returns a w×h JPEG padded with a comment segment to exactly
// size bytes (when size is larger than the encoded image).
func noiseJPEG(t *testing.T, w, h, size int) []byte {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = uint8(rng.UintN(256))
	}
	img.Set(0, 0, color.White)
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 5}); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	if size <= len(b) {
		return b
	}
	pad := size - len(b) - 4 // COM marker and its length
	com := append([]byte{0xFF, 0xFE, byte((pad + 2) >> 8), byte(pad + 2)}, make([]byte, pad)...)
	out := append(append(append([]byte{}, b[:2]...), com...), b[2:]...)
	if len(out) != size {
		t.Fatalf("made %d bytes, want %d", len(out), size)
	}
	return out
}

func TestCheckPhotoFile(t *testing.T) {
	for _, tt := range []struct {
		name string
		p    []byte
		max  int
		want string
	}{
		{"exactly 20 KB is refused (more than 20 KB)", noiseJPEG(t, 300, 420, 20480), 0, PhotoFileSmall},
		{"20 KB and one byte", noiseJPEG(t, 300, 420, 20481), 0, ""},
		{"narrow", noiseJPEG(t, 299, 420, 30000), 0, PhotoDimensions},
		{"short", noiseJPEG(t, 300, 419, 30000), 0, PhotoDimensions},
		{"too large", noiseJPEG(t, 300, 420, 30000), 25000, PhotoFileLarge},
		{"not a JPEG", append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 30000)...), 0, PhotoNotJPEG},
	} {
		got := ""
		if r := CheckPhotoFile(tt.p, tt.max); r != nil {
			got = r.Code
		}
		if got != tt.want {
			t.Errorf("%s: CheckPhotoFile = %q, want %q", tt.name, got, tt.want)
		}
	}
}
