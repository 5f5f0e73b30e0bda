package face

import (
	"image"
	"math"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
)

// attackPhotos returns frontal single-face photos to move in front of the
// camera: the portraits, the screen replay, and East Asian faces (the
// kiosk's candidates), chosen by their measured pose (|yaw| < 8°) so that
// the liveness session would start on them: a photo the kiosk never
// analyses proves nothing.
func attackPhotos(t *testing.T, n int) []string {
	t.Helper()
	dir := facesDir(t)
	out := []string{"idphoto/portrait/deepface_img11.jpg", "idphoto/portrait/deepface_img13.jpg", "pad/screen_replay_1.jpg"}
	people, _ := os.ReadDir(filepath.Join(dir, "eastasia"))
	var names []string
	for _, p := range people {
		if p.IsDir() {
			names = append(names, p.Name())
		}
	}
	sort.Strings(names)
	e := testEngine(t)
	for i := 0; i < len(names) && len(out) < n; i += 37 { // spread over the set
		files, _ := filepath.Glob(filepath.Join(dir, "eastasia", names[i], "*.jpg"))
		if len(files) == 0 {
			continue
		}
		g, err := e.Analyze(readImage(t, files[0]))
		if err != nil || g.Faces != 1 || g.Face == nil {
			continue
		}
		if p := estimatePose(toPts(g.Face.Landmarks)); math.Abs(p.Yaw) < 8 {
			rel, _ := filepath.Rel(dir, files[0])
			out = append(out, rel)
		}
	}
	return out
}

// movedPhotoRun is one photo moved in front of the camera and what the
// motion detector made of it.
type movedPhotoRun struct {
	frames, analysed int
	maxYaw, maxRes   float64
	events           []Event
	gs               []Guidance
}

// movedCache keeps the analysed frames of each moved photo: the motion
// tests and the blink test read the same sequences, analysed once.
var movedCache sync.Map

// movedPhotoFrames analyses the photo at path moved in front of the camera
// (photoSequence), once per test binary.
func movedPhotoFrames(t *testing.T, path string) []Guidance {
	t.Helper()
	if v, ok := movedCache.Load(path); ok {
		return v.([]Guidance)
	}
	img := readImage(t, path)
	faces, err := testEngine(t).Detect(img)
	if err != nil || len(faces) != 1 {
		t.Fatalf("%s: %d faces, %v", path, len(faces), err)
	}
	// photoSequence shows the face at about half the 220 px its comment
	// promises (the pinhole at distance 2 halves it); half the face's
	// width gives the guide frame's 220 px.
	r := faces[0].Rect
	c := (r.Min.X + r.Max.X) / 2
	half := image.Rect(c-r.Dx()/4, r.Min.Y, c+r.Dx()/4, r.Max.Y)
	gs := analyzeFrames(t, photoSequence(toRGB(img), half, 6*clipFPS))
	movedCache.Store(path, gs)
	return gs
}

func movePhoto(t *testing.T, path string) movedPhotoRun {
	t.Helper()
	run := movedPhotoRun{gs: movedPhotoFrames(t, path)}
	run.frames = len(run.gs)
	d := NewMotionDetector()
	for i, g := range run.gs {
		d.last = motionSample{}
		run.events = append(run.events, d.Observe(singleFace(g), frameTime(i))...)
		if d.last.ear > 0 {
			run.analysed++
			run.maxRes = math.Max(run.maxRes, d.last.residual)
			run.maxYaw = math.Max(run.maxYaw, math.Abs(d.last.yaw))
		}
	}
	t.Logf("%d/%d frames analysed; max |yaw| %.1f° (turn %.0f°), max residual %.3f (turn %.2f); events %v",
		run.analysed, run.frames, run.maxYaw, turnYaw, run.maxRes, turnResidual, run.events)
	return run
}

// TestMovedPhotosAreAnalysedAndRefused moves frontal photos as a printed
// photo or a tablet is moved by hand (slide, scale, roll, ±30° tilt out of
// plane). Each sequence must be analysed by the motion detector in most
// frames, at least half (otherwise "no events" would hold trivially) and must give no turn
// and no mouth event and pass no challenge. Some of them reach the turn's
// yaw through the tilt alone, so a loosened turn residual fails here.
func TestMovedPhotosAreAnalysedAndRefused(t *testing.T) {
	n := 7
	if testing.Short() {
		n = 3
	}
	dir := facesDir(t)
	pastYaw := 0
	for _, p := range attackPhotos(t, n) {
		t.Run(p, func(t *testing.T) {
			run := movePhoto(t, filepath.Join(dir, p))
			// At least half: a ±30° out-of-plane tilt takes the face out of
			// the HOG detector's reach at the ends of the sweep (58 of 90
			// frames for deepface_img13 on the merged main).
			if run.analysed < run.frames/2 {
				t.Fatalf("only %d of %d frames analysed: the attack does not reach the motion rules", run.analysed, run.frames)
			}
			if run.maxYaw >= turnYaw {
				pastYaw++
			}
			for _, ev := range run.events {
				if ev.Action != ActionBlink { // blinks: TestMovedPhotosMakeNoBlink
					t.Errorf("a moved photo produced %s at frame %d", ev.Action, ev.Frame)
				}
			}
			for _, ch := range [][]Action{{ActionTurnLeft, ActionTurnRight}, {ActionBlink, ActionOpenMouth}, {ActionTurnRight, ActionBlink}} {
				if st := runChallenge(t, run.gs, ch, 3); st.State == LivenessPassed {
					t.Errorf("challenge %v passed on a moved photo", ch)
				}
			}
		})
	}
	if pastYaw == 0 {
		t.Errorf("no moved photo reached the turn's yaw: the turn residual was not tested")
	}
}

// TestMovedPhotosMakeNoBlink is the blink half of the moved-photo promise
// (issue 15). The landmarks of a moved photo can jitter shut: that of
// eastasia/chinese_ai_weiwei_0001 closes them enough at frame ~86 to pass
// the landmark rules of a blink. A blink also needs the eye-state network
// to see the eyes shut (blinkEyeShut), and on a photo it never does: each
// photo's highest eye-state logit is logged against it.
func TestMovedPhotosMakeNoBlink(t *testing.T) {
	dir := facesDir(t)
	jitterShut := 0
	for _, p := range attackPhotos(t, 7) {
		t.Run(p, func(t *testing.T) {
			run := movePhoto(t, filepath.Join(dir, p))
			peak := math.Inf(-1)
			d := NewMotionDetector()
			for i, g := range run.gs {
				if f := singleFace(g); f != nil && f.Measures.EyesClosed >= 0 {
					peak = math.Max(peak, logit(f.Measures.EyesClosed))
				}
				d.Observe(singleFace(g), frameTime(i))
				if !d.closedAt.IsZero() {
					jitterShut++
				}
			}
			t.Logf("highest eye-state logit %.1f (a blink needs %.0f)", peak, blinkEyeShut)
			for _, ev := range run.events {
				if ev.Action == ActionBlink {
					t.Errorf("a moved photo produced a blink at frame %d", ev.Frame)
				}
			}
		})
	}
	if jitterShut == 0 {
		t.Errorf("no moved photo's landmarks closed: the eye-state rule was not tested")
	}
}
