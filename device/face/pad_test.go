package face

import (
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

// TestPADScores: the network scores the still of a live person in pad/
// above PADThreshold and the print and screen photos below it (end to
// end, on the files).
func TestPADScores(t *testing.T) {
	p := testPAD(t)
	e := testEngine(t)
	dir := facesDir(t)
	for _, tc := range []struct {
		file string
		live bool
	}{{"live_1.jpg", true}, {"print_attack_1.jpg", false}, {"screen_replay_1.jpg", false}} {
		img := readImage(t, filepath.Join(dir, "pad", tc.file))
		fs, err := e.Detect(img)
		if err != nil || len(fs) == 0 {
			t.Fatalf("%s: no face (%v)", tc.file, err)
		}
		s, err := p.Live(img, fs[0].Rect)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %.4f", tc.file, s)
		if (s >= PADThreshold) != tc.live {
			t.Errorf("%s scores %.4f, want live=%v at %.2f", tc.file, s, tc.live, PADThreshold)
		}
	}
}

// TestLivenessTrackPADScores calibrates PADThreshold on the recorded
// scores (livenesstrack_test.go): the shared live clips score above it in
// (nearly) every frame and in the median; the print and screen photos of
// pad/ moved in front of a virtual camera score below it in the median.
func TestLivenessTrackPADScores(t *testing.T) {
	scores := func(name string) []float64 {
		var v []float64
		for _, f := range trackNamed(t, name).Frames {
			if f.PAD >= 0 {
				v = append(v, f.PAD)
			}
		}
		if len(v) == 0 {
			t.Fatalf("%s: no frame scored", name)
		}
		return v
	}
	for _, clip := range liveClipTracks {
		v := scores(clip)
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
	for _, name := range []string{"moved/pad/print_attack_1.jpg", "moved/pad/screen_replay_1.jpg"} {
		v := scores(name)
		t.Logf("%s: %d frames, max %.3f, median %.3f", name, len(v), slices.Max(v), median(v))
		if median(v) >= PADThreshold {
			t.Errorf("%s: median %.3f, want below %.2f", name, median(v), PADThreshold)
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
