package face

import (
	"bufio"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"examkiosk/device/face/calib"
	"examkiosk/device/face/ort"
	"examkiosk/device/face/ort/orttest"
	"examkiosk/internal/testenv"
)

// Every shipped model's SHA-256 is the one build/setup.sh installs it with.
func TestShippedModelsMatchManifest(t *testing.T) {
	f, err := os.Open(filepath.Join(testenv.RepoRoot(t), "build", "models.sha256"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	manifest := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if sum, name, ok := strings.Cut(sc.Text(), "  "); ok && !strings.HasPrefix(sum, "#") {
			manifest[name] = sum
		}
	}
	for _, id := range calib.Shipped() {
		m, _ := LookupModel(id)
		if _, ok := manifest[id]; !ok {
			t.Errorf("%s is not in build/models.sha256", id)
		}
		if m.SHA256 != "" && manifest[id] != m.SHA256 {
			t.Errorf("%s: SHA-256 %s in the model table, %s in build/models.sha256", id, m.SHA256, manifest[id])
		}
		if m.Kind != KindDlib && m.SHA256 == "" {
			t.Errorf("%s: an ONNX model without its SHA-256", id)
		}
		if m.Size != kinds[m.Kind].size || len(m.Curve) == 0 {
			t.Errorf("%s: size %d (kind %s: %d), %d curve points", id, m.Size, m.Kind, kinds[m.Kind].size, len(m.Curve))
		}
		for i := 1; i < len(m.Curve); i++ {
			if m.Curve[i].FAR >= m.Curve[i-1].FAR || m.Curve[i].Threshold > m.Curve[i-1].Threshold {
				t.Errorf("%s: curve not decreasing at %d: %+v", id, i, m.Curve)
			}
		}
	}
}

func TestThresholdAt(t *testing.T) {
	m := Model{Curve: []FARPoint{{FAR: 1e-2, Threshold: 0.6}, {FAR: 1e-3, Threshold: 0.5}, {FAR: 1e-4, Threshold: 0.4}}}
	for _, tc := range []struct{ far, want float64 }{
		{0.5, 0.6}, {1e-2, 0.6}, {1e-3, 0.5}, {math.Sqrt(1e-3 * 1e-4), 0.45}, {1e-4, 0.4}, {1e-5, 0.3}, {1e-12, 0},
	} {
		if got := m.ThresholdAt(tc.far); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("ThresholdAt(%g) = %g, want %g", tc.far, got, tc.want)
		}
	}
	if SearchFAR(0.001, 100) != 1e-5 || SearchFAR(0.001, 0) != 0.001 {
		t.Error("SearchFAR")
	}
	// The 1:N threshold tightens as the number of stored faces grows.
	mf, _ := LookupModel(DefaultRecognitionModel)
	prev := math.Inf(1)
	for _, n := range []int{1, 10, 100, 1000} {
		th := mf.ThresholdAt(SearchFAR(DefaultTargetFAR, n))
		if !(th <= prev) || th <= 0 {
			t.Errorf("n=%d: threshold %g after %g", n, th, prev)
		}
		prev = th
	}
}

func TestDistanceRefusesOtherModels(t *testing.T) {
	a := Descriptor{Model: "a.onnx", Kind: KindMobileFaceNet, Vec: []float32{1, 0, 0}}
	b := Descriptor{Model: "a.onnx", Kind: KindMobileFaceNet, Vec: []float32{0, 1, 0}}
	if d, err := Distance(a, b); err != nil || math.Abs(d-1) > 1e-9 {
		t.Errorf("orthogonal: %g %v", d, err)
	}
	if d, err := Distance(a, a); err != nil || math.Abs(d) > 1e-9 {
		t.Errorf("same: %g %v", d, err)
	}
	for _, other := range []Descriptor{
		{Model: "b.onnx", Kind: KindMobileFaceNet, Vec: []float32{1, 0, 0}},
		{Model: "a.onnx", Kind: KindMobileFaceNet, Vec: []float32{1, 0}},
		{Model: "a.onnx", Kind: KindDlib, Vec: []float32{1, 0, 0}},
	} {
		if _, err := Distance(a, other); !errors.Is(err, ErrModelMismatch) {
			t.Errorf("%+v: %v", other, err)
		}
	}
	f, err := Fuse([]Descriptor{a, b})
	if err != nil || math.Abs(float64(f.Vec[0])-math.Sqrt(0.5)) > 1e-6 {
		t.Errorf("fuse: %+v %v", f, err)
	}
	if _, err := Fuse([]Descriptor{a, {Model: "b.onnx", Kind: KindMobileFaceNet, Vec: []float32{1, 0, 0}}}); !errors.Is(err, ErrModelMismatch) {
		t.Errorf("fuse across models: %v", err)
	}
}

// ortRuntime skips when ONNX Runtime is not installed.
func ortRuntime(t *testing.T) {
	if _, err := os.Stat(ort.DefaultLibraryPath()); err != nil {
		t.Skipf("ONNX Runtime not installed at %s (%s)", ort.DefaultLibraryPath(), InstallModelsHint)
	}
}

// A missing, corrupt or ill-shaped model is refused with its path and the
// install command.
func TestONNXModelRefused(t *testing.T) {
	ortRuntime(t)
	dir := t.TempDir()
	cfg := DefaultConfig()
	cfg.ModelsDir = dir
	shipped, _ := LookupModel(DefaultRecognitionModel)

	if _, err := newONNXRecognizer(cfg, shipped, nil); err == nil ||
		!strings.Contains(err.Error(), filepath.Join(dir, DefaultRecognitionModel)) || !strings.Contains(err.Error(), InstallModelsHint) {
		t.Errorf("missing model: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, DefaultRecognitionModel), []byte("truncated"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := newONNXRecognizer(cfg, shipped, nil); err == nil || !strings.Contains(err.Error(), "corrupt") ||
		!strings.Contains(err.Error(), filepath.Join(dir, DefaultRecognitionModel)) || !strings.Contains(err.Error(), InstallModelsHint) {
		t.Errorf("corrupt model: %v", err)
	}
	// A 112×112 NHWC model whose output is 3 values (the mean colour),
	// not MobileFaceNet's 192.
	_, sum := orttest.Write(t, dir, "tiny.onnx", orttest.Model(
		[]orttest.Value{{Name: "x", Shape: []int64{-1, 112, 112, 3}}}, []orttest.Value{{Name: "y", Shape: []int64{-1, 3}}},
		orttest.Node{Op: "ReduceMean", Inputs: []string{"x"}, Outputs: []string{"y"}, Ints: map[string][]int64{"axes": {1, 2}}, Int: map[string]int64{"keepdims": 0}}))
	cfg.RecognitionModel, cfg.RecognitionKind, cfg.RecognitionSHA256 = "tiny.onnx", KindMobileFaceNet, sum
	m, err := cfg.Model()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := newONNXRecognizer(cfg, m, nil); err == nil || !strings.Contains(err.Error(), "192-D") || !strings.Contains(err.Error(), "tiny.onnx") {
		t.Errorf("wrong output size: %v", err)
	}
	// The same file declared as an NCHW kind is refused for its input.
	cfg.RecognitionKind = KindArcFace512
	m, _ = cfg.Model()
	if _, err := newONNXRecognizer(cfg, m, nil); err == nil || !strings.Contains(err.Error(), "input") {
		t.Errorf("wrong layout: %v", err)
	}
}

// The engine stops on a missing model file with its path and the install
// command before loading anything.
func TestEngineMissingModel(t *testing.T) {
	dir := t.TempDir()
	cfg := DefaultConfig()
	cfg.ModelsDir = dir
	_, err := NewEngine(cfg, nil)
	if err == nil || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), InstallModelsHint) {
		t.Errorf("NewEngine: %v", err)
	}
}

// TestEastAsianAccuracy checks the shipped 1:1 threshold of the default
// model on ../shared/faces/eastasia: FAR ≤ 0.1 % and FRR ≤ 12 %.
func TestEastAsianAccuracy(t *testing.T) {
	t.Parallel() // the two longest tests of the package (photo sets) overlap: the engine serves concurrent calls
	if testing.Short() {
		t.Skip("short: about 700 photos")
	}
	root := filepath.Join(facesDir(t), "eastasia")
	f, err := os.Open(filepath.Join(root, "pairs.txt"))
	if err != nil {
		t.Skipf("East Asian set absent: %v", err)
	}
	pairs, _, err := ParsePairs(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	e := testEngine(t)
	if e.Model().ID != DefaultRecognitionModel {
		t.Fatalf("test engine runs %s", e.Model().ID)
	}
	scored, failed, _, err := e.ScorePairs(context.Background(), pairs, root)
	if err != nil {
		t.Fatal(err)
	}
	far, frr := RatesAt(scored, e.Threshold())
	t.Logf("%s at %.3f: FAR %.4f%%, FRR %.2f%% (%d pairs, %d photos without a face)", e.Model().ID, e.Threshold(), 100*far, 100*frr, len(scored), len(failed))
	if far > 0.001 || frr > 0.12 {
		t.Errorf("FAR %.4f%% (want ≤ 0.1%%), FRR %.2f%% (want ≤ 12%%)", 100*far, 100*frr)
	}
}

// The kiosk's path: NewEngine with a missing runtime library stops with
// the library's path and the command that installs it (and frees what it
// had loaded).
func TestEngineMissingRuntime(t *testing.T) {
	if testing.Short() {
		t.Skip("short: loads the dlib models")
	}
	cfg := testConfig(t)
	cfg.ONNXRuntime = filepath.Join(t.TempDir(), ort.LibraryName)
	_, err := NewEngine(cfg, nil)
	if err == nil || !strings.Contains(err.Error(), cfg.ONNXRuntime) || !strings.Contains(err.Error(), ort.InstallHint) {
		t.Errorf("NewEngine: %v", err)
	}
}
