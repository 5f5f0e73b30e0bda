package face

import (
	"bytes"
	"image"
	"image/jpeg"
	"os"
	"strconv"
	"sync"
	"testing"

	"examkiosk/internal/testenv"
)

// facesDir returns the shared face fixtures, skipping t when absent.
func facesDir(t testing.TB) string { return testenv.FacesDir(t) }

// modelsDir returns the installed models, skipping t when absent.
func modelsDir(t testing.TB) string { return testenv.ModelsDir(t) }

func testConfig(t testing.TB) Config {
	cfg := DefaultConfig()
	cfg.ModelsDir = modelsDir(t)
	// For the BLAS comparison in docs/BENCHMARKS.md.
	if n, err := strconv.Atoi(os.Getenv("EXAMKIOSK_BLAS_THREADS")); err == nil {
		cfg.BLASThreads = n
	}
	return cfg
}

var shared struct {
	once sync.Once
	eng  *Engine
	err  error
}

// testEngine returns an engine shared by the tests of this package (the
// models take a second and ~200 MB to load).
func testEngine(t testing.TB) *Engine {
	t.Helper()
	cfg := testConfig(t)
	shared.once.Do(func() { shared.eng, shared.err = NewEngine(cfg, nil) })
	if shared.err != nil {
		t.Fatalf("NewEngine: %v", shared.err)
	}
	return shared.eng
}

func readImage(t testing.TB, path string) image.Image {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := DecodeImage(b)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}

// mjpegFrames splits a Motion-JPEG stream (concatenated JPEGs).
func mjpegFrames(t testing.TB, path string) []image.Image {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []image.Image
	for len(b) > 0 {
		start := bytes.Index(b, []byte{0xff, 0xd8})
		if start < 0 {
			break
		}
		end := bytes.Index(b[start+2:], []byte{0xff, 0xd9})
		if end < 0 {
			break
		}
		chunk := b[start : start+2+end+2]
		img, err := jpeg.Decode(bytes.NewReader(chunk))
		if err != nil {
			t.Fatalf("%s frame %d: %v", path, len(out)+1, err)
		}
		out = append(out, img)
		b = b[start+2+end+2:]
	}
	return out
}

func symlink(old, new string) error { return os.Symlink(old, new) }

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
