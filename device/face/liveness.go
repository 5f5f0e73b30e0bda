package face

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"image"
	"math"
	mrand "math/rand/v2"
	"slices"
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
	// refMaxYaw: the reference frame must face the camera this well.
	refMaxYaw = 15.0
	// mouthOpenMAR is the aligned inner-lip aspect ratio of an open mouth.
	mouthOpenMAR = 0.35
	// minHold is how many consecutive frames a turn or open mouth must hold.
	minHold = 2
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
}

// MotionDetector turns a stream of landmarks into blink, turn and mouth
// events. It is not safe for concurrent use.
type MotionDetector struct {
	ref      []pt
	refYaw   float64
	refIOD   float64
	hist     []motionSample
	frame    int
	closedAt time.Time // zero when eyes are open
	closedF  int       // frame the eyes closed at
	baseEAR  float64
	baseLid  float64
	turn     int // +1/-1 while a turn is held, 0 otherwise
	turnHold int
	turned   bool
	mouth    int
	mouthOn  bool
	last     motionSample // for tests and logs
}

// NewMotionDetector returns a detector with no reference yet: the first
// frontal face it sees becomes the reference.
func NewMotionDetector() *MotionDetector { return &MotionDetector{} }

// Observe feeds the landmarks of one frame (nil when there is no single
// face) and returns the events completed at this frame.
func (d *MotionDetector) Observe(landmarks []image.Point, at time.Time) []Event {
	defer func() { d.frame++ }()
	if len(landmarks) != 68 {
		return nil
	}
	p := toPts(landmarks)
	if interOcular(p) < minMotionIOD {
		return nil // too small: landmark noise would swamp the motion
	}
	pose := estimatePose(p)
	if d.ref == nil {
		if math.Abs(pose.Yaw) > refMaxYaw {
			return nil
		}
		d.ref, d.refYaw, d.refIOD = p, pose.Yaw, interOcular(p)
	}
	f, ok := fitAffine(p, d.ref, rigidIdx)
	if !ok || d.refIOD < 1 {
		return nil
	}
	al := make([]pt, len(p))
	for i := range p {
		al[i] = f.apply(p[i])
	}
	var res float64
	for _, i := range rigidIdx {
		dx, dy := al[i].X-d.ref[i].X, al[i].Y-d.ref[i].Y
		res += dx*dx + dy*dy
	}
	s := motionSample{
		at: at, ear: eyesOpen(al), mar: mouthOpen(al), lid: lidRatio(p), yaw: pose.Yaw - d.refYaw,
		residual: math.Sqrt(res/float64(len(rigidIdx))) / d.refIOD,
	}
	d.last = s
	var evs []Event
	emit := func(a Action, frame int) { evs = append(evs, Event{Action: a, At: at, Frame: frame}) }

	// Blink: a short drop of the aligned eye opening below the baseline.
	base, baseLid := d.baseline(at)
	switch {
	case base == 0:
	case d.closedAt.IsZero():
		if s.ear < blinkClose*base && base-s.ear >= blinkMinDrop && s.lid < blinkLid*baseLid && math.Abs(s.yaw) < turnYaw {
			d.closedAt, d.closedF, d.baseEAR, d.baseLid = at, d.frame, base, baseLid
		}
	default:
		if s.ear > blinkReopen*d.baseEAR {
			if at.Sub(d.closedAt) <= blinkMaxClosed {
				emit(ActionBlink, d.closedF)
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
	dir := 0
	if math.Abs(s.yaw) >= turnYaw && s.residual >= turnResidual {
		dir = 1
		if s.yaw < 0 {
			dir = -1
		}
	}
	if dir != 0 && dir == d.turn {
		d.turnHold++
	} else {
		d.turn, d.turnHold, d.turned = dir, 1, false
	}
	if dir != 0 && d.turnHold >= minHold && !d.turned {
		d.turned = true
		if dir > 0 {
			emit(ActionTurnLeft, d.frame-d.turnHold+1)
		} else {
			emit(ActionTurnRight, d.frame-d.turnHold+1)
		}
	}

	// Mouth: aligned inner-lip opening held open.
	if s.mar >= mouthOpenMAR {
		d.mouth++
	} else {
		d.mouth, d.mouthOn = 0, false
	}
	if d.mouth >= minHold && !d.mouthOn {
		d.mouthOn = true
		emit(ActionOpenMouth, d.frame-d.mouth+1)
	}
	return evs
}

// baseline is the open-eye level: a high quantile of the aligned eye
// opening (and of the lid ratio) over the recent frontal, open-eye history.
func (d *MotionDetector) baseline(now time.Time) (ear, lid float64) {
	cut := 0
	for cut < len(d.hist) && now.Sub(d.hist[cut].at) > baselineWindow {
		cut++
	}
	d.hist = d.hist[cut:]
	var v, w []float64
	for _, s := range d.hist {
		if math.Abs(s.yaw) < turnYaw {
			v = append(v, s.ear)
			w = append(w, s.lid)
		}
	}
	if len(v) < 3 {
		return 0, 0
	}
	slices.Sort(v)
	slices.Sort(w)
	return v[len(v)*3/4], w[len(w)*3/4]
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

// LivenessState is the state of a liveness session.
type LivenessState string

// Liveness session states.
const (
	LivenessRunning LivenessState = "running"
	LivenessPassed  LivenessState = "passed"
	LivenessFailed  LivenessState = "failed"
)

// LivenessStatus is what the UI shows after each frame.
type LivenessStatus struct {
	State LivenessState `json:"state"`
	// Action is the step the candidate should do now (running only).
	// The UI's words: prompt.<action>, prompt.passed, prompt.failed.
	Action Action `json:"action,omitempty"`
	// Step is the 0-based index of Action in Challenge; Steps its length.
	Step  int `json:"step"`
	Steps int `json:"steps"`
	// Attempt is 1-based; Attempts the maximum.
	Attempt  int `json:"attempt"`
	Attempts int `json:"attempts"`
	// Remaining is the time left for the current step.
	Remaining time.Duration `json:"remaining"`
	// Reason says why the last attempt failed, if one did.
	Reason string `json:"reason,omitempty"`
}

// Liveness is one candidate's active liveness challenge: a random order of
// Steps different actions, each to be done within StepTimeout, with at
// most Attempts tries (each try draws a new order). Feed it every frame
// with its capture time. It is not safe for concurrent use.
type Liveness struct {
	cfg       LivenessConfig
	rng       *mrand.Rand
	challenge []Action
	step      int
	attempt   int
	stepStart time.Time
	det       *MotionDetector
	state     LivenessState
	reason    string
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
	l.newAttempt()
	return l, nil
}

// NewLiveness starts a session with the engine's liveness configuration.
func (e *Engine) NewLiveness() (*Liveness, error) { return NewLiveness(e.cfg.Liveness, nil) }

func (l *Liveness) newAttempt() {
	l.attempt++
	pool := slices.Clone(l.cfg.Actions)
	l.rng.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
	l.challenge = pool[:l.cfg.Steps]
	l.step = 0
	l.stepStart = time.Time{}
	l.det = NewMotionDetector()
}

// Challenge returns the actions of the current attempt, in order.
func (l *Liveness) Challenge() []Action { return slices.Clone(l.challenge) }

// Observe feeds one analysed frame taken at time at.
func (l *Liveness) Observe(g Guidance, at time.Time) LivenessStatus {
	if l.state != LivenessRunning {
		return l.status(at)
	}
	if l.stepStart.IsZero() {
		l.stepStart = at
	}
	var lms []image.Point
	if g.Face != nil && g.Faces == 1 {
		lms = g.Face.Landmarks
	}
	want := l.challenge[l.step]
	for _, ev := range l.det.Observe(lms, at) {
		switch {
		case ev.Action == want:
			l.step++
			l.stepStart = at
			if l.step == len(l.challenge) {
				l.state = LivenessPassed
				return l.status(at)
			}
			want = l.challenge[l.step]
		case ev.Action == ActionTurnLeft || ev.Action == ActionTurnRight:
			if want == ActionTurnLeft || want == ActionTurnRight {
				// The wrong way: a replayed recording cannot follow a
				// random order.
				l.fail(at, "turned the wrong way")
				return l.status(at)
			}
		}
	}
	if at.Sub(l.stepStart) > l.cfg.StepTimeout {
		l.fail(at, fmt.Sprintf("%s not seen within %v", want, l.cfg.StepTimeout))
	}
	return l.status(at)
}

// Feed analyses frame with e and observes it.
func (l *Liveness) Feed(e *Engine, frame image.Image, at time.Time) (LivenessStatus, Guidance, error) {
	g, err := e.Analyze(frame)
	if err != nil {
		return l.status(at), g, err
	}
	return l.Observe(g, at), g, nil
}

func (l *Liveness) fail(at time.Time, reason string) {
	l.reason = reason
	if l.attempt >= l.cfg.Attempts {
		l.state = LivenessFailed
		return
	}
	l.newAttempt()
	l.stepStart = at
}

// State returns the session state.
func (l *Liveness) State() LivenessState { return l.state }

func (l *Liveness) status(at time.Time) LivenessStatus {
	st := LivenessStatus{
		State: l.state, Step: l.step, Steps: len(l.challenge),
		Attempt: l.attempt, Attempts: l.cfg.Attempts, Reason: l.reason,
	}
	switch l.state {
	case LivenessRunning:
		st.Action = l.challenge[l.step]
		if !l.stepStart.IsZero() {
			st.Remaining = max(l.cfg.StepTimeout-at.Sub(l.stepStart), 0)
		}
	}
	return st
}
