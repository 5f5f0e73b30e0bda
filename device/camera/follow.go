package camera

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"sync"
	"time"
)

// A prompt-following replay plays a recorded person who follows the
// liveness prompts, for the demo and for measuring how often a live person
// passes: the clip's annotated action segments are played in the order the
// prompts ask, after a human reaction delay, with resting frames between.
// A plain looping replay cannot follow prompts and is refused by the
// liveness check like any recording.

// Script is what a prompt-following replay plays: the clip's frame count,
// a run of resting frames (played back and forth while nothing is asked)
// and, for each action, the frames that show it. Frames are 0-based and
// ranges inclusive.
type Script struct {
	Frames  int               `json:"frames"`
	Rest    [2]int            `json:"rest"`
	Actions map[string][2]int `json:"actions"`
}

// Segment lead and margin, in frames: an annotated span marks the frames
// where the eyes are closed or the head is turned; the movement starts a
// little before, and resting frames are kept clear of it.
const (
	followLead   = 1
	followMargin = 4
)

// ParseAnnotations reads the annotations of clip from data, in the format
// of the face fixtures' live/annotations.json: an object per clip with
// 1-based inclusive frame spans "blink_span" (or "blink_closed"),
// "face_toward_image_right" (the person turning to their left),
// "face_toward_image_left" (to their right), optionally "mouth_open" and
// "talking" (never rest), and "rest" (resting frames). The first span of
// each action is used; fields that are not lists of spans are ignored.
//
// The resting frames are the longest "rest" span when given; otherwise the
// longest run of frames clear of every annotated span for which restOK
// (when not nil) holds: annotations rarely mark every movement, and a
// caller that has analysed the clip can say which frames are at rest.
func ParseAnnotations(data []byte, clip string, restOK func(frame int) bool) (Script, error) {
	var all map[string]json.RawMessage
	if err := json.Unmarshal(data, &all); err != nil {
		return Script{}, fmt.Errorf("annotations: %w", err)
	}
	raw, ok := all[clip]
	if !ok {
		return Script{}, fmt.Errorf("annotations: no entry for clip %q", clip)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return Script{}, fmt.Errorf("annotations %s: %w", clip, err)
	}
	spans := func(key string) [][2]int {
		var v [][2]int
		if b, ok := fields[key]; ok && json.Unmarshal(b, &v) == nil {
			return v
		}
		return nil
	}
	s := Script{Actions: map[string][2]int{}}
	if b, ok := fields["frames"]; !ok || json.Unmarshal(b, &s.Frames) != nil || s.Frames < 1 {
		return Script{}, fmt.Errorf("annotations %s: want a positive \"frames\" count", clip)
	}
	busy := make([]bool, s.Frames)
	mark := func(sp [2]int, margin int) {
		for i := max(sp[0]-1-margin, 0); i <= min(sp[1]-1+margin, s.Frames-1); i++ {
			busy[i] = true
		}
	}
	blink := spans("blink_span")
	if blink == nil {
		blink = spans("blink_closed")
	}
	for action, sps := range map[string][][2]int{
		"blink": blink, "turn_left": spans("face_toward_image_right"),
		"turn_right": spans("face_toward_image_left"), "open_mouth": spans("mouth_open"),
	} {
		for i, sp := range sps {
			if sp[0] < 1 || sp[1] < sp[0] || sp[1] > s.Frames {
				return Script{}, fmt.Errorf("annotations %s: %s span %v outside frames 1..%d", clip, action, sp, s.Frames)
			}
			mark(sp, followMargin)
			if i == 0 {
				s.Actions[action] = [2]int{max(sp[0]-1-followLead, 0), sp[1] - 1}
			}
		}
	}
	for _, sp := range spans("talking") {
		mark(sp, 0)
	}
	if rest := spans("rest"); rest != nil {
		for i := range busy {
			busy[i] = true
		}
		for _, sp := range rest {
			for i := max(sp[0]-1, 0); i <= min(sp[1]-1, s.Frames-1); i++ {
				busy[i] = false
			}
		}
	} else if restOK != nil {
		for i := range busy {
			busy[i] = busy[i] || !restOK(i)
		}
	}
	// The longest run of resting frames.
	best, start := [2]int{-1, -2}, -1
	for i := 0; i <= s.Frames; i++ {
		if i < s.Frames && !busy[i] {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 && i-1-start > best[1]-best[0] {
			best = [2]int{start, i - 1}
		}
		start = -1
	}
	if best[0] < 0 || best[1]-best[0] < 5 {
		return Script{}, fmt.Errorf("annotations %s: no run of at least 6 resting frames", clip)
	}
	s.Rest = best
	if len(s.Actions) == 0 {
		return Script{}, fmt.Errorf("annotations %s: no annotated action", clip)
	}
	return s, nil
}

// Names returns the actions the script can play, sorted.
func (s Script) Names() []string {
	var out []string
	for a := range s.Actions {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}

// Human reaction delays the follower draws from, uniformly: from the
// prompt to the first frame of the action's segment (a person reacts in
// about 0.2–1.5 s; the segment's lead frames add up to 0.2 s).
const (
	followReactMin = 250 * time.Millisecond
	followReactMax = 1200 * time.Millisecond
	// followBlinkEvery is the mean time between the involuntary blinks the
	// follower makes while resting (people blink 15–20 times a minute).
	followBlinkEvery = 4 * time.Second
)

// Follower chooses the frames of a prompt-following replay: resting frames
// back and forth until a prompt appears, then, after a reaction delay, the
// prompted action's frames once, then rest again. While resting it also
// blinks now and then, as people do, when the script has a blink. It is safe for
// concurrent use: the face step calls Prompt while the camera calls Next.
type Follower struct {
	script Script
	fps    float64

	mu     sync.Mutex
	rng    *mrand.Rand
	prompt string // the prompt being shown ("" for none)
	wait   int    // frames of reaction delay left (-1: nothing pending)
	act    string // the action to play after the delay
	queue  []int  // frames of the action still to play
	pos    int    // position in the rest run
	dir    int    // +1 or -1
}

// NewFollower returns a follower of s for a clip played at fps frames per
// second, drawing its reaction delays from rng.
func NewFollower(s Script, fps float64, rng *mrand.Rand) *Follower {
	return &Follower{script: s, fps: fps, rng: rng, wait: -1, pos: s.Rest[0], dir: 1}
}

// Prompt tells the follower the action the person is asked for now, ""
// when none. A new prompt is acted on once, after a reaction delay; an
// action the script has no frames for is not acted on.
func (f *Follower) Prompt(action string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if action == f.prompt {
		return
	}
	f.prompt = action
	if _, ok := f.script.Actions[action]; !ok {
		return
	}
	d := followReactMin + time.Duration(f.rng.Int64N(int64(followReactMax-followReactMin)))
	f.act, f.wait = action, int(d.Seconds()*f.fps+0.5)
}

// Next returns the index of the next frame to show.
func (f *Follower) Next() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.queue) == 0 && f.wait == 0 {
		seg := f.script.Actions[f.act]
		for i := seg[0]; i <= seg[1]; i++ {
			f.queue = append(f.queue, i)
		}
		f.wait = -1
	}
	if len(f.queue) > 0 {
		i := f.queue[0]
		f.queue = f.queue[1:]
		return i
	}
	if f.wait > 0 {
		f.wait--
	}
	if seg, ok := f.script.Actions["blink"]; ok && f.rng.Float64() < 1/(followBlinkEvery.Seconds()*f.fps) {
		for i := seg[0]; i <= seg[1]; i++ {
			f.queue = append(f.queue, i)
		}
	}
	i := f.pos
	r := f.script.Rest
	if f.pos+f.dir < r[0] || f.pos+f.dir > r[1] {
		f.dir = -f.dir
	}
	f.pos += f.dir
	return i
}

// ReadClip reads every frame of a clip, unpaced: a directory of image
// files, an .mjpeg file, or any video ffmpeg decodes (see OpenReplay).
// Unusable frames are skipped; a clip with none is an error.
func ReadClip(ctx context.Context, path string, cfg Config) ([]Frame, error) {
	cfg.ReplayLoop = false
	src, err := OpenReplay(ctx, path, cfg)
	if err != nil {
		return nil, err
	}
	r := src.(*replay)
	defer r.Close()
	frames := []Frame{*r.pending}
	r.pending = nil
	for {
		f, err := r.nextCtx(ctx)
		switch {
		case err == nil:
			frames = append(frames, f)
		case errors.Is(err, ErrBadFrame):
		case StateOf(err) == StateEnded:
			return frames, nil
		default:
			return nil, fmt.Errorf("read clip %s: %w", path, err)
		}
	}
}

// followSource is a Source playing a Follower over a clip held in memory.
type followSource struct {
	frames   []Frame
	f        *Follower
	info     SourceInfo
	interval time.Duration
	due      time.Time
}

// OpenFollow opens a prompt-following replay of the clip at path (read
// whole with ReadClip), paced at cfg.FPS; f chooses the frames and must
// have been made from the clip's own annotations.
func OpenFollow(ctx context.Context, path string, f *Follower, cfg Config) (Source, error) {
	frames, err := ReadClip(ctx, path, cfg)
	if err != nil {
		return nil, &Error{State: StateError, Op: "open prompt-following replay", Device: path, Err: err}
	}
	if len(frames) != f.script.Frames {
		return nil, &Error{State: StateError, Op: "open prompt-following replay", Device: path,
			Err: fmt.Errorf("clip has %d frames, its annotations %d", len(frames), f.script.Frames)}
	}
	first := frames[0]
	return &followSource{
		frames: frames, f: f, interval: time.Duration(float64(time.Second) / cfg.FPS),
		info: SourceInfo{Device: "replay:" + path, Name: FollowName,
			Mode: Mode{Format: first.Format, Width: first.Width, Height: first.Height, FPS: cfg.FPS}},
	}, nil
}

// FollowName is the Name in the SourceInfo of a prompt-following replay: an
// identifier, not words; the kiosk's status strip says in the UI's language
// that the camera is a recording that follows the prompts.
const FollowName = "follow_replay"

func (s *followSource) Info() SourceInfo { return s.info }

func (s *followSource) Read(ctx context.Context) (Frame, error) {
	now := time.Now()
	if s.due.IsZero() || now.Sub(s.due) > s.interval {
		s.due = now
	}
	if wait := s.due.Sub(now); wait > 0 && !sleep(ctx, wait) {
		return Frame{}, ctx.Err()
	}
	s.due = s.due.Add(s.interval)
	f := s.frames[s.f.Next()]
	f.Data = slices.Clone(f.Data) // consumers may keep it
	return f, nil
}

func (s *followSource) Close() error { return nil }
