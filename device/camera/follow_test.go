package camera

import (
	"bytes"
	"context"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

const notes = `{
 "fps": 15,
 "clip": {
  "frames": 60,
  "talking": [[1, 8]],
  "blink_span": [[20, 23]],
  "face_toward_image_right": [[40, 50]],
  "mouth_open": "around 55",
  "extra": "ignored"
 },
 "rested": {"frames": 30, "rest": [[3, 10], [12, 25]], "blink_closed": [[27, 28]]},
 "bad": {"frames": 10, "blink_closed": [[9, 12]]},
 "nothing": {"frames": 40}
}`

func TestParseAnnotations(t *testing.T) {
	s, err := ParseAnnotations([]byte(notes), "clip", nil)
	if err != nil {
		t.Fatal(err)
	}
	// Blink 20–23 and the turn toward the image's right (the person's left)
	// 40–50, 1-based, become 0-based segments with one lead frame; the
	// string "mouth_open" is ignored. Rest: clear of talking (0–7) and of
	// every span ±4 frames: 8–14, 27–34 (longest, 8 frames), 55–59.
	want := Script{Frames: 60, Rest: [2]int{27, 34}, Actions: map[string][2]int{"blink": {18, 22}, "turn_left": {38, 49}}}
	if s.Frames != want.Frames || s.Rest != want.Rest || len(s.Actions) != 2 || s.Actions["blink"] != want.Actions["blink"] || s.Actions["turn_left"] != want.Actions["turn_left"] {
		t.Errorf("got %+v, want %+v", s, want)
	}
	if got := s.Names(); !slices.Equal(got, []string{"blink", "turn_left"}) {
		t.Errorf("Names() = %v", got)
	}
	// A caller that knows which frames rest narrows the choice.
	s, err = ParseAnnotations([]byte(notes), "clip", func(i int) bool { return i < 30 })
	if err != nil || s.Rest != [2]int{8, 14} {
		t.Errorf("with restOK: rest %v, %v; want [8 14]", s.Rest, err)
	}
	// Explicit rest spans win.
	s, err = ParseAnnotations([]byte(notes), "rested", nil)
	if err != nil || s.Rest != [2]int{11, 24} || s.Actions["blink"] != [2]int{25, 27} {
		t.Errorf("rested: %+v, %v", s, err)
	}
	for _, tc := range []struct{ clip, data, want string }{
		{"missing", notes, "no entry"},
		{"bad", notes, "outside frames"},
		{"nothing", notes, "no annotated action"},
		{"clip", "{", "annotations"},
		{"clip", `{"clip": {"blink_span": [[1, 2]]}}`, "frames"},
	} {
		if _, err := ParseAnnotations([]byte(tc.data), tc.clip, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one saying %q", tc.clip, err, tc.want)
		}
	}
}

// TestFollowerActsOnPrompts: resting frames back and forth until a
// prompt, the prompted segment once after a human reaction delay, then
// rest again; a prompt it has no frames for, or one held on screen, is not
// acted on again.
func TestFollowerActsOnPrompts(t *testing.T) {
	s := Script{Frames: 60, Rest: [2]int{27, 34}, Actions: map[string][2]int{"blink": {18, 22}, "turn_left": {38, 49}}}
	const fps = 15
	for seed := range uint64(20) {
		f := NewFollower(s, fps, mrand.New(mrand.NewPCG(seed, 1)))
		inRest := func(i int) bool { return i >= 27 && i <= 34 }
		inSeg := func(i int, a string) bool { return i >= s.Actions[a][0] && i <= s.Actions[a][1] }
		// Resting (with an involuntary blink now and then).
		for range 60 {
			if i := f.Next(); !inRest(i) && !inSeg(i, "blink") {
				t.Fatalf("seed %d: frame %d while resting", seed, i)
			}
		}
		f.Prompt("open_mouth") // no frames for it: keeps resting
		for range 30 {
			if i := f.Next(); inSeg(i, "turn_left") {
				t.Fatalf("seed %d: turned when asked for an action it cannot play", seed)
			}
		}
		f.Prompt("turn_left")
		start, n := -1, 0
		for k := range 60 {
			f.Prompt("turn_left") // held on screen
			i := f.Next()
			if inSeg(i, "turn_left") {
				if start < 0 {
					start = k
				}
				n++
			}
		}
		// The reaction delay (0.25–1.2 s, up to 0.5 s more when a blink
		// comes first), then the 12 frames of the turn, once.
		if start < int(followReactMin.Seconds()*fps) || start > int(followReactMax.Seconds()*fps)+8 || n != 12 {
			t.Errorf("seed %d: turn started at tick %d for %d frames; want within the reaction delay, 12 frames", seed, start, n)
		}
	}
}

// TestFollowSourcePlaysTheClip: the source serves the clip's own frames,
// paced, in the order the follower chooses; a clip whose length does not
// match its annotations is refused.
func TestFollowSourcePlaysTheClip(t *testing.T) {
	dir := t.TempDir()
	for i := range 12 {
		os.WriteFile(filepath.Join(dir, string(rune('a'+i))+".jpg"), encodeJPEG(t, testImage(32, 24, i)), 0o644)
	}
	ctx := context.Background()
	cfg := replayConfig(100, false)
	frames, err := ReadClip(ctx, dir, cfg)
	if err != nil || len(frames) != 12 {
		t.Fatalf("ReadClip: %d frames, %v", len(frames), err)
	}
	s := Script{Frames: 12, Rest: [2]int{0, 5}, Actions: map[string][2]int{"blink": {8, 10}}}
	f := NewFollower(s, 100, mrand.New(mrand.NewPCG(1, 1)))
	src, err := OpenFollow(ctx, dir, f, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if info := src.Info(); info.Name != FollowName || info.Mode.Width != 32 || !strings.HasPrefix(info.Device, "replay:") {
		t.Errorf("info %+v", info)
	}
	start := time.Now()
	got := readN(t, src, 11)
	if el := time.Since(start); el < 80*time.Millisecond {
		t.Errorf("11 frames at 100 fps in %v: not paced", el)
	}
	// The follower seeded alike chooses the same frames.
	g := NewFollower(s, 100, mrand.New(mrand.NewPCG(1, 1)))
	for k, fr := range got {
		if i := g.Next(); !bytes.Equal(fr.Data, frames[i].Data) {
			t.Errorf("frame %d is not clip frame %d", k, i)
		}
	}
	s.Frames = 13
	if _, err := OpenFollow(ctx, dir, NewFollower(s, 100, mrand.New(mrand.NewPCG(1, 1))), cfg); err == nil {
		t.Error("a clip of 12 frames opened with annotations for 13")
	}
	if _, err := ReadClip(ctx, filepath.Join(dir, "missing"), cfg); err == nil {
		t.Error("ReadClip of a missing path succeeded")
	}
}
