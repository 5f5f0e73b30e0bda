package face

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEyeStateOnClips: the eye-state network sees the annotated closures
// of the live clips shut and the frames around them open.
func TestEyeStateOnClips(t *testing.T) {
	dir := facesDir(t)
	for _, tc := range []struct {
		clip         string
		open, closed []int // 0-based frames
	}{
		{"cap13_blink_turn/cap13_blink_turn.mjpeg", []int{50, 55, 70}, []int{61}},
		{"d9_blinks.mjpeg", []int{2, 13, 30}, []int{6, 7, 19, 21, 97}},
	} {
		gs := analyzeClip(t, filepath.Join(dir, "live", tc.clip))
		check := func(frames []int, shut bool) {
			for _, i := range frames {
				p := gs[i].Face.Measures.EyesClosed
				if (p >= 0.5) != shut {
					t.Errorf("%s frame %d: P(eyes closed) %.3f, want closed=%v", tc.clip, i, p, shut)
				}
			}
		}
		check(tc.open, false)
		check(tc.closed, true)
	}
}

// TestEyeModelChecked: a corrupt eye-state model stops the engine with its
// path and the command that installs it.
func TestEyeModelChecked(t *testing.T) {
	cfg := testConfig(t)
	dir := t.TempDir()
	all, _ := filepath.Glob(filepath.Join(cfg.ModelsDir, "*"))
	for _, f := range all {
		if n := filepath.Base(f); n != EyeModel {
			if err := symlink(f, filepath.Join(dir, n)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := os.WriteFile(filepath.Join(dir, EyeModel), []byte("not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg.ModelsDir = dir
	_, err := NewEngine(cfg, nil)
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, EyeModel)) || !strings.Contains(err.Error(), InstallModelsHint) {
		t.Errorf("NewEngine with a corrupt %s: %v", EyeModel, err)
	}
}

// BenchmarkEyeState is the eye-state network's time per frame (both eyes:
// crops and two runs), which Analyze adds to every live frame.
func BenchmarkEyeState(b *testing.B) {
	e := testEngine(b)
	f, _ := benchFrame(b)
	g, err := e.Analyze(f)
	if err != nil || g.Face == nil {
		b.Fatal("no face", err)
	}
	px, p := toRGB(f), toPts(g.Face.Landmarks)
	loopCPU(b, func() {
		if _, err := e.eye.eyesClosed(px, p); err != nil {
			b.Fatal(err)
		}
	})
}
