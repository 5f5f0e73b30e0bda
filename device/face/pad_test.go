package face

import (
	"image"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"examkiosk/device/camera"
)

// testPAD opens the installed PAD model, skipping t when it is absent.
func testPAD(t testing.TB) *PAD {
	t.Helper()
	dir := modelsDir(t)
	if _, err := os.Stat(filepath.Join(dir, PADModel)); err != nil {
		t.Skipf("%s not installed in %s (run build/setup.sh models): %v", PADModel, dir, err)
	}
	p, err := OpenPAD(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// TestPADScores calibrates PADThreshold: the shared live clips score above
// it in (nearly) every frame and in the median; the print and screen photos
// of pad/ moved in front of a virtual camera score below it in the median;
// the still of a live person in pad/ scores above it.
func TestPADScores(t *testing.T) {
	p := testPAD(t)
	e := testEngine(t)
	dir := facesDir(t)
	score := func(frames []image.Image) []float64 {
		var v []float64
		for _, f := range frames {
			fs, err := e.Detect(f)
			if err != nil || len(fs) == 0 {
				continue
			}
			s, err := p.Live(f, fs[0].Rect)
			if err != nil {
				t.Fatal(err)
			}
			v = append(v, s)
		}
		if len(v) == 0 {
			t.Fatal("no face found")
		}
		return v
	}
	for _, clip := range liveClips {
		frames := mjpegFrames(t, filepath.Join(dir, "live", clip))
		var some []image.Image
		for i := 0; i < len(frames); i += 5 {
			some = append(some, frames[i])
		}
		v := score(some)
		low := 0
		for _, s := range v {
			if s < PADThreshold {
				low++
			}
		}
		t.Logf("%s: %d frames, min %.3f, median %.3f", clip, len(v), slices.Min(v), median(v))
		if median(v) < PADThreshold || low*10 > len(v) {
			t.Errorf("live clip %s: median %.3f, %d of %d frames below %.2f", clip, median(v), low, len(v), PADThreshold)
		}
	}
	for _, tc := range []struct {
		file string
		live bool
	}{{"live_1.jpg", true}, {"print_attack_1.jpg", false}, {"screen_replay_1.jpg", false}} {
		img := readImage(t, filepath.Join(dir, "pad", tc.file))
		v := score([]image.Image{img})
		t.Logf("%s: %.4f", tc.file, v[0])
		if (v[0] >= PADThreshold) != tc.live {
			t.Errorf("%s scores %.4f, want live=%v at %.2f", tc.file, v[0], tc.live, PADThreshold)
		}
		if tc.live {
			continue
		}
		fs, _ := e.Detect(img)
		moved := score(photoSequence(toRGB(img), fs[0].Rect, 2*clipFPS))
		t.Logf("%s moved: %d frames, max %.3f, median %.3f", tc.file, len(moved), slices.Max(moved), median(moved))
		if median(moved) >= PADThreshold {
			t.Errorf("%s moved: median %.3f, want below %.2f", tc.file, median(moved), PADThreshold)
		}
	}
}

// TestLivenessWithPAD runs a whole session through Feed with the PAD: a
// person following the prompts on cap13's frames passes, and the session
// reports the median score it decided on.
func TestLivenessWithPAD(t *testing.T) {
	p := testPAD(t)
	e := testEngine(t)
	clip := filepath.Join(facesDir(t), "live", "cap13_blink_turn", "cap13_blink_turn.mjpeg")
	frames := mjpegFrames(t, clip)
	gs := analyzeClip(t, clip)
	s := followScript(t, gs)
	cfg := followConfig(s)
	l, err := NewLiveness(cfg, mrand.New(mrand.NewPCG(3, 3)))
	if err != nil {
		t.Fatal(err)
	}
	l.UsePAD(p)
	f := camera.NewFollower(s, clipFPS, mrand.New(mrand.NewPCG(3, 4)))
	var st LivenessStatus
	for k := 0; k < 60*clipFPS && l.State() == LivenessRunning; k++ {
		if st, _, err = l.Feed(e, frames[f.Next()], frameTime(k)); err != nil {
			t.Fatal(err)
		}
		f.Prompt(string(st.Action))
	}
	t.Logf("state %s, reason %q, PAD median %.3f over %d frames", st.State, st.Reason, l.PADScore(), len(l.scores))
	if st.State != LivenessPassed || l.PADScore() < PADThreshold {
		t.Errorf("a person following the prompts: %+v, PAD %.3f", st, l.PADScore())
	}
}

// BenchmarkPAD is the passive detector's time per frame (crop, resize and
// the network), on a frame of cap13, in wall and CPU time.
func BenchmarkPAD(b *testing.B) {
	p := testPAD(b)
	e := testEngine(b)
	frames := mjpegFrames(b, filepath.Join(facesDir(b), "live", "cap13_blink_turn", "cap13_blink_turn.mjpeg"))
	fs, err := e.Detect(frames[70])
	if err != nil || len(fs) == 0 {
		b.Fatal("no face", err)
	}
	loopCPU(b, func() {
		if _, err := p.Live(frames[70], fs[0].Rect); err != nil {
			b.Fatal(err)
		}
	})
}
