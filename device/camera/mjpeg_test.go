package camera

import (
	"bytes"
	"errors"
	"image"
	"image/jpeg"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestEnsureHuffmanInsertsStandardTables(t *testing.T) {
	full := encodeJPEG(t, testImage(64, 48, 1)) // image/jpeg writes the standard tables
	bare := stripDHT(t, full)
	if bytes.Contains(bare, []byte{0xff, markerDHT}) {
		t.Fatal("test frame still has a DHT segment")
	}
	if _, err := jpeg.Decode(bytes.NewReader(bare)); err == nil {
		t.Fatal("image/jpeg decoded a frame without Huffman tables; the test proves nothing")
	}
	fixed, inserted, err := EnsureHuffman(bare)
	if err != nil || !inserted {
		t.Fatalf("EnsureHuffman = inserted %v, err %v", inserted, err)
	}
	got, err := jpeg.Decode(bytes.NewReader(fixed))
	if err != nil {
		t.Fatalf("decode after insertion: %v", err)
	}
	want, _ := jpeg.Decode(bytes.NewReader(full))
	if !sameImage(got, want) {
		t.Error("frame with inserted tables decodes differently from the original")
	}

	// A long segment (length above 255) before the scan, as EXIF adds.
	app := append([]byte{0xff, 0xe1, 0x01, 0x03}, make([]byte, 0x0101)...)
	long := append(append([]byte{0xff, 0xd8}, app...), bare[2:]...)
	fixed, inserted, err = EnsureHuffman(long)
	if err != nil || !inserted {
		t.Fatalf("with a long APP1 segment: inserted %v, err %v", inserted, err)
	}
	if got, err := jpeg.Decode(bytes.NewReader(fixed)); err != nil || !sameImage(got, want) {
		t.Errorf("with a long APP1 segment: decode %v", err)
	}

	same, inserted, err := EnsureHuffman(full)
	if err != nil || inserted || &same[0] != &full[0] {
		t.Errorf("complete frame: inserted %v, err %v, copied %v; want it returned as is", inserted, err, &same[0] != &full[0])
	}
}

func TestEnsureHuffmanRejectsGarbage(t *testing.T) {
	for name, data := range map[string][]byte{
		"empty":      nil,
		"not jpeg":   []byte("hello world"),
		"no scan":    {0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0x00, 0x00},
		"bad marker": {0xff, 0xd8, 0x12, 0x34, 0x00},
		"truncated":  {0xff, 0xd8, 0xff, 0xe0},
	} {
		if _, _, err := EnsureHuffman(data); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestMJPEGReaderSplitsFrames(t *testing.T) {
	var frames [][]byte
	for i := range 3 {
		frames = append(frames, encodeJPEG(t, testImage(32, 24, i)))
	}
	// An APP1 segment whose payload holds an EOI and an SOI must not end or
	// start a frame.
	tricky := append([]byte{0xff, 0xd8, 0xff, 0xe1, 0x00, 0x08, 0xff, 0xd9, 0xff, 0xd8, 0x00, 0x00}, frames[2][2:]...)
	frames = append(frames, stripDHT(t, frames[1]), tricky)

	var stream bytes.Buffer
	for i, f := range frames {
		stream.Write(f)
		if i == 1 {
			stream.WriteString("\r\n--junk between frames--\r\n")
		}
	}
	r := NewMJPEGReader(&stream)
	for i, want := range frames {
		got, err := r.Next()
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("frame %d: got %d bytes, want %d", i, len(got), len(want))
		}
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("after last frame: err %v, want io.EOF", err)
	}
}

func TestMJPEGReaderTruncated(t *testing.T) {
	f := encodeJPEG(t, testImage(32, 24, 0))
	for _, n := range []int{3, 20, len(f) / 2, len(f) - 1} {
		_, err := NewMJPEGReader(bytes.NewReader(f[:n])).Next()
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("cut at %d: err %v, want io.ErrUnexpectedEOF", n, err)
		}
	}
}

// The clip in faces/live is the frames directory concatenated: splitting it
// must give the same frames.
func TestMJPEGReaderRealClip(t *testing.T) {
	dir := filepath.Join(facesDir(t), "live", "cap13_blink_turn")
	f, err := os.Open(filepath.Join(dir, "cap13_blink_turn.mjpeg"))
	if err != nil {
		t.Skipf("clip missing: %v", err)
	}
	defer f.Close()
	files, _ := filepath.Glob(filepath.Join(dir, "frames", "*.jpg"))
	r := NewMJPEGReader(f)
	n := 0
	for {
		data, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("frame %d: %v", n+1, err)
		}
		n++
		if n == 1 || n == 62 || n == len(files) {
			c, err := jpeg.DecodeConfig(bytes.NewReader(data))
			if err != nil || c.Width != 640 || c.Height != 480 {
				t.Errorf("frame %d: %dx%d, %v; want 640x480", n, c.Width, c.Height, err)
			}
		}
	}
	if n != len(files) || n != 150 {
		t.Errorf("clip has %d frames, frames/ has %d; want 150 each", n, len(files))
	}
}

func sameImage(a, b image.Image) bool {
	if a.Bounds() != b.Bounds() {
		return false
	}
	for y := a.Bounds().Min.Y; y < a.Bounds().Max.Y; y++ {
		for x := a.Bounds().Min.X; x < a.Bounds().Max.X; x++ {
			if a.At(x, y) != b.At(x, y) {
				return false
			}
		}
	}
	return true
}

func BenchmarkEnsureHuffman(b *testing.B) {
	bare := stripDHT(b, encodeJPEG(b, testImage(640, 480, 0)))
	b.SetBytes(int64(len(bare)))
	for b.Loop() {
		if _, _, err := EnsureHuffman(bare); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMJPEGReader(b *testing.B) {
	f := encodeJPEG(b, testImage(640, 480, 0))
	stream := bytes.Repeat(f, 16)
	b.SetBytes(int64(len(f)))
	r := NewMJPEGReader(bytes.NewReader(stream))
	for b.Loop() {
		if _, err := r.Next(); err == io.EOF {
			r = NewMJPEGReader(bytes.NewReader(stream))
		} else if err != nil {
			b.Fatal(err)
		}
	}
}
