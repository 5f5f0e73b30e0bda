package face

import (
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestEyeStateOnClips: the eye-state network sees the annotated closures
// of the live clips shut and the frames around them open (only those
// frames are analysed: the rules' tests replay the recorded tracks).
func TestEyeStateOnClips(t *testing.T) {
	dir := facesDir(t)
	e := testEngine(t)
	for _, tc := range []struct {
		clip         string
		open, closed []int // 0-based frames
	}{
		{"cap13_blink_turn/cap13_blink_turn.mjpeg", []int{50, 55, 70}, []int{61}},
		{"d9_blinks.mjpeg", []int{2, 13, 30}, []int{6, 7, 19, 21, 97}},
	} {
		frames := mjpegFrames(t, filepath.Join(dir, "live", tc.clip))
		check := func(idx []int, shut bool) {
			for _, i := range idx {
				g, err := e.Analyze(frames[i])
				if err != nil || g.Face == nil {
					t.Fatalf("%s frame %d: no face (%v)", tc.clip, i, err)
				}
				p := g.Face.Measures.EyesClosed
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

var eyePopulation = flag.Bool("eyepopulation", false, "TestEyeStatePopulation: measure the eye-state network on every photo of eastasia/ and verify/")

// TestEyeStatePopulation (with -eyepopulation; minutes) measures what the
// eye-state network says of open eyes at rest across the populations of
// the shared photos: for each frontal photo (|yaw| < 8°) whose landmarks
// show the eyes open (aspect ratio ≥ 0.2), the logit of "both eyes
// closed". A blink needs the median logit of the open-eye history below
// blinkEyeOpen: a person whose open eyes read at or above it can never
// blink for the motion detector. The figures are logged for
// docs/BENCHMARKS.md, per population and with the photos past the limit.
func TestEyeStatePopulation(t *testing.T) {
	if !*eyePopulation {
		t.Skip("with -eyepopulation (analyses every photo of eastasia/ and verify/)")
	}
	dir := facesDir(t)
	e := testEngine(t)
	for _, set := range []string{"eastasia", "verify"} {
		files, _ := filepath.Glob(filepath.Join(dir, set, "*", "*.jpg"))
		var logits []float64
		var past []string
		frontal, closedLm, unmeasured := 0, 0, 0
		earRule, netAll := 0, 0 // the photo rule's eyes_closed (MinEyeOpen); the network's "closed" on every frontal photo
		for _, f := range files {
			g, err := e.Analyze(readImage(t, f))
			if err != nil || g.Face == nil || g.Faces != 1 {
				continue
			}
			p := toPts(g.Face.Landmarks)
			if math.Abs(estimatePose(p).Yaw) >= 8 {
				continue
			}
			frontal++
			if eyesOpen(p) < LiveLimits().MinEyeOpen {
				earRule++
			}
			if g.Face.Measures.EyesClosed >= 0.5 {
				netAll++
			}
			if eyesOpen(p) < 0.2 {
				closedLm++
				continue
			}
			if g.Face.Measures.EyesClosed < 0 {
				unmeasured++
				continue
			}
			l := logit(g.Face.Measures.EyesClosed)
			logits = append(logits, l)
			if l >= blinkEyeOpen {
				rel, _ := filepath.Rel(dir, f)
				past = append(past, fmt.Sprintf("%s (%.1f, EAR %.2f)", rel, l, eyesOpen(p)))
			}
		}
		slices.Sort(logits)
		q := func(f float64) float64 { return logits[int(f*float64(len(logits)-1))] }
		t.Logf("%s: of %d frontal photos %d (%.1f %%) below the eye rule's aspect ratio %.2f, %d (%.1f %%) closed for the network (P ≥ 0.5)",
			set, frontal, earRule, 100*float64(earRule)/float64(frontal), LiveLimits().MinEyeOpen, netAll, 100*float64(netAll)/float64(frontal))
		t.Logf("%s: %d photos, %d frontal, %d with landmark-closed eyes (aspect ratio < 0.2), %d unmeasured; %d open: logit median %.1f, p90 %.1f, p95 %.1f, p99 %.1f, max %.1f; %d (%.1f %%) at or above blinkEyeOpen %.0f: %v",
			set, len(files), frontal, closedLm, unmeasured, len(logits), q(0.5), q(0.9), q(0.95), q(0.99), q(1), len(past),
			100*float64(len(past))/float64(len(logits)), blinkEyeOpen, past)
	}
}
