package face

import (
	"fmt"
	"math"
	mrand "math/rand/v2"
	"strings"
	"time"
)

// Player chooses the frame a simulated camera shows at each tick of a
// liveness session: a recording replayed in a loop ignores the prompts, a
// person following them does not.
type Player interface {
	// Prompt tells the player the action asked for now ("" for none).
	Prompt(action string)
	// Next returns the index of the frame to show next.
	Next() int
}

// Loop is a Player that replays a clip of N frames in a loop from Start,
// whatever it is asked: a recording held to the camera.
type Loop struct{ N, Start int }

// Prompt ignores the prompt: a recording cannot hear it.
func (*Loop) Prompt(string) {}

// Next returns the next frame of the loop.
func (l *Loop) Next() int {
	i := l.Start % l.N
	l.Start = i + 1
	return i
}

// TrialResult is the outcome of simulated liveness sessions.
type TrialResult struct {
	Trials int `json:"trials"`
	Passed int `json:"passed"`
	// PassedFirst counts the sessions passed at their first attempt.
	PassedFirst int `json:"passed_first_attempt"`
	// Reasons counts why the failed sessions' last attempts failed (the
	// English part of the reason, with durations and action names kept).
	Reasons map[string]int `json:"reasons"`
	// MeanSeconds is the mean simulated length of a session.
	MeanSeconds float64 `json:"mean_seconds"`
}

// maxSession bounds a simulated session: three attempts of two steps
// finish or fail well within it.
const maxSession = 3 * time.Minute

// RunTrials plays trials liveness sessions with configuration cfg over
// the analysed frames of a clip shown at fps frames per second: trial k
// draws its challenge and prompt times from the PCG stream (seed, k) and
// its player from newPlayer with a second stream. Each session is fed one
// frame per tick until it passes or fails.
func RunTrials(frames []Guidance, fps float64, cfg LivenessConfig, trials int, seed uint64, newPlayer func(rng *mrand.Rand) Player) (TrialResult, error) {
	res := TrialResult{Trials: trials, Reasons: map[string]int{}}
	if len(frames) == 0 || fps <= 0 {
		return res, fmt.Errorf("liveness trials: want frames and a frame rate, got %d frames at %g fps", len(frames), fps)
	}
	tick := time.Duration(float64(time.Second) / fps)
	t0 := time.Unix(1_700_000_000, 0)
	var total time.Duration
	for k := range trials {
		l, err := NewLiveness(cfg, mrand.New(mrand.NewPCG(seed, uint64(2*k))))
		if err != nil {
			return res, err
		}
		p := newPlayer(mrand.New(mrand.NewPCG(seed, uint64(2*k+1))))
		var el time.Duration
		for ; el < maxSession && l.State() == LivenessRunning; el += tick {
			i := p.Next()
			if i < 0 || i >= len(frames) {
				return res, fmt.Errorf("liveness trials: player chose frame %d of %d", i, len(frames))
			}
			st := l.Observe(frames[i], t0.Add(el))
			p.Prompt(string(st.Action))
		}
		total += el
		switch l.State() {
		case LivenessPassed:
			res.Passed++
			if l.attempt == 1 {
				res.PassedFirst++
			}
		default:
			r := l.Reason()
			if _, en, ok := strings.Cut(r, " / "); ok {
				r = en
			}
			if l.State() == LivenessRunning {
				r = "still running"
			}
			res.Reasons[r]++
		}
	}
	if trials > 0 {
		res.MeanSeconds = total.Seconds() / float64(trials)
	}
	return res, nil
}

// RestingFrames reports, for each frame of a clip played in order, whether
// the motion detector sees the face at rest there (frontal, eyes open,
// mouth closed, no action under way): where a simulated person may wait
// for a prompt.
func RestingFrames(frames []Guidance) []bool {
	d := NewMotionDetector()
	t0 := time.Unix(1_700_000_000, 0)
	out := make([]bool, len(frames))
	for i, g := range frames {
		var f *Face
		if g.Faces == 1 {
			f = g.Face
		}
		d.Observe(f, t0.Add(time.Duration(i)*time.Second/15))
		// Clearly at rest: well inside the thresholds of Neutral.
		out[i] = d.Neutral() && d.last.mar < mouthClosedMAR*2/3 && math.Abs(d.last.yaw) < neutralYaw*2/3
	}
	return out
}

// TurnResidualPeak is the flat-depth cue of a clip played in order: the
// highest non-rigid residual of a frame turned past the turn's yaw (0 when
// none is). A real turn of 10–20° measures 0.08–0.14; a photo turned in
// front of the camera stays near landmark noise.
func TurnResidualPeak(frames []Guidance) float64 {
	d := NewMotionDetector()
	t0 := time.Unix(1_700_000_000, 0)
	for i, g := range frames {
		var f *Face
		if g.Faces == 1 {
			f = g.Face
		}
		d.Observe(f, t0.Add(time.Duration(i)*time.Second/15))
	}
	return d.turnPeak
}
