package ort

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"examkiosk/device/face/ort/orttest"
)

// runtime initialises the installed runtime once for the tests, or skips.
func runtime(t testing.TB) {
	t.Helper()
	lib := DefaultLibraryPath()
	if _, err := os.Stat(lib); err != nil {
		t.Skipf("ONNX Runtime not installed at %s (%s)", lib, InstallHint)
	}
	if err := Init(lib); err != nil {
		t.Fatal(err)
	}
}

// reluModel is an ONNX model y = Relu(x) for x of shape [batch, 3].
func reluModel() []byte {
	return orttest.Model([]orttest.Value{{Name: "x", Shape: []int64{-1, 3}}}, []orttest.Value{{Name: "y", Shape: []int64{-1, 3}}},
		orttest.Node{Op: "Relu", Inputs: []string{"x"}, Outputs: []string{"y"}})
}

func writeModel(t *testing.T, data []byte) (path, sum string) {
	t.Helper()
	return orttest.Write(t, t.TempDir(), "relu.onnx", data)
}

func TestInitRefusesCorruptLibrary(t *testing.T) {
	lib := filepath.Join(t.TempDir(), LibraryName)
	if err := os.WriteFile(lib, []byte("truncated"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Checked before anything is loaded, whatever the process state.
	if err := Init(lib); err == nil || !strings.Contains(err.Error(), lib) || !strings.Contains(err.Error(), "corrupt") || !strings.Contains(err.Error(), InstallHint) {
		t.Errorf("corrupt library: %v", err)
	}
	missing := filepath.Join(t.TempDir(), LibraryName)
	if err := Init(missing); err == nil || !strings.Contains(err.Error(), missing) || !strings.Contains(err.Error(), InstallHint) {
		t.Errorf("missing library: %v", err)
	}
}

func TestRunModel(t *testing.T) {
	runtime(t)
	path, sum := writeModel(t, reluModel())
	s, err := Open(path, sum, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if in := s.Inputs(); len(in) != 1 || in[0].Name != "x" || !in[0].Float32 || len(in[0].Shape) != 2 || in[0].Shape[0] >= 0 || in[0].Shape[1] != 3 {
		t.Fatalf("inputs %+v", in)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			out, err := s.Run(Tensor{Shape: []int64{2, 3}, Data: []float32{-1, 2, -3, float32(g), -5, 6}})
			if err != nil {
				t.Error(err)
				return
			}
			want := []float32{0, 2, 0, float32(g), 0, 6}
			if len(out) != 1 || len(out[0].Shape) != 2 || out[0].Shape[0] != 2 || out[0].Shape[1] != 3 {
				t.Errorf("output %+v", out)
				return
			}
			for i := range want {
				if out[0].Data[i] != want[i] {
					t.Errorf("output %v, want %v", out[0].Data, want)
					return
				}
			}
		})
	}
	wg.Wait()
	if _, err := s.Run(); err == nil {
		t.Error("Run without inputs succeeded")
	}
	s.Close()
	if _, err := s.Run(Tensor{Shape: []int64{1, 3}, Data: make([]float32, 3)}); err != ErrClosed {
		t.Errorf("Run after Close: %v", err)
	}
}

func TestOpenRefusesBadFiles(t *testing.T) {
	runtime(t)
	path, sum := writeModel(t, reluModel())
	_, err := Open(path, strings.Repeat("0", 64), Options{InstallHint: "make models"})
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "corrupt") || !strings.Contains(err.Error(), "make models") {
		t.Errorf("wrong SHA-256: %v", err)
	}
	missing := filepath.Join(t.TempDir(), "absent.onnx")
	if _, err := Open(missing, sum, Options{InstallHint: "make models"}); err == nil || !strings.Contains(err.Error(), missing) || !strings.Contains(err.Error(), "make models") {
		t.Errorf("missing model: %v", err)
	}
	garbage := []byte("not an onnx model")
	gpath, gsum := writeModel(t, garbage)
	if _, err := Open(gpath, gsum, Options{}); err == nil || !strings.Contains(err.Error(), gpath) {
		t.Errorf("garbage model: %v", err)
	}
}
