package face_test

import (
	"context"
	"image"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"examkiosk/device/camera"
	"examkiosk/device/face"
	"examkiosk/internal/testenv"
)

// TestFaceJourney is the candidate's face journey as the app wires it, run
// on a recorded person (cap13) who follows the prompts: live guidance on
// every frame, the liveness challenge with the passive detector, capture
// of the best frames, the ID photo made from the best one and compared with
// the live face. It replaces an Example that had no output and never ran.
func TestFaceJourney(t *testing.T) {
	faces, models := testenv.FacesDir(t), testenv.ModelsDir(t)
	cfg := face.DefaultConfig()
	cfg.ModelsDir = models
	// cap13 was filmed from below: its head measures "up/down" in 146 of
	// its 150 frames under the kiosk's limit, where the camera sits at eye
	// level. The journey is shown with that one limit widened, live and
	// for the ID photo.
	cfg.Live.MaxPitch = 45
	cfg.Photo.Face.MaxPitch = 45
	eng, err := face.NewEngine(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	pad, err := face.OpenPAD(models, cfg.ONNXRuntime)
	if err != nil {
		t.Fatal(err)
	}
	defer pad.Close()

	// The recorded person: cap13's frames, played by a Follower that
	// performs each prompted action from the clip's annotated segments.
	live := filepath.Join(faces, "live")
	frames, err := camera.ReadClip(context.Background(), filepath.Join(live, "cap13_blink_turn", "cap13_blink_turn.mjpeg"), camera.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	imgs := make([]image.Image, len(frames))
	gs := make([]face.Guidance, len(frames))
	for i, f := range frames {
		if imgs[i], err = f.Image(); err != nil {
			t.Fatal(err)
		}
		if gs[i], err = eng.Analyze(imgs[i]); err != nil {
			t.Fatal(err)
		}
	}
	notes, err := os.ReadFile(filepath.Join(live, "annotations.json"))
	if err != nil {
		t.Fatal(err)
	}
	rest := face.RestingFrames(gs)
	script, err := camera.ParseAnnotations(notes, "cap13_blink_turn", func(i int) bool { return rest[i] })
	if err != nil {
		t.Fatal(err)
	}
	person := camera.NewFollower(script, 15, mrand.New(mrand.NewPCG(1, 2)))

	lcfg := cfg.Liveness
	lcfg.Actions = nil // the actions the recording can perform
	for _, a := range script.Names() {
		lcfg.Actions = append(lcfg.Actions, face.Action(a))
	}
	session, err := face.NewLiveness(lcfg, mrand.New(mrand.NewPCG(1, 1)))
	if err != nil {
		t.Fatal(err)
	}
	session.UsePAD(pad)
	capture := eng.NewCapture()
	t0 := time.Unix(1_700_000_000, 0)
	var st face.LivenessStatus
	for k := 0; k < 60*15 && session.State() == face.LivenessRunning; k++ {
		frame := imgs[person.Next()]
		var g face.Guidance
		if st, g, err = session.Feed(eng, frame, t0.Add(time.Duration(k)*time.Second/15)); err != nil {
			t.Fatal(err)
		}
		// The UI shows the words of g.Problems[0].Code until g.OK, and
		// the prompt of st.Phase / st.Action.
		capture.Add(frame, g)
		person.Prompt(string(st.Action))
	}
	cues, over := session.Cues()
	t.Logf("liveness %s (%q), PAD median %.3f, cues %+v over %v; %d frames captured", st.State, st.Reason, session.PADScore(), cues, over, capture.Len())
	if st.State != face.LivenessPassed {
		t.Fatalf("a person following the prompts: %+v", st)
	}
	if capture.Len() == 0 {
		t.Fatal("no frame captured")
	}

	ctx := context.Background()
	desc, err := capture.Descriptor(ctx)
	if err != nil {
		t.Fatal(err)
	}
	photo, report, err := eng.MakeIDPhoto(ctx, capture.Best(), eng.Config().Photo)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("ID photo: %d bytes, OK %v, problems %v", len(photo), report.OK, report.Problems)
	if !report.OK {
		t.Fatalf("the ID photo made from the best live frame is refused: %v", report.Problems)
	}
	v, err := eng.VerifyPhoto(ctx, desc, photo)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("verification: distance %.3f, threshold %.3f, match %v", v.Distance, v.Threshold, v.Match)
	if !v.Match {
		t.Errorf("the ID photo made from the live frames does not match them: %+v", v)
	}
}
