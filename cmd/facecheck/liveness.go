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

func (lc livenessRun) run(ctx context.Context, e *face.Engine, cfg face.LivenessConfig) (any, bool, error) {
	ccfg := camera.DefaultConfig()
	ccfg.FPS = lc.fps
	frames, err := camera.ReadClip(ctx, lc.clip, ccfg)
	if err != nil {
		return nil, false, usageError{fmt.Sprintf("liveness: %v", err)}
	}
	pad, err := face.OpenPAD(lc.cfg.ModelsDir, lc.cfg.ONNXRuntime)
	if err != nil {
		fmt.Fprintf(lc.stderr, "facecheck liveness: no passive detector: %v\n", err)
		pad = nil
	} else {
		defer pad.Close()
	}
	gs := make([]face.Guidance, len(frames))
	faces := 0
	var scores []float64
	var cues []face.Cues
	cuer := face.NewCueScorer()
	var padTime, cueTime time.Duration
	for i, f := range frames {
		img, err := f.Image()
		if err != nil {
			continue // an undecodable frame shows no face
		}
		if gs[i], err = e.Analyze(img); err != nil {
			return nil, false, fmt.Errorf("liveness: analyse frame %d of %s: %w", i+1, lc.clip, err)
		}
		if gs[i].Face == nil {
			continue
		}
		faces++
		if pad != nil {
			start := time.Now()
			s, err := pad.Live(img, gs[i].Face.Rect)
			padTime += time.Since(start)
			if err != nil {
				return nil, false, fmt.Errorf("liveness: frame %d of %s: %w", i+1, lc.clip, err)
			}
			scores = append(scores, s)
			start = time.Now()
			cues = append(cues, cuer.Score(img, gs[i].Face.Rect))
			cueTime += time.Since(start)
		}
	}
	res := livenessResult{Clip: lc.clip, Frames: len(frames), Faces: faces, FPS: lc.fps, Seed: lc.seed}
	if len(scores) > 0 {
		sorted := slices.Sorted(slices.Values(scores))
		res.PAD = &padSummary{Frames: len(scores), Min: sorted[0], Median: sorted[len(sorted)/2], Threshold: face.PADThreshold,
			MsPerFrm: float64(padTime.Microseconds()) / 1000 / float64(len(scores))}
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
		res.PAD.CueMsPerFrm = float64(cueTime.Microseconds()) / 1000 / float64(len(cues))
		res.PAD.Fused = face.FuseCues(res.PAD.Median, sc)
		res.PAD.Live = res.PAD.Fused >= face.PADThreshold
	}
	var player func(*mrand.Rand) face.Player
	if lc.replay {
		res.Mode = "replay"
		player = func(rng *mrand.Rand) face.Player { return &face.Loop{N: len(gs), Start: rng.IntN(len(gs))} }
	} else {
		res.Mode = "follow"
		data, err := os.ReadFile(lc.follow)
		if err != nil {
			return nil, false, usageError{fmt.Sprintf("liveness: --follow: %v", err)}
		}
		name := lc.name
		if name == "" {
			name = clipName(lc.clip)
		}
		rest := face.RestingFrames(gs)
		script, err := camera.ParseAnnotations(data, name, func(i int) bool { return i < len(rest) && rest[i] })
		if err != nil {
			return nil, false, usageError{fmt.Sprintf("liveness: --follow %s: %v", lc.follow, err)}
		}
		if script.Frames != len(gs) {
			return nil, false, usageError{fmt.Sprintf("liveness: --follow %s: %s has %d frames, the clip %d", lc.follow, name, script.Frames, len(gs))}
		}
		cfg.Actions = nil
		for _, a := range script.Names() {
			cfg.Actions = append(cfg.Actions, face.Action(a))
		}
		if len(cfg.Actions) < cfg.Steps {
			return nil, false, usageError{fmt.Sprintf("liveness: --follow %s: %s annotates %v, fewer actions than the %d steps of a challenge", lc.follow, name, script.Names(), cfg.Steps)}
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
