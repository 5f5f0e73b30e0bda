package face

import (
	"encoding/json"
	"fmt"
	"image"
	"math"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"examkiosk/device/camera"
)

// fps of the fixture clips.
const clipFPS = 15

func frameTime(i int) time.Time {
	return time.Unix(1_700_000_000, 0).Add(time.Duration(i) * time.Second / clipFPS)
}

// clipCache holds the guidance of every frame of a clip, computed once.
var clipCache sync.Map // path -> []Guidance

func analyzeClip(t *testing.T, path string) []Guidance {
	t.Helper()
	if v, ok := clipCache.Load(path); ok {
		return v.([]Guidance)
	}
	e := testEngine(t)
	frames := mjpegFrames(t, path)
	gs := make([]Guidance, len(frames))
	for i, f := range frames {
		g, err := e.Analyze(f)
		if err != nil {
			t.Fatalf("%s frame %d: %v", path, i+1, err)
		}
		gs[i] = g
	}
	clipCache.Store(path, gs)
	return gs
}

func analyzeFrames(t *testing.T, frames []image.Image) []Guidance {
	t.Helper()
	e := testEngine(t)
	gs := make([]Guidance, len(frames))
	for i, f := range frames {
		g, err := e.Analyze(f)
		if err != nil {
			t.Fatal(err)
		}
		gs[i] = g
	}
	return gs
}

func motionEvents(gs []Guidance) []Event {
	d := NewMotionDetector()
	var evs []Event
	for i, g := range gs {
		evs = append(evs, d.Observe(singleFace(g), frameTime(i))...)
	}
	return evs
}

// singleFace is the face of g when it shows exactly one.
func singleFace(g Guidance) *Face {
	if g.Faces != 1 {
		return nil
	}
	return g.Face
}

type clipNotes struct {
	BlinkClosed [][2]int `json:"blink_closed"`
	TowardRight [][2]int `json:"face_toward_image_right"`
	TowardLeft  [][2]int `json:"face_toward_image_left"`
	Frames      int      `json:"frames"`
}

func readNotes(t *testing.T, clip string) clipNotes {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(facesDir(t), "live", "annotations.json"))
	if err != nil {
		t.Fatal(err)
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		t.Fatal(err)
	}
	var n clipNotes
	if err := json.Unmarshal(all[clip], &n); err != nil {
		t.Fatalf("annotations %s: %v", clip, err)
	}
	return n
}

// TestMotionOnAnnotatedClip checks that the blink and the turns of
// cap13_blink_turn are found within two frames of the annotation (which
// numbers frames from 1) and that nothing else is called a blink or a turn.
func TestMotionOnAnnotatedClip(t *testing.T) {
	dir := facesDir(t)
	notes := readNotes(t, "cap13_blink_turn")
	gs := analyzeClip(t, filepath.Join(dir, "live", "cap13_blink_turn", "cap13_blink_turn.mjpeg"))
	if len(gs) != notes.Frames {
		t.Fatalf("clip has %d frames, annotations say %d", len(gs), notes.Frames)
	}
	evs := motionEvents(gs)
	t.Logf("events: %v", evs)
	const slack = 2
	tests := []struct {
		action Action
		spans  [][2]int
		onset  bool // compare with the span start (turns) or accept the span (blinks)
	}{
		{ActionBlink, notes.BlinkClosed, false},
		{ActionTurnLeft, notes.TowardRight, true}, // candidate's left = image right
		{ActionTurnRight, notes.TowardLeft, true},
	}
	for _, tc := range tests {
		var got []int
		for _, ev := range evs {
			if ev.Action == tc.action {
				got = append(got, ev.Frame+1) // to the annotation's 1-based numbering
			}
		}
		if len(got) != len(tc.spans) {
			t.Errorf("%s: detected at frames %v, annotated %v", tc.action, got, tc.spans)
			continue
		}
		for i, sp := range tc.spans {
			lo, hi := sp[0]-slack, sp[1]+slack
			if tc.onset {
				hi = sp[0] + slack
			}
			if got[i] < lo || got[i] > hi {
				t.Errorf("%s #%d: detected at frame %d, annotated %v (allowed %d..%d)", tc.action, i+1, got[i], sp, lo, hi)
			}
		}
	}
}

// TestRawClipFailsEveryChallenge: cap13 blinks at 4.1 s and turns to the
// candidate's left at 7.1 s, which used to pass blink→turn_left when the
// clip was simply played. Played as it was recorded, whatever is asked, it
// now fails every challenge: its actions come when the recording has them,
// not as responses to the prompts.
func TestRawClipFailsEveryChallenge(t *testing.T) {
	dir := facesDir(t)
	gs := analyzeClip(t, filepath.Join(dir, "live", "cap13_blink_turn", "cap13_blink_turn.mjpeg"))
	for _, ch := range [][]Action{
		{ActionBlink, ActionTurnLeft}, {ActionBlink, ActionTurnRight}, {ActionTurnLeft, ActionTurnRight}, {ActionOpenMouth, ActionTurnLeft},
	} {
		if st := runChallenge(t, gs, ch, 3); st.State == LivenessPassed {
			t.Errorf("challenge %v passed on the raw cap13 clip: %+v", ch, st)
		}
	}
}

// liveClips are the shared clips of a live person, replayed as an
// attacker would replay a recording of the candidate.
var liveClips = []string{
	"cap13_blink_turn/cap13_blink_turn.mjpeg", "cap12_frontal_no_blink.mjpeg", "d9_blinks.mjpeg",
}

// TestReplayNeverPasses is issue 14's table: each shared clip looped
// against 200 seeded random challenges with the shipped configuration
// (2 of 4 actions, 3 attempts), starting at a random point of the clip,
// passed 0–69.5 % of sessions when any action counted; it must pass none.
// End to end on cap13 (the clip the other tests analyse); every clip on
// its recorded track: TestLivenessTrackReplayNeverPasses.
func TestReplayNeverPasses(t *testing.T) {
	dir := facesDir(t)
	trials := 200
	if testing.Short() {
		trials = 50
	}
	for _, clip := range liveClips[:1] {
		t.Run(filepath.Base(clip), func(t *testing.T) {
			gs := analyzeClip(t, filepath.Join(dir, "live", clip))
			res, err := RunTrials(gs, clipFPS, DefaultConfig().Liveness, trials, 14, func(rng *mrand.Rand) Player {
				return &Loop{N: len(gs), Start: rng.IntN(len(gs))}
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("replay: %d of %d passed; failures: %v", res.Passed, res.Trials, res.Reasons)
			if res.Passed != 0 {
				t.Errorf("a looped recording passed %d of %d sessions, want 0", res.Passed, res.Trials)
			}
		})
	}
}

// followScript is the prompt-following script of cap13 from the shared
// annotations, resting on frames the detector sees at rest.
func followScript(t *testing.T, gs []Guidance) camera.Script {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(facesDir(t), "live", "annotations.json"))
	if err != nil {
		t.Fatal(err)
	}
	rest := RestingFrames(gs)
	s, err := camera.ParseAnnotations(b, "cap13_blink_turn", func(i int) bool { return rest[i] })
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// followConfig is the shipped configuration restricted to the actions the
// script can play.
func followConfig(s camera.Script) LivenessConfig {
	cfg := DefaultConfig().Liveness
	cfg.Actions = nil
	for _, a := range s.Names() {
		cfg.Actions = append(cfg.Actions, Action(a))
	}
	return cfg
}

// lagged passes each prompt on to a Player only after a delay: a person
// who reacts too late, or a recording that does things at its own pace.
type lagged struct {
	Player
	delay   int // ticks
	pending []string
}

func (l *lagged) Prompt(a string) {
	l.pending = append(l.pending, a)
	if len(l.pending) > l.delay {
		l.Player.Prompt(l.pending[0])
		l.pending = l.pending[1:]
	}
}

// TestFollowPasses plays a live person who follows the prompts, spliced
// from cap13's annotated blink and turns with resting frames between and
// a human reaction delay (0.25–1.2 s), against 200 random challenges: at
// least 95 % must pass. The same person reacting 2 s late fails, which
// shows that the timing, not the presence of the action, decides.
func TestFollowPasses(t *testing.T) {
	gs := analyzeClip(t, filepath.Join(facesDir(t), "live", "cap13_blink_turn", "cap13_blink_turn.mjpeg"))
	s := followScript(t, gs)
	cfg := followConfig(s)
	if len(cfg.Actions) < 3 {
		t.Fatalf("the script of cap13 plays %v, want blink and both turns", s.Names())
	}
	res, err := RunTrials(gs, clipFPS, cfg, 200, 14, func(rng *mrand.Rand) Player { return camera.NewFollower(s, clipFPS, rng) })
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("follow: %d of %d passed (%d at the first attempt), mean %.1f s; failures: %v",
		res.Passed, res.Trials, res.PassedFirst, res.MeanSeconds, res.Reasons)
	if res.Passed*100 < 95*res.Trials {
		t.Errorf("a person following the prompts passed %d of %d sessions, want ≥ 95 %%", res.Passed, res.Trials)
	}
	late, err := RunTrials(gs, clipFPS, cfg, 50, 14, func(rng *mrand.Rand) Player {
		return &lagged{Player: camera.NewFollower(s, clipFPS, rng), delay: 2 * clipFPS}
	})
	if err != nil {
		t.Fatal(err)
	}
	if late.Passed != 0 {
		t.Errorf("a person reacting 2 s late passed %d of %d sessions, want 0 (%v)", late.Passed, late.Trials, late.Reasons)
	}
}

// TestActionBeforePromptFails: a person who turns while asked to keep
// still fails the attempt with a reason that says so, and a blink while
// waiting only delays the prompt.
func TestActionBeforePromptFails(t *testing.T) {
	gs := analyzeClip(t, filepath.Join(facesDir(t), "live", "cap13_blink_turn", "cap13_blink_turn.mjpeg"))
	s := followScript(t, gs)
	cfg := followConfig(s)
	cfg.Attempts = 1
	rest := func(n int) []int {
		var out []int
		for i := range n {
			out = append(out, s.Rest[0]+i%(s.Rest[1]-s.Rest[0]+1))
		}
		return out
	}
	seg := func(a string) []int {
		var out []int
		for i := s.Actions[a][0]; i <= s.Actions[a][1]; i++ {
			out = append(out, i)
		}
		return out
	}
	tests := []struct {
		name   string
		frames []int
		state  LivenessState
		reason string
	}{
		{"turn while waiting", slices.Concat(rest(10), seg("turn_left"), rest(200)), LivenessFailed, "before_prompt:"},
		{"blink while waiting", slices.Concat(rest(10), seg("blink"), rest(100)), LivenessFailed, "no_action:|too_late:"},
		{"never acts", rest(300), LivenessFailed, "no_action:|too_late:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, err := NewLiveness(cfg, mrand.New(mrand.NewPCG(5, 5)))
			if err != nil {
				t.Fatal(err)
			}
			var st LivenessStatus
			prompted := false
			for k, i := range tc.frames {
				st = l.Observe(gs[i], frameTime(k))
				prompted = prompted || st.Phase == PhaseAct
				if st.State != LivenessRunning {
					break
				}
			}
			said := slices.ContainsFunc(strings.Split(tc.reason, "|"), func(r string) bool { return strings.Contains(st.Reason, r) })
			if st.State != tc.state || !said {
				t.Errorf("state %s, reason %q; want %s with %q", st.State, st.Reason, tc.state, tc.reason)
			}
			if tc.name != "turn while waiting" && !prompted {
				t.Errorf("no prompt came: a blink while waiting must only delay it")
			}
		})
	}
}

// runChallenge runs a liveness session whose first attempt asks for want
// (found by trying seeds) over gs and returns the last status.
func runChallenge(t *testing.T, gs []Guidance, want []Action, attempts int) LivenessStatus {
	t.Helper()
	cfg := DefaultConfig().Liveness
	cfg.Actions = want
	cfg.Steps = len(want)
	cfg.Attempts = attempts
	var l *Liveness
	for seed := uint64(1); ; seed++ {
		var err error
		l, err = NewLiveness(cfg, mrand.New(mrand.NewPCG(seed, 7)))
		if err != nil {
			t.Fatal(err)
		}
		if slices.Equal(l.Challenge(), want) {
			break
		}
		if seed > 1000 {
			t.Fatalf("no seed gives challenge %v", want)
		}
	}
	var st LivenessStatus
	for i, g := range gs {
		st = l.Observe(g, frameTime(i))
		if st.State != LivenessRunning {
			break
		}
	}
	return st
}

// photoSequence moves a still photo in front of a virtual camera: it
// slides, scales, rotates in plane and tilts out of plane (with
// perspective) over n 640×480 frames, as a printed photo or a tablet held
// up and moved by hand.
// The face is centred and scaled to about 220 px wide, as an attacker
// filling the kiosk's guide frame would hold it.
func photoSequence(px *rgbImage, face image.Rectangle, n int) []image.Image {
	const W, H = 640, 480
	frames := make([]image.Image, n)
	base := float64(face.Dx()) / 220 // photo pixels per frame pixel
	fcx, fcy := float64(face.Min.X+face.Max.X)/2, float64(face.Min.Y+face.Max.Y)/2
	for k := range n {
		t := float64(k) / float64(n)
		s := base / (1 + 0.15*math.Sin(2*math.Pi*t*1.3))     // scale ±15%
		rot := 8 * math.Pi / 180 * math.Sin(2*math.Pi*t*0.9) // roll ±8°
		yawT := 30 * math.Pi / 180 * math.Sin(2*math.Pi*t*1.7)
		pitT := 20 * math.Pi / 180 * math.Sin(2*math.Pi*t*1.1+1)
		sx, sy := 40*math.Sin(2*math.Pi*t*2.3), 30*math.Sin(2*math.Pi*t*1.9)
		out := &rgbImage{W: W, H: H, Pix: make([]byte, 3*W*H)}
		cos, sin := math.Cos(rot), math.Sin(rot)
		// The photo plane, tilted, seen by a pinhole camera at distance D
		// (in photo-centre-to-camera units of the frame width).
		const D = 2.0
		nx := math.Sin(yawT) * math.Cos(pitT)
		ny := math.Sin(pitT)
		nz := math.Cos(yawT) * math.Cos(pitT)
		cy, sy2 := math.Cos(yawT), math.Sin(yawT)
		cp, sp := math.Cos(pitT), math.Sin(pitT)
		for v := range H {
			for u := range W {
				// frame → camera ray → plane point (inverse of projection)
				x := (float64(u) - W/2 - sx) / W
				y := (float64(v) - H/2 - sy) / W
				// undo roll
				xr, yr := cos*x+sin*y, -sin*x+cos*y
				// intersect the ray (xr, yr, 1)·λ with the plane rotated
				// by yawT about y and pitT about x, at distance D.
				den := nx*xr + ny*yr + nz
				lam := D * nz / den
				px3, py3, pz3 := lam*xr, lam*yr, lam-D
				// plane coordinates (inverse rotation)
				a := px3*cy - pz3*sy2
				zt := px3*sy2 + pz3*cy
				b := py3*cp - zt*sp
				srcX := fcx + a*W*s
				srcY := fcy + b*W*s
				o := 3 * (v*W + u)
				if srcX < 0 || srcY < 0 || srcX >= float64(px.W) || srcY >= float64(px.H) {
					out.Pix[o], out.Pix[o+1], out.Pix[o+2] = 40, 40, 40
					continue
				}
				r, g, bb := px.at(int(srcX), int(srcY))
				out.Pix[o], out.Pix[o+1], out.Pix[o+2] = r, g, bb
			}
		}
		frames[k] = out.toImage()
	}
	return frames
}

func TestLivenessConfig(t *testing.T) {
	good := DefaultConfig().Liveness
	tests := []struct {
		name string
		mod  func(*LivenessConfig)
		want string
	}{
		{"default", func(*LivenessConfig) {}, ""},
		{"one step", func(c *LivenessConfig) { c.Steps = 1 }, "face.liveness.steps"},
		{"unknown action", func(c *LivenessConfig) { c.Actions = append(c.Actions, "smile") }, "face.liveness.actions"},
		{"four attempts", func(c *LivenessConfig) { c.Attempts = 4 }, "face.liveness.attempts"},
		{"no time", func(c *LivenessConfig) { c.StepTimeout = 0 }, "face.liveness.step_timeout"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			c.Actions = slices.Clone(good.Actions)
			tc.mod(&c)
			err := c.validate()
			if (err == nil) != (tc.want == "") || (err != nil && !containsStr(err.Error(), tc.want)) {
				t.Errorf("validate() = %v, want error naming %q", err, tc.want)
			}
		})
	}
}

// TestLivenessTimeoutsAndAttempts drives a session with no face: each
// attempt times out, a new random order is drawn, and after the last
// attempt the session fails.
func TestLivenessTimeoutsAndAttempts(t *testing.T) {
	cfg := DefaultConfig().Liveness
	l, err := NewLiveness(cfg, mrand.New(mrand.NewPCG(3, 4)))
	if err != nil {
		t.Fatal(err)
	}
	first := l.Challenge()
	if len(first) != cfg.Steps || first[0] == first[1] {
		t.Fatalf("challenge %v: want %d different actions", first, cfg.Steps)
	}
	var st LivenessStatus
	attempts := map[int]bool{}
	for i := 0; i < 60*clipFPS && l.State() == LivenessRunning; i++ {
		st = l.Observe(Guidance{}, frameTime(i))
		attempts[st.Attempt] = true
	}
	if st.State != LivenessFailed {
		t.Fatalf("state %s after 60 s without a face, want failed", st.State)
	}
	if len(attempts) != cfg.Attempts {
		t.Errorf("saw attempts %v, want %d", attempts, cfg.Attempts)
	}
}

func containsStr(s, sub string) bool {
	return len(sub) == 0 || (len(s) >= len(sub) && fmt.Sprint(s) != "" && indexOf(s, sub) >= 0)
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}
