package main

// facecheck liveness CLIP (--replay | --follow ANNOTATIONS) [--trials N] [--seed S] [--fps F] [--clip-name NAME]
//
// Evaluates the liveness check on a recorded clip (an .mjpeg file, a folder
// of frames or any video ffmpeg reads). Every frame is analysed once with
// the real engine; then --trials seeded sessions with the shipped liveness
// configuration are simulated at --fps:
//   - --replay loops the clip from a random point whatever is asked, as a
//     recording held to the camera: "passed" are attacks accepted (APCER);
//   - --follow plays a live person who follows the prompts, splicing the
//     clip's annotated action segments (ANNOTATIONS, the format of the face
//     fixtures' live/annotations.json, entry CLIP's base name) after a human
//     reaction delay, resting between: sessions not passed are live people
//     refused (BPCER). The challenge draws from the actions annotated.
//
// With the passive detector's model installed, "pad" gives its live score
// on every frame with a face (min, median, time per frame), the hand-built
// cues beside it (moiré, glare, edges: medians over those frames, their
// limits and which are past them; the turn residual's peak over the clip),
// the fused score and whether it reaches the threshold a session needs.
//
// Exit status 0 on a readable clip whatever the figures, 2 on a bad clip
// or bad flags.

import (
	"context"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"examkiosk/device/camera"
	"examkiosk/device/face"
)

func init() {
	register("liveness", command{flags: func(fs *flag.FlagSet) runFunc {
		replay := fs.Bool("replay", false, "liveness: loop the clip against random challenges (attack)")
		follow := fs.String("follow", "", "liveness: annotations file; play a person following the prompts from the clip's annotated segments")
		trials := fs.Int("trials", 200, "liveness: number of simulated sessions")
		seed := fs.Uint64("seed", 1, "liveness: seed of the challenges, prompt times, start points and reaction delays")
		fps := fs.Float64("fps", 15, "liveness: frame rate the clip is played at")
		clipName := fs.String("clip-name", "", "liveness: the clip's entry in the annotations (default: its base name)")
		return func(ctx context.Context, ev *env, pos []string) (any, bool, error) {
			if len(pos) != 1 {
				return nil, false, bad("liveness: want one clip (.mjpeg, frame folder or video), got %d arguments", len(pos))
			}
			if *replay == (*follow != "") {
				return nil, false, bad("liveness: want exactly one of --replay and --follow ANNOTATIONS")
			}
			if *trials < 1 || *fps <= 0 {
				return nil, false, bad("liveness: want --trials ≥ 1 and --fps > 0, got %d and %g", *trials, *fps)
			}
			lc := livenessRun{clip: pos[0], replay: *replay, follow: *follow, trials: *trials, seed: *seed, fps: *fps, name: *clipName, cfg: ev.cfg, stderr: ev.stderr}
			// The clip and its annotations are read and checked before
			// the models load and the frames are analysed.
			if err := lc.read(ctx); err != nil {
				return nil, false, err
			}
			return withEngine(ev.cfg, func(e *face.Engine) (any, bool, error) { return lc.run(ctx, e, ev.cfg.Liveness) })
		}
	}})
}

type livenessRun struct {
	clip, follow, name string
	replay             bool
	trials             int
	seed               uint64
	fps                float64
	cfg                face.Config
	stderr             io.Writer

	// Set by read.
	frames      []camera.Frame
	annotations []byte
}

// read reads the clip and, with --follow, the annotations, and checks that
// they name the clip with its frame count and enough actions for a
// challenge (the resting frames are chosen once the frames are analysed).
func (lc *livenessRun) read(ctx context.Context) error {
	ccfg := camera.DefaultConfig()
	ccfg.FPS = lc.fps
	var err error
	if lc.frames, err = camera.ReadClip(ctx, lc.clip, ccfg); err != nil {
		return usageError{fmt.Sprintf("liveness: %v", err)}
	}
	if lc.replay {
		return nil
	}
	if lc.annotations, err = os.ReadFile(lc.follow); err != nil {
		return usageError{fmt.Sprintf("liveness: --follow: %v", err)}
	}
	script, err := camera.ParseAnnotations(lc.annotations, lc.clipName(), nil)
	if err != nil {
		return usageError{fmt.Sprintf("liveness: --follow %s: %v", lc.follow, err)}
	}
	if script.Frames != len(lc.frames) {
		return usageError{fmt.Sprintf("liveness: --follow %s: %s has %d frames, the clip %d", lc.follow, lc.clipName(), script.Frames, len(lc.frames))}
	}
	if steps := lc.cfg.Liveness.Steps; len(script.Names()) < steps {
		return usageError{fmt.Sprintf("liveness: --follow %s: %s annotates %v, fewer actions than the %d steps of a challenge", lc.follow, lc.clipName(), script.Names(), steps)}
	}
	return nil
}

// clipName is the clip's entry in the annotations.
func (lc *livenessRun) clipName() string {
	if lc.name != "" {
		return lc.name
	}
	return clipName(lc.clip)
}

// clipAnalysis is the engine's and the passive detector's view of every
// frame of a clip, in order.
type clipAnalysis struct {
	gs      []face.Guidance
	faces   int
	scores  []float64 // the passive detector's, per frame with a face
	cues    []face.Cues
	padTime time.Duration
	cueTime time.Duration
}

// analyseClip analyses every frame of a clip once. The tests replace it
// with one that remembers a clip's analysis by its frames' bytes.
var analyseClip = func(ctx context.Context, e *face.Engine, cfg face.Config, clip string, frames []camera.Frame, stderr io.Writer) (clipAnalysis, error) {
	pad, err := face.OpenPAD(cfg.ModelsDir, cfg.ONNXRuntime)
	if err != nil {
		fmt.Fprintf(stderr, "facecheck liveness: no passive detector: %v\n", err)
		pad = nil
	} else {
		defer pad.Close()
	}
	a := clipAnalysis{gs: make([]face.Guidance, len(frames))}
	cuer := face.NewCueScorer()
	for i, f := range frames {
		if err := ctx.Err(); err != nil {
			return clipAnalysis{}, err
		}
		img, err := f.Image()
		if err != nil {
			continue // an undecodable frame shows no face
		}
		if a.gs[i], err = e.Analyze(img); err != nil {
			return clipAnalysis{}, fmt.Errorf("liveness: analyse frame %d of %s: %w", i+1, clip, err)
		}
		if a.gs[i].Face == nil {
			continue
		}
		a.faces++
		if pad != nil {
			start := time.Now()
			s, err := pad.Live(img, a.gs[i].Face.Rect)
			a.padTime += time.Since(start)
			if err != nil {
				return clipAnalysis{}, fmt.Errorf("liveness: frame %d of %s: %w", i+1, clip, err)
			}
			a.scores = append(a.scores, s)
			start = time.Now()
			a.cues = append(a.cues, cuer.Score(img, a.gs[i].Face.Rect))
			a.cueTime += time.Since(start)
		}
	}
	return a, nil
}

// livenessResult is the JSON facecheck liveness prints.
type livenessResult struct {
	Clip     string        `json:"clip"`
	Mode     string        `json:"mode"` // replay or follow
	Frames   int           `json:"frames"`
	Faces    int           `json:"frames_with_face"`
	FPS      float64       `json:"fps"`
	Seed     uint64        `json:"seed"`
	Actions  []face.Action `json:"actions"`
	Steps    int           `json:"steps"`
	Attempts int           `json:"attempts"`
	face.TrialResult
	APCER *float64 `json:"apcer,omitempty"`
	BPCER *float64 `json:"bpcer,omitempty"`
	// PAD is the passive detector on the clip's frames (absent when its
	// model is not installed).
	PAD *padSummary `json:"pad,omitempty"`
}

// padSummary is the passive detector's verdict on a clip.
type padSummary struct {
	Frames    int     `json:"frames"`
	Min       float64 `json:"min"`
	Median    float64 `json:"median"`
	Threshold float64 `json:"threshold"`
	Live      bool    `json:"live"` // fused ≥ threshold
	MsPerFrm  float64 `json:"ms_per_frame"`
	// Cues are the hand-built cues: medians over the same frames, the
	// turn residual's peak over the clip played in order.
	Cues face.SessionCues `json:"cues"`
	// CueLimits are their limits; CuesOver names those past them.
	CueLimits face.Cues `json:"cue_limits"`
	CuesOver  []string  `json:"cues_over"`
	// CueMsPerFrm is the cues' time per frame.
	CueMsPerFrm float64 `json:"cues_ms_per_frame"`
	// Fused is the median live score with the cues (face.FuseCues).
	Fused float64 `json:"fused"`
}

func (lc *livenessRun) run(ctx context.Context, e *face.Engine, cfg face.LivenessConfig) (any, bool, error) {
	a, err := analyseClip(ctx, e, lc.cfg, lc.clip, lc.frames, lc.stderr)
	if err != nil {
		return nil, false, err
	}
	gs, scores, cues := a.gs, a.scores, a.cues
	res := livenessResult{Clip: lc.clip, Frames: len(lc.frames), Faces: a.faces, FPS: lc.fps, Seed: lc.seed}
	if len(scores) > 0 {
		sorted := slices.Sorted(slices.Values(scores))
		res.PAD = &padSummary{Frames: len(scores), Min: sorted[0], Median: sorted[len(sorted)/2], Threshold: face.PADThreshold,
			MsPerFrm: float64(a.padTime.Microseconds()) / 1000 / float64(len(scores))}
		sc := face.SessionCues{Frames: len(cues), TurnResidual: face.TurnResidualPeak(gs)}
		med := func(f func(face.Cues) float64) float64 {
			v := make([]float64, len(cues))
			for i, c := range cues {
				v[i] = f(c)
			}
			slices.Sort(v)
			return v[len(v)/2]
		}
		sc.Moire = med(func(c face.Cues) float64 { return c.Moire })
		sc.Glare = med(func(c face.Cues) float64 { return c.Glare })
		sc.Edges = med(func(c face.Cues) float64 { return c.Edges })
		res.PAD.Cues, res.PAD.CueLimits, res.PAD.CuesOver = sc, face.PADCueLimits, sc.Over()
		res.PAD.CueMsPerFrm = float64(a.cueTime.Microseconds()) / 1000 / float64(len(cues))
		res.PAD.Fused = face.FuseCues(res.PAD.Median, sc)
		res.PAD.Live = res.PAD.Fused >= face.PADThreshold
	}
	var player func(*mrand.Rand) face.Player
	if lc.replay {
		res.Mode = "replay"
		player = func(rng *mrand.Rand) face.Player { return &face.Loop{N: len(gs), Start: rng.IntN(len(gs))} }
	} else {
		res.Mode = "follow"
		// read checked the entry, its frame count and its actions; the
		// resting frames are those the analysis shows at rest.
		rest := face.RestingFrames(gs)
		script, err := camera.ParseAnnotations(lc.annotations, lc.clipName(), func(i int) bool { return i < len(rest) && rest[i] })
		if err != nil {
			return nil, false, usageError{fmt.Sprintf("liveness: --follow %s: %v", lc.follow, err)}
		}
		cfg.Actions = nil
		for _, a := range script.Names() {
			cfg.Actions = append(cfg.Actions, face.Action(a))
		}
		player = func(rng *mrand.Rand) face.Player { return camera.NewFollower(script, lc.fps, rng) }
	}
	res.Actions, res.Steps, res.Attempts = cfg.Actions, cfg.Steps, cfg.Attempts
	tr, err := face.RunTrials(gs, lc.fps, cfg, lc.trials, lc.seed, player)
	if err != nil {
		return nil, false, fmt.Errorf("liveness: %w", err)
	}
	res.TrialResult = tr
	rate := float64(tr.Passed) / float64(tr.Trials)
	if lc.replay {
		res.APCER = &rate
	} else {
		b := 1 - rate
		res.BPCER = &b
	}
	return res, true, nil
}

// clipName is the annotation key of a clip: its base name without the
// extension, or its folder's name for a folder called "frames".
func clipName(path string) string {
	path = filepath.Clean(path)
	base := filepath.Base(path)
	if base == "frames" {
		base = filepath.Base(filepath.Dir(path))
	}
	return strings.TrimSuffix(base, filepath.Ext(base))
}
