package face

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"image"
	"math"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"time"
)

// Action is one liveness challenge step.
type Action string

// Liveness actions. Turn directions are the candidate's own: turning to
// their left makes the face point toward the right of an unmirrored camera
// frame (positive Pose.Yaw).
const (
	ActionBlink     Action = "blink"
	ActionTurnLeft  Action = "turn_left"
	ActionTurnRight Action = "turn_right"
	ActionOpenMouth Action = "open_mouth"
)

func (a Action) valid() bool {
	switch a {
	case ActionBlink, ActionTurnLeft, ActionTurnRight, ActionOpenMouth:
		return true
	}
	return false
}

// Motion thresholds of the liveness detector, all on landmarks that have
// first been mapped onto the reference frame by the best affine fit of the
// rigid points (jaw, brows, nose). A flat photo or screen moved, scaled,
// rotated or tilted in front of the camera moves its landmarks by (nearly)
// such a map, so its aligned eye and mouth openings stay constant and its
// fit residual stays near landmark noise; a blink must also close the eye
// against the eyebrow (lidRatio), which no tilt of a flat picture changes.
// It can neither blink, open its mouth nor turn.
const (
	// blinkClose: aligned eye opening below this fraction of the open-eye
	// baseline counts as closed; blinkReopen: above this as open again.
	blinkClose  = 0.72
	blinkReopen = 0.85
	// blinkLid: the lid gap relative to the eye-to-brow distance must
	// also fall below this fraction of its open baseline.
	blinkLid = 0.75
	// blinkMinDrop is the smallest absolute drop of the eye aspect ratio
	// that counts (guards against small, noisy eyes).
	blinkMinDrop = 0.06
	// blinkMaxClosed is the longest eye closure that is still a blink.
	blinkMaxClosed = 700 * time.Millisecond
	// baselineWindow is how much history sets the open-eye baseline.
	baselineWindow = 1500 * time.Millisecond
	// turnYaw is the yaw change from the reference, in degrees, of a turn.
	turnYaw = 9.0
	// turnResidual is the smallest non-rigid residual (RMS of the rigid
	// points after the affine fit, in inter-ocular distances) of a turn:
	// about 0.01–0.04 for a still or talking face and for a moved photo,
	// 0.08–0.14 for a real turn of 10–20°.
	turnResidual = 0.06
	// minMotionIOD is the smallest inter-ocular distance, in pixels, of a
	// face whose motion is analysed (live guidance asks for much more).
	minMotionIOD = 40
	// refMaxYaw: the reference frame must face the camera this well (a
	// face at rest measures within ±5°, a turn of 9° from it 8° and more).
	refMaxYaw = 10.0
	// mouthOpenMAR is the aligned inner-lip aspect ratio of an open mouth.
	mouthOpenMAR = 0.35
	// minHold is how many consecutive frames a turn or open mouth must hold.
	minHold = 2
	// blinkEyeShut: during a blink the eye-state network (eyestate.go)
	// must see both eyes shut, the logit of its Measures.EyesClosed at or
	// above this (probability ≥ 0.993), in a frame from the one before the
	// landmarks closed to the one they opened again; blinkEyeOpen: and the
	// median logit of the open-eye history before must lie below this (the
	// network saw the eyes open). The landmarks of a photo moved in front
	// of the camera can jitter shut; the eyes it shows do not change, and
	// the network's verdict on them stays "open". Measured on the shared
	// files: the live clips' blinks peak at logits 13.6–22.3 after open
	// histories of -16 to -5.5; photos moved as an attacker would stay at
	// -1.4 and below in every frame (TestMovedPhotosMakeNoBlink logs them).
	blinkEyeShut = 5.0
	blinkEyeOpen = 0.0
)

// rigidIdx are the landmarks that move with the skull.
var rigidIdx = func() []int {
	var idx []int
	for i := lmJawFirst; i <= 35; i++ {
		idx = append(idx, i)
	}
	return idx
}()

// motionSample is one observed frame.
type motionSample struct {
	at       time.Time
	ear, mar float64
	lid      float64 // lidRatio
	eye      float64 // logit of Measures.EyesClosed; NaN when not measured
	yaw      float64
	residual float64
}

// Event is an action detected in a frame sequence.
type Event struct {
	Action Action    `json:"action"`
	At     time.Time `json:"at"`
	// Frame is the 0-based index, in the sequence fed, of the frame where
	// the action began (eyes closed, turn or mouth opening first seen).
	Frame int `json:"frame"`
	// Start is the capture time of that frame: the onset the liveness
	// session compares with the prompt.
	Start time.Time `json:"start"`
}

// MotionDetector turns a stream of landmarks into blink, turn and mouth
// events. It is not safe for concurrent use.
type MotionDetector struct {
	ref      []pt
	seen     bool // the last frame fed had an analysable face
	refYaw   float64
	refIOD   float64
	hist     []motionSample
	frame    int
	closedAt time.Time // zero when eyes are open
	closedF  int       // frame the eyes closed at
	baseEAR  float64   // open level the current closure began from
	baseEye  float64   // median eye-state logit of the open-eye history
	prevEye  float64   // eye-state logit of the previous frame (NaN: none)
	peakEye  float64   // highest eye-state logit of the current closure
	turn     int       // +1/-1 while a turn is held, 0 otherwise
	turnHold int
	turnF    int       // frame the held turn began at
	turnAt   time.Time // its capture time
	turnOn   bool      // the current frame's yaw is past the turn threshold
	turned   bool
	mouth    int
	mouthOn  bool
	mouthF   int          // frame the mouth opened at
	mouthAt  time.Time    // its capture time
	turnPeak float64      // highest residual of a frame past the turn's yaw
	last     motionSample // for tests and logs
}

// NewMotionDetector returns a detector with no reference yet: the first
// frontal face it sees becomes the reference.
func NewMotionDetector() *MotionDetector { return &MotionDetector{prevEye: math.NaN()} }

// Observe feeds the analysed face of one frame (nil when there is no
// single face): its landmarks and its eye state (Measures.EyesClosed), and
// returns the events completed at this frame.
func (d *MotionDetector) Observe(f *Face, at time.Time) []Event {
	eye := math.NaN()
	if f != nil && f.Measures.EyesClosed >= 0 {
		eye = logit(f.Measures.EyesClosed)
	}
	s, ok := d.sample(f, at, eye)
	return d.next(at, eye, s, ok)
}

// sample measures the face of one frame against the reference (which the
// first frontal face becomes): ok is false when the frame has no face the
// detector can analyse.
func (d *MotionDetector) sample(f *Face, at time.Time, eye float64) (s motionSample, ok bool) {
	if f == nil || len(f.Landmarks) != 68 {
		return s, false
	}
	p := toPts(f.Landmarks)
	if interOcular(p) < minMotionIOD {
		return s, false // too small: landmark noise would swamp the motion
	}
	pose := estimatePose(p)
	if d.ref == nil {
		if math.Abs(pose.Yaw) > refMaxYaw {
			return s, false
		}
		d.ref, d.refYaw, d.refIOD = p, pose.Yaw, interOcular(p)
	}
	fit, ok := fitAffine(p, d.ref, rigidIdx)
	if !ok { // degenerate landmarks (the reference's eyes lie minMotionIOD apart or more)
		return s, false
	}
	al := make([]pt, len(p))
	for i := range p {
		al[i] = fit.apply(p[i])
	}
	var res float64
	for _, i := range rigidIdx {
		dx, dy := al[i].X-d.ref[i].X, al[i].Y-d.ref[i].Y
		res += dx*dx + dy*dy
	}
	return motionSample{
		at: at, ear: eyesOpen(al), mar: mouthOpen(al), lid: lidRatio(p), eye: eye, yaw: pose.Yaw - d.refYaw,
		residual: math.Sqrt(res/float64(len(rigidIdx))) / d.refIOD,
	}, true
}

// next advances the detector by one frame taken at time at, whose eye-state
// logit is eye (NaN: not measured) and, when ok, whose measures are s; it
// applies the blink, turn and mouth rules and returns the events completed
// at this frame.
func (d *MotionDetector) next(at time.Time, eye float64, s motionSample, ok bool) []Event {
	defer func() { d.frame++ }()
	d.seen = false
	prevEye := d.prevEye
	d.prevEye = eye
	if !ok {
		return nil
	}
	d.last, d.seen = s, true
	var evs []Event
	emit := func(a Action, frame int, start time.Time) {
		evs = append(evs, Event{Action: a, At: at, Frame: frame, Start: start})
	}

	// Blink: a short drop of the aligned eye opening below the baseline,
	// which the eye-state network sees as the eyes closing.
	// The closure is judged against the open level it began from (the
	// history may expire while the eyes are closed). Without history the
	// open level is 0 and no opening is below it.
	if d.closedAt.IsZero() {
		base, baseLid, baseEye := d.baseline(at)
		if s.ear < blinkClose*base && base-s.ear >= blinkMinDrop && s.lid < blinkLid*baseLid && math.Abs(s.yaw) < turnYaw {
			d.closedAt, d.closedF, d.baseEAR, d.baseEye = at, d.frame, base, baseEye
			d.peakEye = maxLogit(prevEye, s.eye)
		}
	} else {
		d.peakEye = maxLogit(d.peakEye, s.eye)
		if s.ear > blinkReopen*d.baseEAR {
			if at.Sub(d.closedAt) <= blinkMaxClosed && d.eyesShut() {
				emit(ActionBlink, d.closedF, d.closedAt)
			}
			d.closedAt = time.Time{}
		} else if at.Sub(d.closedAt) > blinkMaxClosed {
			d.closedAt = time.Time{} // eyes kept closed: not a blink
		}
	}
	if d.closedAt.IsZero() {
		d.hist = append(d.hist, s)
	}

	// Turns: yaw away from the reference, with a non-rigid residual.
	if math.Abs(s.yaw) >= turnYaw {
		d.turnPeak = math.Max(d.turnPeak, s.residual)
	}
	dir := 0
	if math.Abs(s.yaw) >= turnYaw && s.residual >= turnResidual {
		dir = 1
		if s.yaw < 0 {
			dir = -1
		}
	}
	d.turnOn = dir != 0
	if dir != 0 && dir == d.turn {
		d.turnHold++
	} else {
		d.turn, d.turnHold, d.turned, d.turnF, d.turnAt = dir, 1, false, d.frame, at
	}
	if dir != 0 && d.turnHold >= minHold && !d.turned {
		d.turned = true
		if dir > 0 {
			emit(ActionTurnLeft, d.turnF, d.turnAt)
		} else {
			emit(ActionTurnRight, d.turnF, d.turnAt)
		}
	}

	// Mouth: aligned inner-lip opening held open.
	if s.mar >= mouthOpenMAR {
		if d.mouth == 0 {
			d.mouthF, d.mouthAt = d.frame, at
		}
		d.mouth++
	} else {
		d.mouth, d.mouthOn = 0, false
	}
	if d.mouth >= minHold && !d.mouthOn {
		d.mouthOn = true
		emit(ActionOpenMouth, d.mouthF, d.mouthAt)
	}
	return evs
}

// Neutral reports whether the last frame fed shows the resting face a
// prompt may follow: analysable, frontal to the reference, eyes open,
// mouth closed, no action under way.
func (d *MotionDetector) Neutral() bool {
	return d.seen && d.closedAt.IsZero() && !d.turnOn && d.mouth == 0 &&
		math.Abs(d.last.yaw) < neutralYaw && d.last.mar < mouthClosedMAR
}

// baseline is the open-eye level: a high quantile of the aligned eye
// opening (and of the lid ratio) over the recent frontal, open-eye
// history, and the median eye-state logit there (NaN when no frame of it
// was measured).
func (d *MotionDetector) baseline(now time.Time) (ear, lid, eye float64) {
	cut := 0
	for cut < len(d.hist) && now.Sub(d.hist[cut].at) > baselineWindow {
		cut++
	}
	d.hist = d.hist[cut:]
	var v, w, x []float64
	for _, s := range d.hist {
		if math.Abs(s.yaw) < turnYaw {
			v = append(v, s.ear)
			w = append(w, s.lid)
			if !math.IsNaN(s.eye) {
				x = append(x, s.eye)
			}
		}
	}
	if len(v) < 3 {
		return 0, 0, math.NaN()
	}
	slices.Sort(v)
	slices.Sort(w)
	eye = math.NaN()
	if len(x) > 0 {
		eye = median(x)
	}
	return v[len(v)*3/4], w[len(w)*3/4], eye
}

// eyesShut reports whether the eye-state network saw the eyes of the
// current closure shut, and not already shut before it: a blink is a
// change of the eyes' pixels, not of their landmarks alone.
func (d *MotionDetector) eyesShut() bool {
	return !math.IsNaN(d.peakEye) && !math.IsNaN(d.baseEye) &&
		d.peakEye >= blinkEyeShut && d.baseEye < blinkEyeOpen
}

// maxLogit is the larger of two eye-state logits, NaN only when both are.
func maxLogit(a, b float64) float64 {
	switch {
	case math.IsNaN(a):
		return b
	case math.IsNaN(b):
		return a
	}
	return math.Max(a, b)
}

// lidRatio is the mean lid gap of both eyes divided by the distance from
// the eye centre to the middle of its eyebrow: both are vertical and local,
// so tilting or squashing a flat picture scales them alike.
func lidRatio(p []pt) float64 {
	one := func(eye, brow int) float64 {
		gap := (dist(p[eye+1], p[eye+5]) + dist(p[eye+2], p[eye+4])) / 2
		b := dist(mid(p[eye:eye+6]...), mid(p[brow:brow+5]...))
		if b == 0 {
			return 0
		}
		return gap / b
	}
	return (one(lmLeftEye, 17) + one(lmRightEye, 22)) / 2
}

// Timing of the challenge. A replayed recording performs its actions when
// the recording does, not when asked: the session therefore accepts an
// action only as a response to its prompt. Before each prompt the face must
// rest (frontal, eyes open, mouth closed, no movement) for baselineHold;
// the prompt then comes at a random moment; the action must start between
// reactMin and reactMax after it and the face must come back to rest
// within returnTimeout. Any turn or mouth opening outside that window, or
// one not asked for, fails the attempt. Blinks that are not asked for are
// involuntary (about one every 3–4 s): they do not fail an attempt but the
// rest before a prompt counts again from them.
const (
	// baselineHold is how long the face must rest before a prompt.
	baselineHold = time.Second
	// promptJitter bounds the random wait, after the rest, before a prompt.
	promptJitter = 2 * time.Second
	// reactMin and reactMax bound the start of the action after the prompt,
	// as the detector dates it (the first frame with the eyes closed, the
	// head turned 9° or the mouth open): a person reacts in 0.2–1.5 s and
	// the detector sees the movement up to ~0.2 s after it begins.
	reactMin = 200 * time.Millisecond
	reactMax = 1700 * time.Millisecond
	// eventLag is the longest the detector takes to report an action after
	// its start: a blink is reported when the eyes open again.
	eventLag = blinkMaxClosed + 100*time.Millisecond
	// returnTimeout is the time allowed to rest again after the action.
	returnTimeout = 3 * time.Second
	// restFrames is how many frames at rest end an action.
	restFrames = 3
	// neutralYaw is the largest yaw from the reference of a resting face.
	neutralYaw = 6.0
	// mouthClosedMAR is the largest aligned mouth opening of a resting face
	// (lips apart at rest measure up to ~0.25; an open mouth 0.35 and more).
	mouthClosedMAR = 0.30
)

// LivenessState is the state of a liveness session.
type LivenessState string

// Liveness session states.
const (
	LivenessRunning LivenessState = "running"
	LivenessPassed  LivenessState = "passed"
	LivenessFailed  LivenessState = "failed"
)

// LivenessPhase is where a running step is.
type LivenessPhase string

// Phases of a step: rest before the prompt, act on it, rest again.
const (
	PhaseHold   LivenessPhase = "hold"
	PhaseAct    LivenessPhase = "act"
	PhaseReturn LivenessPhase = "return"
)

// LivenessStatus is what the UI shows after each frame.
type LivenessStatus struct {
	State LivenessState `json:"state"`
	// Phase is the step's phase (running only): hold (keep still before
	// the prompt), act (the prompt is shown), return (face the camera
	// again). The UI's words: prompt.hold, prompt.<action>, prompt.return.
	Phase LivenessPhase `json:"phase,omitempty"`
	// Action is the action asked for now: set only once it is prompted
	// (phase act), so that nothing tells the candidate, or a recording,
	// what to do before the prompt. The UI's words: prompt.<action>,
	// prompt.passed, prompt.failed.
	Action Action `json:"action,omitempty"`
	// Step is the 0-based index of the current step; Steps the number of
	// steps.
	Step  int `json:"step"`
	Steps int `json:"steps"`
	// Attempt is 1-based; Attempts the maximum.
	Attempt  int `json:"attempt"`
	Attempts int `json:"attempts"`
	// Remaining is the time left for the current phase.
	Remaining time.Duration `json:"remaining"`
	// Reason says why the last attempt failed, if one did, for the log and
	// facecheck: a code and its detail ("too_late:blink"); the candidate
	// reads prompt.failed.
	Reason string `json:"reason,omitempty"`
}

// Liveness is one candidate's active liveness challenge: a random order of
// Steps different actions, each prompted at a random moment after the face
// has rested and accepted only as a timely response to its prompt, with at
// most Attempts tries (each try draws a new order). Feed it every frame
// with its capture time. It is not safe for concurrent use.
type Liveness struct {
	cfg       LivenessConfig
	rng       *mrand.Rand
	challenge []Action
	step      int
	attempt   int
	det       *MotionDetector
	state     LivenessState
	reason    string

	phase      LivenessPhase
	phaseStart time.Time // zero until the first frame of the phase
	promptAt   time.Time // hold: earliest prompt time; act: the prompt's time
	restSince  time.Time // hold: start of the current rest (zero: not at rest)
	restRun    int       // return: consecutive frames at rest

	pad    *PAD      // the passive detector, when used
	fed    int       // frames fed through Feed
	scores []float64 // its live scores over the session
	cuer   *CueScorer
	cues   []Cues // the hand-built cues of the frames scored
}

// UsePAD makes the session also ask the passive presentation-attack
// detector: every padEvery-th frame fed with one face is scored, and when
// the challenge is done the median live score of the session must reach
// PADThreshold, or the session fails (a photo or a screen shows itself in
// every frame, so no new attempt is given).
func (l *Liveness) UsePAD(p *PAD) { l.pad = p }

// PADScore returns the median live score of the frames scored so far (-1
// when none was).
func (l *Liveness) PADScore() float64 {
	if len(l.scores) == 0 {
		return -1
	}
	return median(l.scores)
}

// Cues returns the session's hand-built cues (the median of each over the
// frames scored; the turn residual is the peak of any turn seen) and the
// names of those past their limit (PADCueLimits).
func (l *Liveness) Cues() (SessionCues, []string) {
	sc := SessionCues{Frames: len(l.cues), TurnResidual: l.det.turnPeak}
	if len(l.cues) > 0 {
		pick := func(f func(Cues) float64) float64 {
			v := make([]float64, len(l.cues))
			for i, c := range l.cues {
				v[i] = f(c)
			}
			return median(v)
		}
		sc.Moire = pick(func(c Cues) float64 { return c.Moire })
		sc.Glare = pick(func(c Cues) float64 { return c.Glare })
		sc.Edges = pick(func(c Cues) float64 { return c.Edges })
	}
	return sc, sc.Over()
}

// NewLiveness starts a session. A nil rng draws from crypto/rand.
func NewLiveness(cfg LivenessConfig, rng *mrand.Rand) (*Liveness, error) {
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("liveness config: %w", err)
	}
	if rng == nil {
		var seed [16]byte
		if _, err := rand.Read(seed[:]); err != nil {
			return nil, fmt.Errorf("liveness seed: %w", err)
		}
		rng = mrand.New(mrand.NewPCG(binary.LittleEndian.Uint64(seed[:8]), binary.LittleEndian.Uint64(seed[8:])))
	}
	l := &Liveness{cfg: cfg, rng: rng, state: LivenessRunning}
	l.newAttempt(time.Time{})
	return l, nil
}

// NewLiveness starts a session with the engine's liveness configuration.
func (e *Engine) NewLiveness() (*Liveness, error) { return NewLiveness(e.cfg.Liveness, nil) }

func (l *Liveness) newAttempt(at time.Time) {
	l.attempt++
	pool := slices.Clone(l.cfg.Actions)
	l.rng.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	l.challenge = pool[:l.cfg.Steps]
	l.step = 0
	if l.det == nil {
		// One detector for the session: its reference, the frontal face
		// the session began with, stays the same across attempts.
		l.det = NewMotionDetector()
	}
	l.hold(at)
}

// hold starts the rest before the current step's prompt and draws the
// prompt's earliest time.
func (l *Liveness) hold(at time.Time) {
	l.phase, l.phaseStart, l.restSince, l.restRun = PhaseHold, at, time.Time{}, 0
	l.promptAt = time.Time{}
	if !at.IsZero() {
		l.promptAt = at.Add(baselineHold + l.jitter())
	}
}

func (l *Liveness) jitter() time.Duration {
	return time.Duration(l.rng.Int64N(int64(promptJitter)))
}

// Challenge returns the actions of the current attempt, in order.
func (l *Liveness) Challenge() []Action { return slices.Clone(l.challenge) }

// Observe feeds one analysed frame taken at time at.
func (l *Liveness) Observe(g Guidance, at time.Time) LivenessStatus {
	var f *Face
	if g.Faces == 1 {
		f = g.Face
	}
	return l.advance(at, func() []Event { return l.det.Observe(f, at) })
}

// advance advances the session by one frame taken at time at: detect feeds
// the frame to the session's motion detector and returns its events.
func (l *Liveness) advance(at time.Time, detect func() []Event) LivenessStatus {
	if l.state != LivenessRunning {
		return l.status(at)
	}
	if l.phaseStart.IsZero() {
		l.hold(at)
	}
	evs := detect()
	rest := l.det.Neutral()
	want := l.challenge[l.step]
	switch l.phase {
	case PhaseHold:
		for _, ev := range evs {
			if ev.Action == ActionBlink {
				rest = false // involuntary: the rest counts again from here
				continue
			}
			l.fail(at, "before_prompt:"+string(ev.Action))
			return l.status(at)
		}
		switch {
		case !rest:
			l.restSince = time.Time{}
			if at.After(l.promptAt) {
				// The rest broke after the drawn time: draw again from now,
				// so the prompt never follows a movement of the face at a
				// fixed delay.
				l.promptAt = at.Add(baselineHold + l.jitter())
			}
		case l.restSince.IsZero():
			l.restSince = at
		}
		if !l.restSince.IsZero() && at.Sub(l.restSince) >= baselineHold && !at.Before(l.promptAt) {
			l.phase, l.phaseStart, l.promptAt = PhaseAct, at, at
			return l.status(at)
		}
		if at.Sub(l.phaseStart) > l.cfg.StepTimeout {
			l.fail(at, "hold_timeout:"+l.cfg.StepTimeout.String())
		}
	case PhaseAct:
		for _, ev := range evs {
			switch {
			case ev.Action == want:
				d := ev.Start.Sub(l.promptAt)
				if d < reactMin {
					l.fail(at, "before_prompt:"+string(want))
					return l.status(at)
				}
				if d > reactMax {
					l.fail(at, "too_late:"+string(want))
					return l.status(at)
				}
				l.phase, l.phaseStart, l.restRun = PhaseReturn, at, 0
				return l.status(at)
			case ev.Action == ActionBlink:
				// involuntary
			default:
				l.fail(at, "wrong_action:"+string(want)+"/"+string(ev.Action))
				return l.status(at)
			}
		}
		if at.Sub(l.promptAt) > reactMax+eventLag {
			l.fail(at, "no_action:"+string(want))
		}
	case PhaseReturn:
		for _, ev := range evs {
			if ev.Action != ActionBlink {
				l.fail(at, "not_neutral:"+string(ev.Action))
				return l.status(at)
			}
		}
		if rest {
			l.restRun++
		} else {
			l.restRun = 0
		}
		if l.restRun >= restFrames {
			l.step++
			if l.step == len(l.challenge) {
				l.state = LivenessPassed
				return l.status(at)
			}
			l.hold(at)
			l.restSince = at
			return l.status(at)
		}
		if at.Sub(l.phaseStart) > returnTimeout {
			l.fail(at, "return_timeout:"+returnTimeout.String())
		}
	}
	return l.status(at)
}

// Feed analyses frame with e and observes it.
func (l *Liveness) Feed(e *Engine, frame image.Image, at time.Time) (LivenessStatus, Guidance, error) {
	g, err := e.Analyze(frame)
	if err != nil {
		return l.status(at), g, err
	}
	var score frameScorer
	if l.pad != nil {
		score = func(box image.Rectangle) (float64, Cues, error) {
			s, err := l.pad.Live(frame, box)
			if err != nil {
				return 0, Cues{}, err
			}
			if l.cuer == nil {
				l.cuer = NewCueScorer()
			}
			return s, l.cuer.Score(frame, box), nil
		}
	}
	st, err := l.observeScored(g, at, score)
	return st, g, err
}

// frameScorer scores the face in box of the frame being fed for
// presentation attacks: the PAD network's live score and the hand-built
// cues.
type frameScorer func(box image.Rectangle) (float64, Cues, error)

// observeScored observes g like Observe and, when score is not nil (the
// session uses the passive detector), scores every padEvery-th frame with
// one face; once the challenge is passed, the fused score (FuseCues) of
// the session must reach PADThreshold or the session fails (a photo or a
// screen shows itself in every frame, so no new attempt is given).
func (l *Liveness) observeScored(g Guidance, at time.Time, score frameScorer) (LivenessStatus, error) {
	if score != nil && l.state == LivenessRunning && g.Face != nil && g.Faces == 1 {
		if l.fed%padEvery == 0 {
			s, cues, err := score(g.Face.Rect)
			if err != nil {
				return l.status(at), err
			}
			l.scores = append(l.scores, s)
			l.cues = append(l.cues, cues)
		}
		l.fed++
	}
	st := l.Observe(g, at)
	if st.State == LivenessPassed && score != nil {
		cues, over := l.Cues()
		if m := FuseCues(l.PADScore(), cues); m < PADThreshold {
			l.state = LivenessFailed
			l.reason = fmt.Sprintf("presentation_attack:%.2f", m)
			if len(over) > 0 {
				l.reason += ":" + strings.Join(over, ",")
			}
			st = l.status(at)
		}
	}
	return st, nil
}

func (l *Liveness) fail(at time.Time, reason string) {
	l.reason = reason
	if l.attempt >= l.cfg.Attempts {
		l.state = LivenessFailed
		return
	}
	l.newAttempt(at)
}

// State returns the session state.
func (l *Liveness) State() LivenessState { return l.state }

// Reason returns why the last attempt failed ("" when none did).
func (l *Liveness) Reason() string { return l.reason }

func (l *Liveness) status(at time.Time) LivenessStatus {
	st := LivenessStatus{
		State: l.state, Step: l.step, Steps: len(l.challenge),
		Attempt: l.attempt, Attempts: l.cfg.Attempts, Reason: l.reason,
	}
	switch l.state {
	case LivenessRunning:
		st.Phase = l.phase
		var left time.Duration
		switch l.phase {
		case PhaseHold:
			left = l.cfg.StepTimeout - at.Sub(l.phaseStart)
		case PhaseAct:
			st.Action = l.challenge[l.step]
			left = reactMax - at.Sub(l.promptAt)
		case PhaseReturn:
			left = returnTimeout - at.Sub(l.phaseStart)
		}
		if !l.phaseStart.IsZero() {
			st.Remaining = max(left, 0)
		}
	}
	return st
}
