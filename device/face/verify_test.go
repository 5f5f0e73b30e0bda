package face

import (
	"context"
	"path/filepath"
	"testing"
)

// TestCandidateJourney runs the kiosk's face flow on the cap13 clip: the
// best frames are captured and fused, the ID photo is made from the best
// frame and compared with the live face (match), and a photo of someone
// else is refused (face_mismatch).
func TestCandidateJourney(t *testing.T) {
	e := testEngine(t)
	dir := facesDir(t)
	gs := analyzeClip(t, filepath.Join(dir, "live", "cap13_blink_turn", "cap13_blink_turn.mjpeg"))
	frames := mjpegFrames(t, filepath.Join(dir, "live", "cap13_blink_turn", "cap13_blink_turn.mjpeg"))
	// The clip's camera sits low (pitch ≈ 25°) and it is soft: capture
	// with the pitch limit opened, as a centre could configure.
	c := e.NewCapture()
	lim := e.Config().Live
	lim.MaxPitch = 40
	kept := 0
	for i, f := range frames {
		g := gs[i]
		if g.Face == nil {
			continue
		}
		g.Problems = lim.check(g.Face.Measures)
		g.OK = len(g.Problems) == 0 && g.Faces == 1
		if c.Add(f, g) {
			kept++
		}
	}
	if c.Len() == 0 {
		t.Fatal("no frame was good enough to capture")
	}
	live, err := c.Descriptor(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	jpg, rep, err := e.MakeIDPhoto(context.Background(), c.Best(), e.Config().Photo)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("captured %d frames; ID photo %d bytes, problems %v (the clip's wall is not a plain red/blue/white)", c.Len(), len(jpg), codesOf(rep.Problems))
	v, err := e.VerifyPhoto(context.Background(), live, jpg)
	if err != nil {
		t.Fatal(err)
	}
	if !v.Match {
		t.Errorf("own ID photo: distance %.3f > threshold %.3f", v.Distance, v.Threshold)
	}
	t.Logf("live vs own ID photo: %.3f", v.Distance)
	other := readFile(t, filepath.Join(dir, "verify", "Matt_Damon", "Matt_Damon_0001.jpg"))
	v, err = e.VerifyPhoto(context.Background(), live, other)
	if err != nil {
		t.Fatal(err)
	}
	if v.Match || len(v.Problems) == 0 || v.Problems[0].Code != CodeFaceMismatch {
		t.Errorf("someone else's photo: distance %.3f match %v problems %v", v.Distance, v.Match, codesOf(v.Problems))
	}
	t.Logf("live vs another person: %.3f", v.Distance)
}
