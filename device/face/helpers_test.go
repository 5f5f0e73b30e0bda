package face

import (
	"bytes"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
)

// facesDir locates ../shared/faces relative to the repository root (the
// directory holding go.mod) or $EXAMKIOSK_FACES; it skips t when absent.
func facesDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("EXAMKIOSK_FACES"); d != "" {
		if _, err := os.Stat(d); err == nil {
			return d
		}
		t.Skipf("face fixtures not found at EXAMKIOSK_FACES=%s", d)
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			d := filepath.Join(dir, "..", "shared", "faces")
			if _, err := os.Stat(d); err != nil {
				t.Skipf("face fixtures not found at %s (set EXAMKIOSK_FACES)", d)
			}
			return d
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("face fixtures: repository root (go.mod) not found; set EXAMKIOSK_FACES")
		}
		dir = parent
	}
}

// modelsDir is $EXAMKIOSK_MODELS or the default models dir; it skips t
// when the models are missing.
func modelsDir(t testing.TB) string {
	t.Helper()
	d := os.Getenv("EXAMKIOSK_MODELS")
	if d == "" {
		d = DefaultModelsDir()
	}
	if _, err := os.Stat(filepath.Join(d, StockRecognitionModel)); err != nil {
		t.Skipf("dlib models not found in %s (set EXAMKIOSK_MODELS)", d)
	}
	return d
}

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
