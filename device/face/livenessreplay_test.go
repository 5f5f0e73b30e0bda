package face

import (
	"encoding/json"
	"image"
	"math"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"examkiosk/device/camera"
)

// The liveness promises on the recorded tracks (livenesstrack_test.go):
// the real motion detector and session fed what the pipeline gave for the
// shared clips and moved photos, without dlib, models or ../shared/faces.
// The end-to-end tests on the clips themselves (liveness_test.go,
// photoattack_test.go) keep one real run per promise.

// trackNotes are the annotations of a recorded clip.
func trackNotes(t *testing.T, clip string) clipNotes {
	t.Helper()
	var all map[string]json.RawMessage
	if err := json.Unmarshal(loadTracks(t).Annotations, &all); err != nil {
		t.Fatal(err)
	}
	var n clipNotes
	if err := json.Unmarshal(all[clip], &n); err != nil {
		t.Fatalf("annotations %s: %v", clip, err)
	}
	return n
}

// trackScript is the prompt-following script of cap13 from the recorded
// annotations, resting on frames the detector sees at rest.
func trackScript(t *testing.T, gs []Guidance) camera.Script {
	t.Helper()
	rest := RestingFrames(gs)
	s, err := camera.ParseAnnotations(loadTracks(t).Annotations, "cap13_blink_turn", func(i int) bool { return rest[i] })
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestLivenessTrackEventsMatchAnnotations: on the recorded clips the detector
// finds the annotated blinks and turns (within two frames; cap13's blink
// and turns, at least four of d9's five blinks, one of them a single frame
// long, behind glasses) and no blink on the talking clip without blinks.
func TestLivenessTrackEventsMatchAnnotations(t *testing.T) {
	const slack = 2
	within := func(f int, spans [][2]int, onset bool) bool {
		for _, sp := range spans {
			hi := sp[1] + slack
			if onset {
				hi = sp[0] + slack
			}
			if f >= sp[0]-slack && f <= hi {
				return true
			}
		}
		return false
	}
	for _, tc := range []struct {
		clip       string
		minBlinks  int
		turnsNoted bool
	}{
		{"cap13_blink_turn", 1, true},
		{"d9_blinks", 4, false},
		{"cap12_frontal_no_blink", 0, false},
	} {
		t.Run(tc.clip, func(t *testing.T) {
			notes := trackNotes(t, tc.clip)
			gs := trackNamed(t, "live/"+tc.clip+".mjpeg").guidances()
			if len(gs) != notes.Frames {
				t.Fatalf("track has %d frames, annotations say %d", len(gs), notes.Frames)
			}
			evs := motionEvents(gs)
			blinks := 0
			turns := map[Action][]int{}
			for _, ev := range evs {
				f := ev.Frame + 1 // the annotations number frames from 1
				switch ev.Action {
				case ActionBlink:
					if !within(f, notes.BlinkClosed, false) {
						t.Errorf("blink at frame %d is not annotated (%v)", f, notes.BlinkClosed)
					}
					blinks++
				case ActionTurnLeft, ActionTurnRight:
					turns[ev.Action] = append(turns[ev.Action], f)
				}
			}
			if blinks < tc.minBlinks || blinks > len(notes.BlinkClosed) {
				t.Errorf("%d blinks, want %d to %d (%v)", blinks, tc.minBlinks, len(notes.BlinkClosed), evs)
			}
			if !tc.turnsNoted {
				return
			}
			for a, spans := range map[Action][][2]int{ActionTurnLeft: notes.TowardRight, ActionTurnRight: notes.TowardLeft} {
				if len(turns[a]) != len(spans) {
					t.Errorf("%s at frames %v, annotated %v", a, turns[a], spans)
					continue
				}
				for i, f := range turns[a] {
					if !within(f, spans[i:i+1], true) {
						t.Errorf("%s #%d at frame %d, annotated %v", a, i+1, f, spans[i])
					}
				}
			}
		})
	}
}

// TestLivenessTrackFollowPasses: a live person following the prompts (cap13's
// blink and turns, played in the order asked after a human delay) passes
// at least 95 % of 100 random challenges; the same person reacting 2 s
// late, or a recording of them looped whatever is asked, passes none.
func TestLivenessTrackFollowPasses(t *testing.T) {
	gs := trackNamed(t, "live/cap13_blink_turn.mjpeg").guidances()
	s := trackScript(t, gs)
	cfg := followConfig(s)
	if len(cfg.Actions) < 3 {
		t.Fatalf("the script of cap13 plays %v, want blink and both turns", s.Names())
	}
	res, err := RunTrials(gs, clipFPS, cfg, 100, 14, func(rng *mrand.Rand) Player { return camera.NewFollower(s, clipFPS, rng) })
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("follow: %d of %d passed (%d at the first attempt); failures %v", res.Passed, res.Trials, res.PassedFirst, res.Reasons)
	if res.Passed*100 < 95*res.Trials {
		t.Errorf("a person following the prompts passed %d of %d sessions, want ≥ 95 %%", res.Passed, res.Trials)
	}
	late, err := RunTrials(gs, clipFPS, cfg, 30, 14, func(rng *mrand.Rand) Player {
		return &lagged{Player: camera.NewFollower(s, clipFPS, rng), delay: 2 * clipFPS}
	})
	if err != nil {
		t.Fatal(err)
	}
	// Acting 2 s after each prompt: too late, or not at all within the
	// window, or (the late action falling into the next attempt's rest)
	// before that attempt's prompt.
	if late.Passed != 0 || !reasonsAre(late.Reasons, "too_late:", "no_action:", "before_prompt:") {
		t.Errorf("a person reacting 2 s late: %d of %d passed, failures %v; want none, too late, no action or before the prompt", late.Passed, late.Trials, late.Reasons)
	}
}

// reasonsAre reports whether every failure reason starts with one of codes.
func reasonsAre(reasons map[string]int, codes ...string) bool {
	for r := range reasons {
		if !slices.ContainsFunc(codes, func(c string) bool { return strings.HasPrefix(r, c) }) {
			return false
		}
	}
	return true
}

// TestLivenessTrackReplayNeverPasses: each recorded live clip looped against 50
// random challenges with the shipped configuration, from a random frame,
// passes none.
func TestLivenessTrackReplayNeverPasses(t *testing.T) {
	for _, clip := range liveClipTracks {
		gs := trackNamed(t, clip).guidances()
		res, err := RunTrials(gs, clipFPS, DefaultConfig().Liveness, 50, 14, func(rng *mrand.Rand) Player {
			return &Loop{N: len(gs), Start: rng.IntN(len(gs))}
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s looped: %d of %d passed; failures %v", clip, res.Passed, res.Trials, res.Reasons)
		if res.Passed != 0 {
			t.Errorf("%s looped passed %d of %d sessions, want 0", clip, res.Passed, res.Trials)
		}
	}
}

var liveClipTracks = []string{"live/cap13_blink_turn.mjpeg", "live/cap12_frontal_no_blink.mjpeg", "live/d9_blinks.mjpeg"}

// TestLivenessTrackNoBlinkClipFailsBlink: the talking clip without a blink fails a
// challenge that starts with a blink, whatever follows, with "no_action:blink".
func TestLivenessTrackNoBlinkClipFailsBlink(t *testing.T) {
	gs := trackNamed(t, "live/cap12_frontal_no_blink.mjpeg").guidances()
	for _, second := range []Action{ActionOpenMouth, ActionTurnLeft, ActionTurnRight} {
		st := runChallenge(t, gs, []Action{ActionBlink, second}, 1)
		if st.State != LivenessFailed || st.Reason != "no_action:blink" {
			t.Errorf("challenge blink,%s on cap12: %s %q, want failed no_action:blink", second, st.State, st.Reason)
		}
	}
}

// TestLivenessTrackMovedPhotosRefused is the moved-photo promise of issue 15 on
// the recorded photos: each sequence reaches the motion rules in at least
// half its frames, makes no event and passes no challenge. Some reach the
// turn's yaw by their tilt alone: their residual there stays under
// turnResidual, with the margin asserted, so a turn residual loosened to
// the photos' level fails here; and their landmarks jitter shut, but the
// eye-state network never sees the eyes shut.
func TestLivenessTrackMovedPhotosRefused(t *testing.T) {
	pastYaw, jitterShut := 0, 0
	worstRes := 0.0
	for _, tr := range movedTracks(t) {
		gs := tr.guidances()
		d := NewMotionDetector()
		analysed, eyePeak := 0, math.Inf(-1)
		var eyes []float64
		var evs []Event
		for i, g := range gs {
			d.seen = false
			evs = append(evs, d.Observe(singleFace(g), frameTime(i))...)
			if d.seen {
				analysed++
			}
			if !d.closedAt.IsZero() {
				jitterShut++
			}
			if f := singleFace(g); f != nil && f.Measures.EyesClosed >= 0 {
				eyePeak = math.Max(eyePeak, logit(f.Measures.EyesClosed))
				eyes = append(eyes, logit(f.Measures.EyesClosed))
			}
		}
		if d.turnPeak > 0 {
			pastYaw++
			worstRes = math.Max(worstRes, d.turnPeak)
		}
		eyeMedian := math.NaN()
		if len(eyes) > 0 {
			eyeMedian = median(eyes)
		}
		t.Logf("%s: %d/%d analysed, residual past the turn's yaw %.3f, eye logit median %.1f highest %.1f, events %v", tr.Name, analysed, len(gs), d.turnPeak, eyeMedian, eyePeak, evs)
		if analysed < len(gs)/2 {
			t.Errorf("%s: only %d of %d frames analysed", tr.Name, analysed, len(gs))
		}
		if len(evs) > 0 {
			t.Errorf("%s: a moved photo made events %v", tr.Name, evs)
		}
		if eyePeak >= blinkEyeShut {
			t.Errorf("%s: the eye-state network saw the eyes shut (logit %.1f)", tr.Name, eyePeak)
		}
		for _, ch := range [][]Action{{ActionTurnLeft, ActionTurnRight}, {ActionBlink, ActionOpenMouth}, {ActionTurnRight, ActionBlink}} {
			if st := runChallenge(t, gs, ch, 3); st.State == LivenessPassed {
				t.Errorf("%s: challenge %v passed", tr.Name, ch)
			}
		}
	}
	// A moved photo's residual past the turn's yaw reaches 0.05 (recorded:
	// see the log); live turns measure 0.08–0.14. The threshold must stay
	// above the photos': loosened to their level, one would turn.
	if pastYaw < 2 || worstRes < 0.04 || worstRes >= turnResidual {
		t.Errorf("%d moved photos reach the turn's yaw, highest residual %.3f: want ≥ 2, in [0.04, %.2f)", pastYaw, worstRes, turnResidual)
	}
	if jitterShut == 0 {
		t.Errorf("no moved photo's landmarks closed: the eye-state rule is not tested")
	}
}

// TestLivenessTrackLiveTurnsResidual: the real turns of the live clips measure a
// residual well above turnResidual, so a threshold tightened past them
// would refuse live people.
func TestLivenessTrackLiveTurnsResidual(t *testing.T) {
	for _, clip := range []string{"live/cap13_blink_turn.mjpeg", "live/d9_blinks.mjpeg"} {
		d := NewMotionDetector()
		for i, g := range trackNamed(t, clip).guidances() {
			d.Observe(singleFace(g), frameTime(i))
		}
		t.Logf("%s: turn residual peak %.3f", clip, d.turnPeak)
		if d.turnPeak < 0.075 {
			t.Errorf("%s: a live turn's residual peaks at %.3f, want ≥ 0.075", clip, d.turnPeak)
		}
	}
}

// replayScored plays a session over recorded frames through the PAD path
// (observeScored) with each frame's recorded scores, the player choosing
// the frames; pads, when set, gives the score of a frame instead (another
// track's, for a face that moves like a live one but is shown on a screen).
func replayScored(t *testing.T, frames []trackFrame, cfg LivenessConfig, seed uint64, p Player, pads []trackFrame) *Liveness {
	t.Helper()
	l, err := NewLiveness(cfg, mrand.New(mrand.NewPCG(seed, 1)))
	if err != nil {
		t.Fatal(err)
	}
	src := frames
	if pads != nil {
		src = pads
	}
	sc := &recordedScorer{frames: src}
	for k := 0; k < 60*clipFPS && l.State() == LivenessRunning; k++ {
		i := p.Next()
		sc.show(i % len(src))
		st, err := l.observeScored(frames[i].guidance(), frameTime(k), sc.score)
		if err != nil {
			t.Fatal(err)
		}
		p.Prompt(string(st.Action))
	}
	return l
}

// TestLivenessTrackPADDecides: a person following the prompts passes with the
// passive detector's scores of the live clip; the same movements with the
// scores of a moved print or screen photo (a face on a screen or a mask
// that moves like the candidate) fail as a presentation attack.
func TestLivenessTrackPADDecides(t *testing.T) {
	live := trackNamed(t, "live/cap13_blink_turn.mjpeg")
	s := trackScript(t, live.guidances())
	cfg := followConfig(s)
	l := replayScored(t, live.Frames, cfg, 3, camera.NewFollower(s, clipFPS, mrand.New(mrand.NewPCG(3, 4))), nil)
	sc, over := l.Cues()
	t.Logf("live: %s %q, PAD median %.3f over %d frames, cues %+v", l.State(), l.Reason(), l.PADScore(), len(l.scores), sc)
	if l.State() != LivenessPassed || l.PADScore() < PADThreshold || len(over) != 0 || sc.TurnResidual < turnResidual {
		t.Errorf("a person following the prompts: %s %q, PAD %.3f, cues over %v", l.State(), l.Reason(), l.PADScore(), over)
	}
	for _, attack := range []string{"moved/pad/print_attack_1.jpg", "moved/pad/screen_replay_1.jpg"} {
		a := trackNamed(t, attack)
		var scored []trackFrame
		for _, f := range a.Frames {
			if f.PAD >= 0 {
				scored = append(scored, f)
			}
		}
		l := replayScored(t, live.Frames, cfg, 3, camera.NewFollower(s, clipFPS, mrand.New(mrand.NewPCG(3, 4))), scored)
		t.Logf("%s scores: %s %q", attack, l.State(), l.Reason())
		if l.State() != LivenessFailed || !strings.HasPrefix(l.Reason(), "presentation_attack:") {
			t.Errorf("live movements with the scores of %s: %s %q, want a presentation attack", attack, l.State(), l.Reason())
		}
	}
}

// faceChange is a Player that shows, while an action is asked for, a
// changed copy of the frames (offset in the frame list):
// a second face comes into view, or the face is lost.
type faceChange struct {
	Player
	offset   int
	prompted bool
}

func (f *faceChange) Prompt(a string) {
	f.prompted = a != ""
	f.Player.Prompt(a)
}

func (f *faceChange) Next() int {
	i := f.Player.Next()
	if f.prompted {
		return i + f.offset
	}
	return i
}

// TestLivenessTrackFaceChangesFail: a person following the prompts fails every
// attempt when a second face comes into view, or the face is lost, once
// the action is asked for: the action is not accepted from a frame
// without a single face.
func TestLivenessTrackFaceChangesFail(t *testing.T) {
	gs := trackNamed(t, "live/cap13_blink_turn.mjpeg").guidances()
	s := trackScript(t, gs)
	cfg := followConfig(s)
	for _, tc := range []struct {
		name   string
		change func(Guidance) Guidance
	}{
		{"second face", func(g Guidance) Guidance { g.Faces = 2; return g }},
		{"face lost", func(Guidance) Guidance { return Guidance{} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			all := slices.Clone(gs)
			for _, g := range gs {
				all = append(all, tc.change(g))
			}
			res, err := RunTrials(all, clipFPS, cfg, 20, 14, func(rng *mrand.Rand) Player {
				return &faceChange{Player: camera.NewFollower(s, clipFPS, rng), offset: len(gs)}
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.Passed != 0 || !reasonsAre(res.Reasons, "no_action:") {
				t.Errorf("%d of %d passed, failures %v; want none, no action", res.Passed, res.Trials, res.Reasons)
			}
		})
	}
}

// TestLivenessTrackSlowMotionFails: the prompt-following person whose every
// movement is played at a third of its speed (each frame three times)
// blinks too slowly to count and turns too late.
func TestLivenessTrackSlowMotionFails(t *testing.T) {
	gs := trackNamed(t, "live/cap13_blink_turn.mjpeg").guidances()
	s := trackScript(t, gs)
	cfg := followConfig(s)
	cfg.Actions = []Action{ActionBlink, ActionTurnLeft}
	res, err := RunTrials(gs, clipFPS, cfg, 20, 14, func(rng *mrand.Rand) Player {
		return &slowed{Player: camera.NewFollower(s, clipFPS, rng), times: 3}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("slowed: %d of %d passed; failures %v", res.Passed, res.Trials, res.Reasons)
	if res.Passed != 0 {
		t.Errorf("%d of %d slowed sessions passed, want 0", res.Passed, res.Trials)
	}
}

// slowed shows each frame of a Player times times.
type slowed struct {
	Player
	times, left, cur int
}

func (s *slowed) Next() int {
	if s.left == 0 {
		s.cur, s.left = s.Player.Next(), s.times
	}
	s.left--
	return s.cur
}

// TestLivenessTrackTimeShifted: the recorded follow session's frames fed at their
// own times shifted by an hour, or at 30 fps timing of the same frames
// replayed twice as fast, pass the same way: the rules use differences of
// capture times only.
func TestLivenessTrackTimeShifted(t *testing.T) {
	gs := trackNamed(t, "live/cap13_blink_turn.mjpeg").guidances()
	s := trackScript(t, gs)
	cfg := followConfig(s)
	run := func(shift time.Duration) (LivenessState, string) {
		l, err := NewLiveness(cfg, mrand.New(mrand.NewPCG(9, 9)))
		if err != nil {
			t.Fatal(err)
		}
		f := camera.NewFollower(s, clipFPS, mrand.New(mrand.NewPCG(9, 10)))
		for k := 0; k < 60*clipFPS && l.State() == LivenessRunning; k++ {
			st := l.Observe(gs[f.Next()], frameTime(k).Add(shift))
			f.Prompt(string(st.Action))
		}
		return l.State(), l.Reason()
	}
	s0, r0 := run(0)
	s1, r1 := run(time.Hour)
	if s0 != LivenessPassed || s1 != s0 || r1 != r0 {
		t.Errorf("at its own times %s %q, an hour later %s %q; want passed twice", s0, r0, s1, r1)
	}
}

// TestLivenessTrackBlinkNeedsEyeState: the landmarks of cap13's real
// blink make a blink only when the eye-state network saw the eyes shut in
// it and open before it (a probability of exactly 0 is a measure: open).
func TestLivenessTrackBlinkNeedsEyeState(t *testing.T) {
	gs := trackNamed(t, "live/cap13_blink_turn.mjpeg").guidances()
	blinks := func(eyes func(i int, measured float64) float64) int {
		d := NewMotionDetector()
		n := 0
		for i, g := range gs[:90] {
			f := singleFace(g)
			if f != nil {
				c := *f
				c.Measures.EyesClosed = eyes(i, f.Measures.EyesClosed)
				f = &c
			}
			for _, ev := range d.Observe(f, frameTime(i)) {
				if ev.Action == ActionBlink {
					n++
				}
			}
		}
		return n
	}
	closure := func(i int) bool { return i >= 55 && i <= 70 }
	for _, tc := range []struct {
		name string
		eyes func(i int, measured float64) float64
		want int
	}{
		{"as measured", func(_ int, m float64) float64 { return m }, 1},
		{"always open (a photo)", func(int, float64) float64 { return 1e-6 }, 0},
		{"always shut (a photo of closed eyes)", func(int, float64) float64 { return 1 - 1e-6 }, 0},
		{"not measured", func(int, float64) float64 { return -1 }, 0},
		{"open during the closure (landmarks only)", func(i int, m float64) float64 {
			if closure(i) {
				return 1e-6
			}
			return m
		}, 0},
		{"certainly open before, as measured from the closure on", func(i int, m float64) float64 {
			if i >= 61 { // the landmarks close at frame 61
				return m
			}
			return 0
		}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := blinks(tc.eyes); got != tc.want {
				t.Errorf("%d blinks, want %d", got, tc.want)
			}
		})
	}
}

// TestLivenessTrackReference: the first face within refMaxYaw of frontal
// becomes the reference and yaw is measured from it: a face first seen
// turned a few degrees is at rest in that pose; a face first seen turned
// past refMaxYaw is not analysed until a frontal one comes.
func TestLivenessTrackReference(t *testing.T) {
	gs := trackNamed(t, "live/cap13_blink_turn.mjpeg").guidances()
	yawOf := func(g Guidance) float64 { return estimatePose(toPts(g.Face.Landmarks)).Yaw }
	var slight, turned, frontal *Face
	for _, g := range gs {
		f := singleFace(g)
		if f == nil {
			continue
		}
		switch y := math.Abs(yawOf(g)); {
		case y >= 6 && y < refMaxYaw && slight == nil && mouthOpen(toPts(f.Landmarks)) < 0.1:
			slight = f
		case y > 14 && turned == nil:
			turned = f
		case y < 2 && frontal == nil:
			frontal = f
		}
	}
	if slight == nil || turned == nil || frontal == nil {
		t.Fatal("cap13 has no slightly turned, turned or frontal frame")
	}
	d := NewMotionDetector()
	d.Observe(slight, frameTime(0))
	d.Observe(slight, frameTime(1))
	if !d.Neutral() || d.last.yaw != 0 || !(d.last.residual >= 0 && d.last.residual <= 1e-9) {
		t.Errorf("the reference pose again: neutral %v, yaw %g, residual %g; want at rest, 0, 0", d.Neutral(), d.last.yaw, d.last.residual)
	}
	// The nose tip (a rigid point) moved up or sideways alone: a non-rigid
	// change, as much in either direction.
	for _, mv := range []image.Point{{0, -6}, {6, 0}} {
		f := *slight
		f.Landmarks = slices.Clone(slight.Landmarks)
		f.Landmarks[lmNoseTip] = f.Landmarks[lmNoseTip].Add(mv)
		d.Observe(&f, frameTime(2))
		if !(d.last.residual > 0.005 && d.last.residual < 0.05) {
			t.Errorf("nose tip moved by %v: residual %g, want within (0.005, 0.05)", mv, d.last.residual)
		}
	}
	d = NewMotionDetector()
	d.Observe(turned, frameTime(0))
	if d.seen || d.ref != nil {
		t.Errorf("a face turned %.1f° became the reference", yawOf(Guidance{Face: turned}))
	}
	d.Observe(frontal, frameTime(1))
	d.Observe(turned, frameTime(2))
	if !d.seen || math.Abs(d.last.yaw) < turnYaw {
		t.Errorf("after a frontal reference the turned face measures %.1f°", d.last.yaw)
	}
}

// withIOD moves the landmarks of a face so that its eyes' centres lie
// exactly iod pixels apart (scaled about the face, then one corner of each
// eye nudged so that the centres fall on whole pixels).
func withIOD(lm []image.Point, iod int) []image.Point {
	p := toPts(lm)
	k := float64(iod) / interOcular(p)
	c := mid(p...)
	out := make([]image.Point, len(lm))
	for i, q := range p {
		out[i] = image.Pt(int(math.Round(c.X+k*(q.X-c.X))), int(math.Round(c.Y+k*(q.Y-c.Y))))
	}
	sum := func(from int) (x, y int) {
		for _, q := range out[from : from+6] {
			x, y = x+q.X, y+q.Y
		}
		return x, y
	}
	mod6 := func(v int) int { return ((v % 6) + 6) % 6 }
	lx, ly := sum(lmLeftEye)
	out[lmLeftEye].X -= mod6(lx)
	out[lmLeftEye].Y -= mod6(ly)
	lx, ly = sum(lmLeftEye)
	rx, ry := sum(lmRightEye)
	out[lmRightEye+3].X += lx + 6*iod - rx
	out[lmRightEye+3].Y += ly - ry
	return out
}

// TestLivenessTrackMinIOD: a face whose eyes lie at least minMotionIOD
// pixels apart is analysed, a smaller one is not (landmark noise would
// swamp its motion).
func TestLivenessTrackMinIOD(t *testing.T) {
	f := *singleFace(trackNamed(t, "live/cap13_blink_turn.mjpeg").guidances()[0])
	for _, tc := range []struct {
		iod  int
		want bool
	}{{minMotionIOD, true}, {minMotionIOD - 1, false}, {38, false}, {42, true}} {
		g := f
		g.Landmarks = withIOD(f.Landmarks, tc.iod)
		if got := interOcular(toPts(g.Landmarks)); got != float64(tc.iod) {
			t.Fatalf("withIOD(%d) gives %g", tc.iod, got)
		}
		d := NewMotionDetector()
		d.Observe(&g, frameTime(0))
		if d.seen != tc.want {
			t.Errorf("eyes %d px apart: analysed %v, want %v", tc.iod, d.seen, tc.want)
		}
	}
}
