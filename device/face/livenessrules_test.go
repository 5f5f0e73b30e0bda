package face

import (
	"errors"
	"image"
	"math"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"examkiosk/device/camera"
)

// The liveness rules on synthetic measures: each threshold of the motion
// detector and each deadline of the session, tested at its exact value and
// on both sides of it (the figures on the sides are the documented
// calibration's, so a threshold loosened or tightened fails here). The
// frames go through the production rules (MotionDetector.next,
// Liveness.advance); only the landmark measures are made up.

// synthTick is the frame interval of the synthetic sequences (20 fps: a
// whole number of nanoseconds, so a second is 20 ticks exactly).
const synthTick = 50 * time.Millisecond

var synth0 = time.Unix(1_700_000_000, 0)

// Synthetic measures: a face at rest, eyes shut, a turn, an open mouth.
var (
	restS   = motionSample{ear: 0.30, lid: 0.40, eye: -10, mar: 0.05, residual: 0.01}
	shutS   = motionSample{ear: 0.10, lid: 0.10, eye: 10, mar: 0.05, residual: 0.01}
	leftS   = motionSample{ear: 0.30, lid: 0.40, eye: -10, mar: 0.05, yaw: 15, residual: 0.10}
	rightS  = motionSample{ear: 0.30, lid: 0.40, eye: -10, mar: 0.05, yaw: -15, residual: 0.10}
	mouthS  = motionSample{ear: 0.30, lid: 0.40, eye: -10, mar: 0.50, residual: 0.01}
	noFaceS = motionSample{eye: math.NaN()}
)

// with returns s changed by f.
func with(s motionSample, f func(*motionSample)) motionSample {
	f(&s)
	return s
}

// timed is a sample fed at an offset from synth0; a sample whose ear is 0
// is a frame without an analysable face.
type timed struct {
	at time.Duration
	s  motionSample
}

// run returns samples at every tick from from.
func run(from time.Duration, s ...motionSample) []timed {
	out := make([]timed, len(s))
	for i, x := range s {
		out[i] = timed{from + time.Duration(i)*synthTick, x}
	}
	return out
}

// times repeats s n times.
func times(n int, s motionSample) []motionSample {
	out := make([]motionSample, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// feedSample feeds one synthetic frame to d.
func feedSample(d *MotionDetector, at time.Time, s motionSample) []Event {
	s.at = at
	return d.next(at, s.eye, s, s.ear != 0)
}

// detect feeds the sequence to a new detector and returns its events.
func detect(seq ...[]timed) (*MotionDetector, []Event) {
	d := NewMotionDetector()
	var evs []Event
	for _, part := range seq {
		for _, x := range part {
			evs = append(evs, feedSample(d, synth0.Add(x.at), x.s)...)
		}
	}
	return d, evs
}

// actions lists the actions of evs.
func actions(evs []Event) []Action {
	var out []Action
	for _, e := range evs {
		out = append(out, e.Action)
	}
	return out
}

// blinkWith is ten resting frames (from 0) then two closed frames (x,
// changed by mod) and a reopening.
func blinkWith(rest motionSample, mod func(*motionSample)) [][]timed {
	return [][]timed{run(0, times(10, rest)...), run(10*synthTick, with(shutS, mod), with(shutS, mod), rest)}
}

// below is the largest float64 under x.
func below(x float64) float64 { return math.Nextafter(x, math.Inf(-1)) }

// TestLivenessRuleBlink: a blink is the eyes closing (aligned opening below
// blinkClose of the open level, a drop of at least blinkMinDrop, the lid
// below blinkLid of its open level, the head within the turn's yaw) and
// opening again (above blinkReopen) within blinkMaxClosed, while the
// eye-state network sees them shut (logit ≥ blinkEyeShut) after seeing
// them open (median logit of the history < blinkEyeOpen).
func TestLivenessRuleBlink(t *testing.T) {
	const open = 0.30 // restS.ear: the open level
	none := func(*motionSample) {}
	small := with(restS, func(s *motionSample) { s.ear = 0.15 }) // small eyes: the drop decides
	tests := []struct {
		name string
		seq  [][]timed
		want int
	}{
		{"a blink", blinkWith(restS, none), 1},
		{"at the close threshold", blinkWith(restS, func(s *motionSample) { s.ear = blinkClose * open }), 0},
		{"under the close threshold", blinkWith(restS, func(s *motionSample) { s.ear = below(blinkClose * open) }), 1},
		{"eyes at 0.70 of open", blinkWith(restS, func(s *motionSample) { s.ear = 0.70 * open }), 1},
		{"eyes at 0.74 of open", blinkWith(restS, func(s *motionSample) { s.ear = 0.74 * open }), 0},
		{"small eyes, drop 0.055", blinkWith(small, func(s *motionSample) { s.ear = 0.15 - 0.055 }), 0},
		{"small eyes, drop 0.065", blinkWith(small, func(s *motionSample) { s.ear = 0.15 - 0.065 }), 1},
		{"small eyes, drop exactly blinkMinDrop", blinkWith(small, func(s *motionSample) { s.ear = dropBy(0.15, blinkMinDrop) }), 1},
		{"lid at its threshold", blinkWith(restS, func(s *motionSample) { s.lid = blinkLid * restS.lid }), 0},
		{"lid under its threshold", blinkWith(restS, func(s *motionSample) { s.lid = below(blinkLid * restS.lid) }), 1},
		{"lid at 0.73 of open", blinkWith(restS, func(s *motionSample) { s.lid = 0.73 * restS.lid }), 1},
		{"lid at 0.77 of open", blinkWith(restS, func(s *motionSample) { s.lid = 0.77 * restS.lid }), 0},
		{"head at the turn's yaw", blinkWith(restS, func(s *motionSample) { s.yaw = turnYaw }), 0},
		{"head at minus the turn's yaw", blinkWith(restS, func(s *motionSample) { s.yaw = -turnYaw }), 0},
		{"head just within the turn's yaw", blinkWith(restS, func(s *motionSample) { s.yaw = below(turnYaw) }), 1},
		{"head at 8.8°", blinkWith(restS, func(s *motionSample) { s.yaw = -8.8 }), 1},
		{"network sees them shut at blinkEyeShut", blinkWith(restS, func(s *motionSample) { s.eye = blinkEyeShut }), 1},
		{"network just under blinkEyeShut", blinkWith(restS, func(s *motionSample) { s.eye = below(blinkEyeShut) }), 0},
		{"network at logit 4.9", blinkWith(restS, func(s *motionSample) { s.eye = 4.9 }), 0},
		{"network at logit 5.1", blinkWith(restS, func(s *motionSample) { s.eye = 5.1 }), 1},
		{"network not measured", blinkWith(restS, func(s *motionSample) { s.eye = math.NaN() }), 0},
		{"open history at blinkEyeOpen", blinkWith(with(restS, func(s *motionSample) { s.eye = blinkEyeOpen }), none), 0},
		{"open history just under blinkEyeOpen", blinkWith(with(restS, func(s *motionSample) { s.eye = below(blinkEyeOpen) }), none), 1},
		{"open history at logit 0.1", blinkWith(with(restS, func(s *motionSample) { s.eye = 0.1 }), none), 0},
		{"open history at logit -0.1", blinkWith(with(restS, func(s *motionSample) { s.eye = -0.1 }), none), 1},
		{"open history not measured", blinkWith(with(restS, func(s *motionSample) { s.eye = math.NaN() }), none), 0},
		{"shut seen in the frame before the landmarks closed", [][]timed{
			run(0, append(times(9, restS), with(restS, func(s *motionSample) { s.eye = 10 }))...),
			run(10*synthTick, with(shutS, func(s *motionSample) { s.eye = math.NaN() }), restS)}, 1},
		{"shut seen two frames before the landmarks closed", [][]timed{
			run(0, append(times(8, restS), with(restS, func(s *motionSample) { s.eye = 10 }), restS)...),
			run(10*synthTick, with(shutS, func(s *motionSample) { s.eye = math.NaN() }), restS)}, 0},
		{"shut seen only in the reopening frame", [][]timed{
			run(0, times(10, restS)...),
			run(10*synthTick, with(shutS, func(s *motionSample) { s.eye = math.NaN() }), with(restS, func(s *motionSample) { s.eye = 10 }))}, 1},
		{"shut seen in the second closed frame", [][]timed{
			run(0, times(10, restS)...),
			run(10*synthTick, with(shutS, func(s *motionSample) { s.eye = -10 }), shutS, restS)}, 1},
		{"history partly measured", [][]timed{
			run(0, append(times(9, with(restS, func(s *motionSample) { s.eye = math.NaN() })), restS)...),
			run(10*synthTick, shutS, restS)}, 1},
		{"reopened at blinkReopen: not yet", [][]timed{
			run(0, times(10, restS)...),
			run(10*synthTick, shutS, with(restS, func(s *motionSample) { s.ear = blinkReopen * open })), run(12*synthTick, restS)}, 1},
		{"closed exactly blinkMaxClosed", [][]timed{run(0, times(10, restS)...),
			{{10 * synthTick, shutS}, {10*synthTick + blinkMaxClosed, restS}}}, 1},
		{"closed just over blinkMaxClosed", [][]timed{run(0, times(10, restS)...),
			{{10 * synthTick, shutS}, {10*synthTick + blinkMaxClosed + 1, restS}}}, 0},
		{"still closed at blinkMaxClosed", [][]timed{run(0, times(10, restS)...),
			{{10 * synthTick, shutS}, {10*synthTick + blinkMaxClosed, shutS}, {10*synthTick + blinkMaxClosed, restS}}}, 1},
		{"still closed just over blinkMaxClosed", [][]timed{run(0, times(10, restS)...),
			{{10 * synthTick, shutS}, {10*synthTick + blinkMaxClosed + 1, shutS}, {10*synthTick + blinkMaxClosed + 2, restS}}}, 0},
		{"closed 0.69 s", [][]timed{run(0, times(10, restS)...),
			{{10 * synthTick, shutS}, {10*synthTick + 690*time.Millisecond, restS}}}, 1},
		{"closed 0.71 s", [][]timed{run(0, times(10, restS)...),
			{{10 * synthTick, shutS}, {10*synthTick + 710*time.Millisecond, restS}}}, 0},
		{"three frames of history", [][]timed{run(0, times(3, restS)...), run(3*synthTick, shutS, restS)}, 1},
		{"two frames of history", [][]timed{run(0, times(2, restS)...), run(2*synthTick, shutS, restS)}, 0},
		{"history from baselineWindow ago", [][]timed{run(0, times(3, restS)...),
			{{baselineWindow, shutS}, {baselineWindow + synthTick, restS}}}, 1},
		{"history from just over baselineWindow ago", [][]timed{run(0, times(3, restS)...),
			{{baselineWindow + 1, shutS}, {baselineWindow + synthTick, restS}}}, 0},
		{"history expiring while closed", [][]timed{run(0, times(3, restS)...),
			{{baselineWindow, shutS}, {baselineWindow + 2*synthTick, restS}}}, 1},
		{"history turned to the turn's yaw", [][]timed{run(0, times(10, with(restS, func(s *motionSample) { s.yaw = turnYaw }))...),
			run(10*synthTick, shutS, restS)}, 0},
		{"history turned just within it", [][]timed{run(0, times(10, with(restS, func(s *motionSample) { s.yaw = -below(turnYaw) }))...),
			run(10*synthTick, shutS, restS)}, 1},
		// The open level is a high quantile of the history: one frame of
		// half-closed eyes in four does not lower it.
		{"open level is the upper quartile", [][]timed{
			run(0, with(restS, func(s *motionSample) { s.ear, s.lid = 0.10, 0.10 }), restS, restS, restS),
			run(4*synthTick, with(shutS, func(s *motionSample) { s.ear, s.lid = 0.15, 0.20 }), restS)}, 1},
		{"no face while closed", [][]timed{run(0, times(10, restS)...), run(10*synthTick, shutS, noFaceS, restS)}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, evs := detect(tc.seq...)
			if got := len(evs); got != tc.want || slices.ContainsFunc(evs, func(e Event) bool { return e.Action != ActionBlink }) {
				t.Errorf("events %v, want %d blink(s)", evs, tc.want)
			}
		})
	}
}

// dropBy returns an eye opening whose drop from base is exactly drop in
// float64 arithmetic (base - x == drop).
func dropBy(base, drop float64) float64 {
	x := base - drop
	for range 8 {
		switch d := base - x; {
		case d < drop:
			x = below(x)
		case d > drop:
			x = math.Nextafter(x, math.Inf(1))
		default:
			return x
		}
	}
	panic("no exact drop")
}

// TestLivenessRuleBlinkEvent: the blink is reported when the eyes open again, dated
// by the first closed frame (its index and capture time); the reopening
// counts only above blinkReopen of the open level; the blinks after it are
// found again.
func TestLivenessRuleBlinkEvent(t *testing.T) {
	_, evs := detect(run(0, times(10, restS)...), run(10*synthTick, shutS, shutS, restS), run(13*synthTick, times(10, restS)...),
		run(23*synthTick, shutS, restS))
	want := []Event{
		{Action: ActionBlink, At: synth0.Add(12 * synthTick), Frame: 10, Start: synth0.Add(10 * synthTick)},
		{Action: ActionBlink, At: synth0.Add(24 * synthTick), Frame: 23, Start: synth0.Add(23 * synthTick)},
	}
	if !slices.Equal(evs, want) {
		t.Errorf("events %v, want %v", evs, want)
	}
	for _, tc := range []struct {
		ear  float64
		at   int // frame of the report
		name string
	}{
		{blinkReopen * restS.ear, 12, "at blinkReopen"},
		{math.Nextafter(blinkReopen*restS.ear, 1), 11, "just over blinkReopen"},
		{0.84 * restS.ear, 12, "at 0.84 of open"},
		{0.86 * restS.ear, 11, "at 0.86 of open"},
	} {
		_, evs := detect(run(0, times(10, restS)...), run(10*synthTick, shutS, with(restS, func(s *motionSample) { s.ear = tc.ear }), restS))
		if len(evs) != 1 || !evs[0].At.Equal(synth0.Add(time.Duration(tc.at)*synthTick)) {
			t.Errorf("reopened %s: events %v, want one blink reported at frame %d", tc.name, evs, tc.at)
		}
	}
}

// TestLivenessRuleTurn: a turn is a yaw of at least turnYaw from the reference
// with a non-rigid residual of at least turnResidual, held minHold frames;
// reported once per hold, dated by its first frame; positive yaw is the
// candidate's left.
func TestLivenessRuleTurn(t *testing.T) {
	turned := func(yaw, res float64) motionSample {
		return with(leftS, func(s *motionSample) { s.yaw, s.residual = yaw, res })
	}
	tests := []struct {
		name string
		seq  []motionSample
		want []Action
	}{
		{"left", []motionSample{leftS, leftS}, []Action{ActionTurnLeft}},
		{"right", []motionSample{rightS, rightS}, []Action{ActionTurnRight}},
		{"one frame", []motionSample{leftS, restS}, nil},
		{"held long, once", times(8, leftS), []Action{ActionTurnLeft}},
		{"twice", slices.Concat(times(3, leftS), times(3, restS), times(3, leftS)), []Action{ActionTurnLeft, ActionTurnLeft}},
		{"left then right", slices.Concat(times(2, leftS), times(2, rightS)), []Action{ActionTurnLeft, ActionTurnRight}},
		{"left and right a frame each", []motionSample{leftS, rightS, leftS, rightS}, nil},
		{"at the turn's yaw", times(2, turned(turnYaw, 0.1)), []Action{ActionTurnLeft}},
		{"at minus the turn's yaw", times(2, turned(-turnYaw, 0.1)), []Action{ActionTurnRight}},
		{"just under the turn's yaw", times(2, turned(below(turnYaw), 0.1)), nil},
		{"yaw 8.8°", times(2, turned(8.8, 0.1)), nil},
		{"yaw 9.2°", times(2, turned(-9.2, 0.1)), []Action{ActionTurnRight}},
		{"at the turn residual", times(2, turned(15, turnResidual)), []Action{ActionTurnLeft}},
		{"just under the turn residual", times(2, turned(15, below(turnResidual))), nil},
		// A moved photo reaches 0.05 past the turn's yaw (the recorded
		// tracks); live turns 0.08–0.14.
		{"residual 0.058 (a photo)", times(2, turned(15, 0.058)), nil},
		{"residual 0.062", times(2, turned(15, 0.062)), []Action{ActionTurnLeft}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			seq := slices.Concat(times(5, restS), tc.seq)
			_, evs := detect(run(0, seq...))
			if !slices.Equal(actions(evs), tc.want) {
				t.Errorf("events %v, want %v", evs, tc.want)
			}
			for _, e := range evs {
				// Each turn here begins right after a frame without it.
				if e.Frame < 5 || seq[e.Frame-1].yaw*seq[e.Frame].yaw > 0 && math.Abs(seq[e.Frame-1].yaw) >= turnYaw ||
					!e.Start.Equal(synth0.Add(time.Duration(e.Frame)*synthTick)) || !e.At.Equal(e.Start.Add(synthTick)) {
					t.Errorf("event %+v: want it dated by the turn's first frame and reported at its second", e)
				}
			}
		})
	}
}

// TestLivenessRuleTurnPeak: the flat-depth cue is the highest residual of the
// frames turned at least turnYaw (turned or not), whatever their residual.
func TestLivenessRuleTurnPeak(t *testing.T) {
	for _, tc := range []struct {
		name string
		seq  []motionSample
		want float64
	}{
		{"none past the yaw", []motionSample{with(leftS, func(s *motionSample) { s.yaw, s.residual = below(turnYaw), 0.3 })}, 0},
		{"at the yaw", []motionSample{with(leftS, func(s *motionSample) { s.yaw, s.residual = -turnYaw, 0.03 })}, 0.03},
		{"the highest", []motionSample{with(leftS, func(s *motionSample) { s.residual = 0.04 }), with(rightS, func(s *motionSample) { s.residual = 0.12 }), with(leftS, func(s *motionSample) { s.residual = 0.07 })}, 0.12},
	} {
		d, _ := detect(run(0, append(times(3, restS), tc.seq...)...))
		if d.turnPeak != tc.want {
			t.Errorf("%s: turn residual peak %g, want %g", tc.name, d.turnPeak, tc.want)
		}
	}
}

// TestLivenessRuleMouth: an open mouth is an aligned inner-lip ratio of at least
// mouthOpenMAR held minHold frames, reported once per opening and dated by
// its first frame.
func TestLivenessRuleMouth(t *testing.T) {
	mar := func(m float64) motionSample { return with(restS, func(s *motionSample) { s.mar = m }) }
	tests := []struct {
		name  string
		seq   []motionSample
		want  int
		first int // frame of the first opening
	}{
		{"open", times(2, mouthS), 1, 5},
		{"one frame", []motionSample{mouthS, restS, mouthS, restS}, 0, 0},
		{"held long, once", times(9, mouthS), 1, 5},
		{"twice", slices.Concat(times(2, mouthS), []motionSample{restS}, times(3, mouthS)), 2, 5},
		{"after a frame nearly open", slices.Concat([]motionSample{mar(0.32)}, times(2, mouthS)), 1, 6},
		{"at mouthOpenMAR", times(2, mar(mouthOpenMAR)), 1, 5},
		{"just under mouthOpenMAR", times(2, mar(below(mouthOpenMAR))), 0, 0},
		{"ratio 0.34", times(2, mar(0.34)), 0, 0},
		{"ratio 0.36", times(2, mar(0.36)), 1, 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, evs := detect(run(0, slices.Concat(times(5, restS), tc.seq)...))
			if len(evs) != tc.want || slices.ContainsFunc(evs, func(e Event) bool { return e.Action != ActionOpenMouth }) {
				t.Fatalf("events %v, want %d open_mouth", evs, tc.want)
			}
			if tc.want > 0 && (evs[0].Frame != tc.first || !evs[0].Start.Equal(synth0.Add(time.Duration(tc.first)*synthTick)) ||
				!evs[0].At.Equal(evs[0].Start.Add(synthTick))) {
				t.Errorf("event %+v: want it dated by frame %d and reported at the next", evs[0], tc.first)
			}
		})
	}
}

// TestLivenessRuleNeutral: the face is at rest when it was analysed, with the eyes
// open, no turn or opening under way, within neutralYaw of the reference
// and the mouth below mouthClosedMAR.
func TestLivenessRuleNeutral(t *testing.T) {
	tests := []struct {
		name string
		last []motionSample
		want bool
	}{
		{"at rest", []motionSample{restS}, true},
		{"no face", []motionSample{noFaceS}, false},
		{"eyes closing", []motionSample{shutS}, false},
		{"turned", []motionSample{leftS}, false},
		{"opening the mouth", []motionSample{mouthS}, false},
		{"at neutralYaw", []motionSample{with(restS, func(s *motionSample) { s.yaw = neutralYaw })}, false},
		{"at minus neutralYaw", []motionSample{with(restS, func(s *motionSample) { s.yaw = -neutralYaw })}, false},
		{"just within neutralYaw", []motionSample{with(restS, func(s *motionSample) { s.yaw = below(neutralYaw) })}, true},
		{"yaw 5.9°", []motionSample{with(restS, func(s *motionSample) { s.yaw = -5.9 })}, true},
		{"yaw 6.1°", []motionSample{with(restS, func(s *motionSample) { s.yaw = 6.1 })}, false},
		{"at mouthClosedMAR", []motionSample{with(restS, func(s *motionSample) { s.mar = mouthClosedMAR })}, false},
		{"just under mouthClosedMAR", []motionSample{with(restS, func(s *motionSample) { s.mar = below(mouthClosedMAR) })}, true},
		{"lips apart 0.29", []motionSample{with(restS, func(s *motionSample) { s.mar = 0.29 })}, true},
		{"lips apart 0.31", []motionSample{with(restS, func(s *motionSample) { s.mar = 0.31 })}, false},
		{"back from a turn", []motionSample{leftS, leftS, restS}, true},
		{"back from a blink", []motionSample{shutS, restS}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, _ := detect(run(0, slices.Concat(times(5, restS), tc.last)...))
			if got := d.Neutral(); got != tc.want {
				t.Errorf("Neutral() = %v, want %v", got, tc.want)
			}
		})
	}
}

// fixedSource is a random source that always gives the same value: with
// it a session's prompt waits are known (jitter0: none; jitter1s: 1 s).
type fixedSource uint64

func (s fixedSource) Uint64() uint64 { return uint64(s) }

// Values of fixedSource for which Int64N(promptJitter) is 0 and 1 s.
const (
	jitter0  = fixedSource(1 << 30)
	jitter1s = fixedSource(1<<63 + 1)
)

// synthSession drives a Liveness with synthetic frames.
type synthSession struct {
	t  *testing.T
	l  *Liveness
	at time.Time // time of the next frame
	st LivenessStatus
	// log of every status, for the tests that read the phases.
	log []LivenessStatus
}

func newSynthSession(t *testing.T, cfg LivenessConfig, src mrand.Source) *synthSession {
	t.Helper()
	l, err := NewLiveness(cfg, mrand.New(src))
	if err != nil {
		t.Fatal(err)
	}
	return &synthSession{t: t, l: l, at: synth0}
}

// feedAt feeds s at time at (and the next frame comes a tick later).
func (ss *synthSession) feedAt(at time.Time, s motionSample) LivenessStatus {
	ss.st = ss.l.advance(at, func() []Event { return feedSample(ss.l.det, at, s) })
	ss.log = append(ss.log, ss.st)
	ss.at = at.Add(synthTick)
	return ss.st
}

// feed feeds the samples a tick apart.
func (ss *synthSession) feed(s ...motionSample) LivenessStatus {
	for _, x := range s {
		ss.feedAt(ss.at, x)
	}
	return ss.st
}

// restUntilPrompt rests until a prompt is shown and returns its time.
func (ss *synthSession) restUntilPrompt() time.Time {
	ss.t.Helper()
	for range 2000 {
		if ss.feed(restS); ss.st.Phase == PhaseAct {
			return ss.at.Add(-synthTick)
		}
		if ss.st.State != LivenessRunning {
			ss.t.Fatalf("no prompt: %+v", ss.st)
		}
	}
	ss.t.Fatal("no prompt in 100 s")
	return time.Time{}
}

// actionFrames are the frames of action a as a person makes it.
func actionFrames(a Action) []motionSample {
	switch a {
	case ActionBlink:
		return []motionSample{shutS, shutS}
	case ActionTurnLeft:
		return []motionSample{leftS, leftS}
	case ActionTurnRight:
		return []motionSample{rightS, rightS}
	case ActionOpenMouth:
		return []motionSample{mouthS, mouthS}
	}
	panic("unknown action " + string(a))
}

// respond rests until onset, then makes action a from onset on (frames a
// tick apart) and rests again (restFrames after the frame the action is
// reported at: a blink is reported at the reopening).
func (ss *synthSession) respond(a Action, onset time.Time) LivenessStatus {
	for ss.at.Before(onset) && ss.st.State == LivenessRunning {
		ss.feed(restS)
	}
	ss.at = onset
	return ss.feed(append(actionFrames(a), times(restFrames+1, restS)...)...)
}

// TestLivenessRuleSessionPasses: a person who rests, then makes each prompted
// action half a second after its prompt and rests again, passes every
// random challenge at the first attempt; the statuses say what to do only
// once it is prompted.
func TestLivenessRuleSessionPasses(t *testing.T) {
	cfg := DefaultConfig().Liveness
	for seed := range uint64(30) {
		ss := newSynthSession(t, cfg, mrand.NewPCG(seed, 1))
		ch := ss.l.Challenge()
		for step, a := range ch {
			p := ss.restUntilPrompt()
			if ss.st.Action != a || ss.st.Step != step || ss.st.Steps != len(ch) || ss.st.Attempt != 1 || ss.st.Attempts != cfg.Attempts {
				t.Fatalf("seed %d: prompt %+v, want step %d of %v", seed, ss.st, step, ch)
			}
			ss.respond(a, p.Add(500*time.Millisecond))
		}
		if ss.st.State != LivenessPassed || ss.l.State() != LivenessPassed || ss.l.Reason() != "" {
			t.Fatalf("seed %d, challenge %v: %+v", seed, ch, ss.st)
		}
		for _, st := range ss.log {
			if (st.Action != "") != (st.Phase == PhaseAct) {
				t.Fatalf("seed %d: status %+v names an action outside the act phase", seed, st)
			}
		}
		// Done: further frames change nothing.
		before := ss.l.det.frame
		if st := ss.feed(leftS, leftS); st.State != LivenessPassed || st.Phase != "" || st.Action != "" || st.Remaining != 0 || ss.l.det.frame != before {
			t.Fatalf("seed %d: after passing %+v", seed, st)
		}
	}
}

// TestLivenessRuleSessionTiming: the action counts only when it begins between
// reactMin and reactMax after its prompt (a blink may be reported up to
// eventLag later), and a step fails after reactMax+eventLag without it.
func TestLivenessRuleSessionTiming(t *testing.T) {
	cfg := DefaultConfig().Liveness
	cfg.Actions = []Action{ActionTurnLeft, ActionBlink}
	cfg.Attempts = 1
	tests := []struct {
		name   string
		react  time.Duration
		first  Action // the action to make: the challenge's first when ""
		reason string // "" when the step passes
	}{
		{"at reactMin", reactMin, "", ""},
		{"just before reactMin", reactMin - 1, "", "before_prompt:"},
		{"after 0.21 s", 210 * time.Millisecond, "", ""},
		{"after 0.19 s", 190 * time.Millisecond, "", "before_prompt:"},
		{"at reactMax", reactMax, "", ""},
		{"just after reactMax", reactMax + 1, "", "too_late:"},
		{"after 1.65 s", 1650 * time.Millisecond, "", ""},
		{"after 1.75 s", 1750 * time.Millisecond, "", "too_late:"},
		{"the other action", time.Second, "other", "wrong_action:"},
		{"an open mouth", time.Second, ActionOpenMouth, "wrong_action:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, src := range []fixedSource{jitter0, jitter1s} { // both orders
				ss := newSynthSession(t, cfg, src)
				ch := ss.l.Challenge()
				a := ch[0]
				switch tc.first {
				case "other":
					if a = ch[1]; a == ActionBlink {
						continue // involuntary: TestLivenessRuleSessionNoAction
					}
				case "":
				default:
					a = tc.first
				}
				p := ss.restUntilPrompt()
				ss.respond(a, p.Add(tc.react))
				switch {
				case tc.reason == "" && (ss.st.State != LivenessRunning || ss.st.Step != 1):
					t.Errorf("%v: %s after %v: %+v, want the next step", ch, a, tc.react, ss.st)
				case tc.reason != "" && (ss.st.State != LivenessFailed || !strings.HasPrefix(ss.st.Reason, tc.reason)):
					t.Errorf("%v: %s after %v: %+v, want failed %s", ch, a, tc.react, ss.st, tc.reason)
				}
				want := map[string]string{"before_prompt:": "before_prompt:" + string(a), "too_late:": "too_late:" + string(a),
					"wrong_action:": "wrong_action:" + string(ch[0]) + "/" + string(a)}[tc.reason]
				if ss.st.Reason != want {
					t.Errorf("reason %q, want %q", ss.st.Reason, want)
				}
			}
		})
	}
}

// TestLivenessRuleSessionNoAction: without the action the step fails exactly
// reactMax+eventLag after the prompt; a blink begun at reactMax and kept
// closed blinkMaxClosed is still accepted (that is what eventLag is for);
// a blink while a turn is asked is involuntary and does not fail it.
func TestLivenessRuleSessionNoAction(t *testing.T) {
	cfg := DefaultConfig().Liveness
	cfg.Attempts = 1
	cfg.Actions = []Action{ActionBlink, ActionTurnRight}
	for _, tc := range []struct {
		after time.Duration
		state LivenessState
	}{{reactMax + eventLag, LivenessRunning}, {reactMax + eventLag + 1, LivenessFailed}, {2450 * time.Millisecond, LivenessRunning}, {2550 * time.Millisecond, LivenessFailed}} {
		ss := newSynthSession(t, cfg, jitter0)
		p := ss.restUntilPrompt()
		want := ss.st.Action
		ss.feedAt(p.Add(tc.after/2), restS)
		if st := ss.feedAt(p.Add(tc.after), restS); st.State != tc.state || (tc.state == LivenessFailed) != (st.Reason == "no_action:"+string(want)) ||
			(tc.state == LivenessRunning && st.Phase != PhaseAct) {
			t.Errorf("resting %v after the prompt: %+v, want %s", tc.after, st, tc.state)
		}
	}
	for _, src := range []fixedSource{jitter0, jitter1s} {
		ss := newSynthSession(t, cfg, src)
		ch := ss.l.Challenge()
		p := ss.restUntilPrompt()
		if ch[0] == ActionBlink {
			onset := p.Add(reactMax)
			for ss.at.Before(onset) {
				ss.feed(restS)
			}
			ss.feedAt(onset, shutS)
			ss.feedAt(onset.Add(blinkMaxClosed), restS)
			ss.feed(times(restFrames, restS)...)
		} else {
			ss.respond(ActionBlink, p.Add(300*time.Millisecond))
			ss.respond(ch[0], ss.at.Add(synthTick))
		}
		if ss.st.State != LivenessRunning || ss.st.Step != 1 {
			t.Errorf("%v: %+v, want the first step accepted", ch, ss.st)
		}
	}
}

// TestLivenessRuleSessionHold: the prompt comes only after the face has rested
// baselineHold and the drawn wait (baselineHold plus a jitter) is over; a
// blink while waiting restarts the rest; a movement after the drawn time
// draws the wait again; a turn or an open mouth while waiting fails; a
// face never at rest fails after the step timeout.
func TestLivenessRuleSessionHold(t *testing.T) {
	cfg := DefaultConfig().Liveness
	cfg.Attempts = 1
	promptAfter := func(ss *synthSession) time.Duration { return ss.restUntilPrompt().Sub(synth0) }
	t.Run("rest then prompt", func(t *testing.T) {
		if got := promptAfter(newSynthSession(t, cfg, jitter0)); got != baselineHold {
			t.Errorf("prompt after %v of rest, want %v", got, baselineHold)
		}
		if got := promptAfter(newSynthSession(t, cfg, jitter1s)); got != baselineHold+time.Second {
			t.Errorf("prompt after %v of rest with a 1 s jitter, want %v", got, baselineHold+time.Second)
		}
	})
	t.Run("blink while waiting", func(t *testing.T) {
		ss := newSynthSession(t, cfg, jitter0)
		ss.feed(times(5, restS)...)
		ss.feed(shutS, shutS, restS) // reported at the reopening: frame 7
		if got := promptAfter(ss); got != 8*synthTick+baselineHold {
			t.Errorf("prompt at %v, want %v: the rest counts again from the frame after the blink", got, 8*synthTick+baselineHold)
		}
	})
	t.Run("moving after the drawn time", func(t *testing.T) {
		ss := newSynthSession(t, cfg, jitter1s)
		moving := with(restS, func(s *motionSample) { s.yaw = 7 }) // not at rest, no turn
		ss.feed(times(50, moving)...)                              // to 2.45 s, past the drawn 2 s
		// Drawn again at the first movement past it: 2.05 s + 1 s + 1 s.
		if got := promptAfter(ss); got != 41*synthTick+baselineHold+time.Second {
			t.Errorf("prompt at %v, want %v", got, 41*synthTick+baselineHold+time.Second)
		}
	})
	t.Run("moving before the drawn time", func(t *testing.T) {
		ss := newSynthSession(t, cfg, jitter1s)
		moving := with(restS, func(s *motionSample) { s.mar = 0.32 })
		ss.feed(times(20, moving)...) // to 0.95 s: the drawn 2 s stays
		if got := promptAfter(ss); got != 2*time.Second {
			t.Errorf("prompt at %v, want 2s", got)
		}
	})
	for _, a := range []Action{ActionTurnLeft, ActionTurnRight, ActionOpenMouth} {
		t.Run(string(a)+" while waiting", func(t *testing.T) {
			ss := newSynthSession(t, cfg, jitter0)
			ss.feed(times(5, restS)...)
			if st := ss.feed(actionFrames(a)...); st.State != LivenessFailed || st.Reason != "before_prompt:"+string(a) {
				t.Errorf("%+v, want failed before_prompt:%s", st, a)
			}
		})
	}
	t.Run("never at rest", func(t *testing.T) {
		for _, tc := range []struct {
			after time.Duration
			state LivenessState
		}{{cfg.StepTimeout, LivenessRunning}, {cfg.StepTimeout + 1, LivenessFailed}} {
			ss := newSynthSession(t, cfg, jitter0)
			ss.feedAt(synth0, noFaceS)
			if st := ss.feedAt(synth0.Add(tc.after), noFaceS); st.State != tc.state ||
				(tc.state == LivenessFailed) != (st.Reason == "hold_timeout:"+cfg.StepTimeout.String()) {
				t.Errorf("no face for %v: %+v, want %s", tc.after, st, tc.state)
			}
		}
	})
}

// TestLivenessRuleSessionReturn: after the action the face must be at rest for
// restFrames frames within returnTimeout; a turn or an open mouth then
// fails, a blink does not; the next step's rest counts from the return.
func TestLivenessRuleSessionReturn(t *testing.T) {
	cfg := DefaultConfig().Liveness
	cfg.Attempts = 1
	cfg.Actions = []Action{ActionTurnLeft, ActionTurnRight}
	start := func(t *testing.T) (*synthSession, time.Time) {
		ss := newSynthSession(t, cfg, jitter0)
		p := ss.restUntilPrompt()
		ss.at = p.Add(time.Second)
		ss.feed(actionFrames(ss.st.Action)...)
		if ss.st.Phase != PhaseReturn {
			t.Fatalf("%+v, want the return phase", ss.st)
		}
		return ss, ss.at.Add(-synthTick)
	}
	t.Run("three frames at rest", func(t *testing.T) {
		ss, _ := start(t)
		if st := ss.feed(restS, restS); st.Phase != PhaseReturn || st.Step != 0 {
			t.Fatalf("two frames at rest: %+v, want still returning", st)
		}
		if st := ss.feed(restS); st.Phase != PhaseHold || st.Step != 1 {
			t.Fatalf("three frames at rest: %+v, want the next step's rest", st)
		}
		back := ss.at.Add(-synthTick)
		if p := ss.restUntilPrompt(); p.Sub(back) != baselineHold {
			t.Errorf("next prompt %v after the return, want %v", p.Sub(back), baselineHold)
		}
	})
	t.Run("rest broken", func(t *testing.T) {
		ss, _ := start(t)
		ss.feed(restS, restS, leftS, restS, restS)
		if ss.st.Phase != PhaseReturn {
			t.Fatalf("%+v, want still returning", ss.st)
		}
		if st := ss.feed(restS); st.Phase != PhaseHold {
			t.Fatalf("%+v, want the next step", st)
		}
	})
	t.Run("blink while returning", func(t *testing.T) {
		ss, _ := start(t)
		if st := ss.feed(shutS, restS, restS, restS); st.State != LivenessRunning || st.Phase != PhaseHold {
			t.Errorf("%+v, want the next step", st)
		}
	})
	t.Run("mouth while returning", func(t *testing.T) {
		ss, _ := start(t)
		if st := ss.feed(mouthS, mouthS); st.State != LivenessFailed || st.Reason != "not_neutral:open_mouth" {
			t.Errorf("%+v, want failed not_neutral:open_mouth", st)
		}
	})
	for _, tc := range []struct {
		after time.Duration
		state LivenessState
	}{{returnTimeout, LivenessRunning}, {returnTimeout + 1, LivenessFailed}, {2900 * time.Millisecond, LivenessRunning}, {3100 * time.Millisecond, LivenessFailed}} {
		ss, accepted := start(t)
		turned := with(leftS, func(s *motionSample) { s.residual = 0 }) // still turned away
		ss.feedAt(accepted.Add(tc.after/2), turned)
		if st := ss.feedAt(accepted.Add(tc.after), turned); st.State != tc.state ||
			(tc.state == LivenessFailed) != (st.Reason == "return_timeout:"+returnTimeout.String()) {
			t.Errorf("turned away %v after the action: %+v, want %s", tc.after, st, tc.state)
		}
	}
}

// TestLivenessRuleSessionAttempts: a failed attempt starts a new one with a new
// order and its own rest, up to Attempts; the last failure fails the
// session with its reason, and the session then ignores frames.
func TestLivenessRuleSessionAttempts(t *testing.T) {
	for _, attempts := range []int{1, 2, 3} {
		cfg := DefaultConfig().Liveness
		cfg.Attempts = attempts
		ss := newSynthSession(t, cfg, mrand.NewPCG(uint64(attempts), 2))
		orders := map[string]bool{}
		for k := 1; k <= attempts; k++ {
			orders[string(ss.l.Challenge()[0])+string(ss.l.Challenge()[1])] = true
			p := ss.restUntilPrompt()
			if ss.st.Attempt != k || ss.st.Attempts != attempts {
				t.Fatalf("attempt %d: %+v", k, ss.st)
			}
			ss.at = p.Add(2 * reactMax)
			ss.feed(restS) // no action: fails
			if k < attempts && (ss.st.State != LivenessRunning || ss.st.Attempt != k+1 || ss.st.Phase != PhaseHold || ss.st.Step != 0 || ss.st.Reason == "") {
				t.Fatalf("after failing attempt %d of %d: %+v", k, attempts, ss.st)
			}
		}
		if ss.st.State != LivenessFailed || !strings.HasPrefix(ss.st.Reason, "no_action:") || ss.st.Attempt != attempts {
			t.Fatalf("%d attempts failed: %+v", attempts, ss.st)
		}
		if st := ss.feed(restS); st.State != LivenessFailed || st.Reason != ss.l.Reason() || st.Phase != "" {
			t.Errorf("after failing: %+v", st)
		}
	}
}

// TestLivenessRuleSessionRemaining: the status counts down the phase's time: the
// step timeout while resting, reactMax after the prompt (never below 0),
// returnTimeout after the action.
func TestLivenessRuleSessionRemaining(t *testing.T) {
	cfg := DefaultConfig().Liveness
	cfg.Actions = []Action{ActionTurnLeft, ActionOpenMouth}
	ss := newSynthSession(t, cfg, jitter1s)
	if st := ss.feed(restS); st.Remaining != cfg.StepTimeout {
		t.Errorf("first frame: %v left, want %v", st.Remaining, cfg.StepTimeout)
	}
	if st := ss.feed(times(10, restS)...); st.Remaining != cfg.StepTimeout-10*synthTick {
		t.Errorf("resting 0.5 s: %v left, want %v", st.Remaining, cfg.StepTimeout-10*synthTick)
	}
	p := ss.restUntilPrompt()
	if ss.st.Remaining != reactMax {
		t.Errorf("at the prompt: %v left, want %v", ss.st.Remaining, reactMax)
	}
	if st := ss.feedAt(p.Add(300*time.Millisecond), restS); st.Remaining != reactMax-300*time.Millisecond {
		t.Errorf("0.3 s after the prompt: %v left, want %v", st.Remaining, reactMax-300*time.Millisecond)
	}
	if st := ss.feedAt(p.Add(reactMax+200*time.Millisecond), restS); st.Remaining != 0 || st.Phase != PhaseAct {
		t.Errorf("past reactMax: %+v, want 0 left", st)
	}
	ss2 := newSynthSession(t, cfg, jitter1s)
	p = ss2.restUntilPrompt()
	ss2.at = p.Add(time.Second)
	ss2.feed(actionFrames(ss2.st.Action)...)
	accepted := ss2.at.Add(-synthTick)
	if st := ss2.feedAt(accepted.Add(time.Second), leftS); st.Phase != PhaseReturn || st.Remaining != returnTimeout-time.Second {
		t.Errorf("1 s into the return: %+v, want %v left", st, returnTimeout-time.Second)
	}
}

// TestLivenessRuleObserveOneFace: Observe gives the detector the face only when
// the frame has exactly one.
func TestLivenessRuleObserveOneFace(t *testing.T) {
	g := trackNamed(t, "live/cap13_blink_turn.mjpeg").Frames[0].guidance()
	for _, n := range []int{0, 1, 2} {
		l, err := NewLiveness(DefaultConfig().Liveness, mrand.New(jitter0))
		if err != nil {
			t.Fatal(err)
		}
		g.Faces = n
		l.Observe(g, synth0)
		if l.det.seen != (n == 1) {
			t.Errorf("%d faces: detector saw a face %v", n, l.det.seen)
		}
	}
}

// scoreCounter is a frameScorer that returns fixed scores and counts its
// calls.
type scoreCounter struct {
	live  float64
	cues  Cues
	err   error
	calls int
	boxes []image.Rectangle
}

func (c *scoreCounter) score(box image.Rectangle) (float64, Cues, error) {
	c.calls++
	c.boxes = append(c.boxes, box)
	return c.live, c.cues, c.err
}

// followScored plays the recorded prompt-following session of cap13
// through observeScored with sc's scores.
func followScored(t *testing.T, sc frameScorer, everyOther bool) (*Liveness, LivenessStatus, error) {
	t.Helper()
	tr := trackNamed(t, "live/cap13_blink_turn.mjpeg")
	gs := tr.guidances()
	s := trackScript(t, gs)
	l, err := NewLiveness(followConfig(s), mrand.New(mrand.NewPCG(3, 3)))
	if err != nil {
		t.Fatal(err)
	}
	f := camera.NewFollower(s, clipFPS, mrand.New(mrand.NewPCG(3, 4)))
	var st LivenessStatus
	for k := 0; k < 60*clipFPS && l.State() == LivenessRunning; k++ {
		g := gs[f.Next()]
		if everyOther && k%2 == 1 {
			g = Guidance{} // a frame without a face
		}
		if st, err = l.observeScored(g, frameTime(k), sc); err != nil {
			return l, st, err
		}
		f.Prompt(string(st.Action))
	}
	return l, st, nil
}

// TestLivenessRuleSessionPAD: with the passive detector the session scores every
// padEvery-th frame with one face and, once the challenge is passed,
// passes only when the median live score less the cue penalties reaches
// PADThreshold; a scoring error stops the session's frame with it.
func TestLivenessRuleSessionPAD(t *testing.T) {
	limitOver := Cues{Moire: 2, Glare: PADCueLimits.Glare * 2, Edges: 0.3}
	tests := []struct {
		name   string
		sc     scoreCounter
		state  LivenessState
		reason string
	}{
		{"live", scoreCounter{live: 0.99}, LivenessPassed, ""},
		{"at the threshold", scoreCounter{live: PADThreshold}, LivenessPassed, ""},
		{"just under it", scoreCounter{live: below(PADThreshold)}, LivenessFailed, "presentation_attack:0.50"},
		{"live with glare", scoreCounter{live: 0.99, cues: limitOver}, LivenessPassed, ""},
		{"unsure with glare", scoreCounter{live: 0.7, cues: limitOver}, LivenessFailed, "presentation_attack:0.40:glare"},
		{"a print", scoreCounter{live: 0.01}, LivenessFailed, "presentation_attack:0.01"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sc := tc.sc
			l, st, err := followScored(t, sc.score, false)
			if err != nil {
				t.Fatal(err)
			}
			if st.State != tc.state || st.Reason != tc.reason || l.Reason() != tc.reason {
				t.Errorf("%+v, want %s %q", st, tc.state, tc.reason)
			}
			if sc.calls != len(l.scores) || sc.calls < 10 || l.PADScore() != tc.sc.live {
				t.Errorf("%d calls, %d scores, median %g", sc.calls, len(l.scores), l.PADScore())
			}
			if l.fed < 2*sc.calls-1 || l.fed > 2*sc.calls {
				t.Errorf("%d frames with a face fed, %d scored: want one in %d", l.fed, sc.calls, padEvery)
			}
			if cues, _ := l.Cues(); cues.Frames != sc.calls || cues.Cues != tc.sc.cues || cues.TurnResidual != l.det.turnPeak {
				t.Errorf("session cues %+v", cues)
			}
		})
	}
	t.Run("frames without a face are not scored", func(t *testing.T) {
		var sc scoreCounter
		sc.live = 0.99
		l, _, err := followScored(t, sc.score, true)
		if err != nil {
			t.Fatal(err)
		}
		if sc.calls == 0 || l.fed != 2*sc.calls && l.fed != 2*sc.calls-1 {
			t.Errorf("%d frames with a face fed, %d scored", l.fed, sc.calls)
		}
		for _, b := range sc.boxes {
			if b.Empty() {
				t.Errorf("scored an empty box")
			}
		}
	})
	t.Run("no detector", func(t *testing.T) {
		l, st, err := followScored(t, nil, false)
		if err != nil || st.State != LivenessPassed || l.PADScore() != -1 || len(l.cues) != 0 {
			t.Errorf("%+v, PAD %g, %v", st, l.PADScore(), err)
		}
		if cues, over := l.Cues(); cues.Frames != 0 || cues.Moire != 0 || len(over) != 0 {
			t.Errorf("cues %+v %v without scoring", cues, over)
		}
	})
	t.Run("scoring error", func(t *testing.T) {
		bad := errors.New("no model")
		sc := scoreCounter{err: bad}
		l, st, err := followScored(t, sc.score, false)
		if !errors.Is(err, bad) || sc.calls != 1 || st.State != LivenessRunning || len(l.scores) != 0 {
			t.Errorf("%+v, %v after %d calls", st, err, sc.calls)
		}
	})
	t.Run("not after the end", func(t *testing.T) {
		var sc scoreCounter
		sc.live = 0.99
		l, _, _ := followScored(t, sc.score, false)
		calls := sc.calls
		g := trackNamed(t, "live/cap13_blink_turn.mjpeg").Frames[0].guidance()
		if st, err := l.observeScored(g, frameTime(2000), sc.score); err != nil || sc.calls != calls || st.State != LivenessPassed {
			t.Errorf("after passing: %+v, %v, %d more calls", st, err, sc.calls-calls)
		}
	})
}

// TestLivenessRuleSessionCues: the session's cues are the medians of the frames
// scored; only those past their limits are named.
func TestLivenessRuleSessionCues(t *testing.T) {
	l, err := NewLiveness(DefaultConfig().Liveness, mrand.New(jitter0))
	if err != nil {
		t.Fatal(err)
	}
	l.cues = []Cues{{Moire: 1, Glare: 0.5, Edges: 0.1}, {Moire: 5, Glare: 0, Edges: 0.9}, {Moire: 4, Glare: 0.01, Edges: 0.7}}
	l.det.turnPeak = 0.11
	sc, over := l.Cues()
	want := SessionCues{Cues: Cues{Moire: 4, Glare: 0.01, Edges: 0.7}, TurnResidual: 0.11, Frames: 3}
	if sc != want || !slices.Equal(over, []string{"moire", "edges"}) {
		t.Errorf("Cues() = %+v %v, want %+v [moire edges]", sc, over, want)
	}
}

// TestLivenessRuleNilRand: a session without a given random source draws
// its own (crypto/rand seeded): sessions differ.
func TestLivenessRuleNilRand(t *testing.T) {
	seen := map[string]bool{}
	for range 20 {
		l, err := NewLiveness(DefaultConfig().Liveness, nil)
		if err != nil {
			t.Fatal(err)
		}
		ch := l.Challenge()
		seen[string(ch[0])+"/"+string(ch[1])] = true
	}
	if len(seen) < 2 {
		t.Errorf("20 sessions drew %v: want different challenges", seen)
	}
}

// TestLivenessRuleRigidPoints: the points that move with the skull are
// the jaw, the brows and the nose (iBUG 0–35), not the eyes or the mouth.
func TestLivenessRuleRigidPoints(t *testing.T) {
	want := make([]int, 36)
	for i := range want {
		want[i] = i
	}
	if !slices.Equal(rigidIdx, want) {
		t.Errorf("rigid points %v, want 0..35", rigidIdx)
	}
}

// TestLivenessRuleLidRatio: the lid gap (mean of the two lid-point
// distances) over the distance from the eye's centre to its brow's middle,
// averaged over both eyes.
func TestLivenessRuleLidRatio(t *testing.T) {
	p := make([]pt, 68)
	for i := range p {
		p[i] = pt{float64(1000 + 37*i), float64(-500 + 11*i)} // far from the eyes
	}
	// Image-left eye: corners (0,0) and (30,0); lids 10 and 6 apart; centre
	// (15,0); brow middle (15,-20): (10+6)/2/20 = 0.4.
	copy(p[36:42], []pt{{0, 0}, {10, -5}, {20, -3}, {30, 0}, {20, 3}, {10, 5}})
	copy(p[17:22], []pt{{5, -20}, {10, -20}, {15, -20}, {20, -20}, {25, -20}})
	// Image-right eye: lids 4 and 2 apart, brow 25 above: 3/25 = 0.12.
	copy(p[42:48], []pt{{60, 0}, {70, -2}, {80, -1}, {90, 0}, {80, 1}, {70, 2}})
	copy(p[22:27], []pt{{65, -25}, {70, -25}, {75, -25}, {80, -25}, {85, -25}})
	if got, want := lidRatio(p), (0.4+0.12)/2; math.Abs(got-want) > 1e-12 {
		t.Errorf("lidRatio = %g, want %g", got, want)
	}
	// A brow on the eye's centre: no ratio (0) for that eye.
	copy(p[17:22], []pt{{15, 0}, {15, 0}, {15, 0}, {15, 0}, {15, 0}})
	if got, want := lidRatio(p), 0.12/2; math.Abs(got-want) > 1e-12 {
		t.Errorf("lidRatio with a brow on the eye = %g, want %g", got, want)
	}
}
