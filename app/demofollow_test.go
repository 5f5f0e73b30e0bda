package app

import (
	"context"
	"image"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"examkiosk/device/camera"
	"examkiosk/device/face"
	"examkiosk/internal/paths"
	"examkiosk/internal/testenv"
)

// TestDemoCameraFollowsPrompts: in the demo, the demo clip is opened as a
// prompt-following replay and the camera status says so; outside the
// demo, or for another clip, the replay plays as recorded.
func TestDemoCameraFollowsPrompts(t *testing.T) {
	clip := installedDemoClip(t)
	t.Setenv("XDG_DATA_HOME", t.TempDir())
	if err := os.MkdirAll(filepath.Dir(paths.DemoClip()), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(clip, paths.DemoClip()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := slog.New(slog.DiscardHandler)
	for _, tc := range []struct {
		name   string
		demo   bool
		device string
		follow bool
	}{
		{"demo clip in the demo", true, "replay:" + paths.DemoClip(), true},
		{"demo clip outside the demo", false, "replay:" + paths.DemoClip(), false},
		{"another clip in the demo", true, "replay:" + clip, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Camera.Device = tc.device
			cam, f, err := openCamera(ctx, cfg, tc.demo, log)
			if err != nil {
				t.Fatal(err)
			}
			defer cam.Close()
			if (f != nil) != tc.follow {
				t.Fatalf("follower %v, want one: %v", f, tc.follow)
			}
			deadline := time.Now().Add(20 * time.Second)
			for cam.Status().State != camera.StateOK {
				if time.Now().After(deadline) {
					t.Fatalf("camera not ok: %+v", cam.Status())
				}
				time.Sleep(20 * time.Millisecond)
			}
			it := cameraItem(cam)
			if says := it.Source == SourceCameraFollowReplay; says != tc.follow || it.State != StateOK || it.Code != string(camera.StateOK) {
				t.Errorf("status %+v: saying it follows the prompts = %v, want %v (state ok)", it, says, tc.follow)
			}
			if strings.Contains(it.Detail, " ") {
				t.Errorf("status detail %q: words in Go (the UI words the code)", it.Detail)
			}
		})
	}
}

// installedDemoClip is the demo clip build/setup.sh media made; the test
// skips when it is not there.
func installedDemoClip(t *testing.T) string {
	t.Helper()
	clip := paths.DemoClip()
	if _, err := os.Stat(clip); err != nil {
		t.Skipf("the demo clip %s is missing (run build/setup.sh media): %v", clip, err)
	}
	return clip
}

// demoEngine is the face engine as the demo configures it: challenges drawn
// from the actions the demo clip's person can follow.
func demoEngine(t *testing.T) *face.Engine {
	t.Helper()
	acts, err := DemoFollowActions()
	if err != nil {
		t.Fatal(err)
	}
	cfg := face.DefaultConfig()
	cfg.ModelsDir = testenv.ModelsDir(t)
	cfg.Liveness.Actions = acts
	return sharedEngine(t, cfg)
}

// TestDemoClipIsHonest: the demo clip (build/setup.sh media) with its
// annotations (demofollow.json) is what the demo needs and no more. Played
// as a person following the prompts it passes the liveness check in at
// least 95 % of 200 seeded sessions; looped as recorded it passes none;
// every resting frame, the frames the ID photo is made from, makes a photo
// that passes every photo rule when checked again as an upload; and the
// clip offers at least two of the challenge's actions.
func TestDemoClipIsHonest(t *testing.T) {
	clip := installedDemoClip(t)
	eng := demoEngine(t)
	script, err := DemoFollowScript()
	if err != nil {
		t.Fatal(err)
	}
	acts, err := DemoFollowActions()
	if err != nil {
		t.Fatal(err)
	}
	if len(acts) < face.DefaultConfig().Liveness.Steps || len(acts) != len(script.Actions) {
		t.Fatalf("the demo asks for %v from a script of %v", acts, script.Names())
	}
	ccfg := camera.DefaultConfig()
	frames, err := camera.ReadClip(context.Background(), clip, ccfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(frames) != script.Frames {
		t.Fatalf("%s has %d frames, its annotations %d (run build/setup.sh media again?)", clip, len(frames), script.Frames)
	}
	gs := make([]face.Guidance, len(frames))
	imgs := make([]image.Image, len(frames))
	for i, f := range frames {
		if imgs[i], err = f.Image(); err != nil {
			t.Fatalf("frame %d: %v", i+1, err)
		}
		if gs[i], err = eng.Analyze(imgs[i]); err != nil {
			t.Fatalf("frame %d: %v", i+1, err)
		}
	}
	lcfg := eng.Config().Liveness
	follow, err := face.RunTrials(gs, ccfg.FPS, lcfg, 200, 1, func(rng *mrand.Rand) face.Player {
		return camera.NewFollower(script, ccfg.FPS, rng)
	})
	if err != nil {
		t.Fatal(err)
	}
	replay, err := face.RunTrials(gs, ccfg.FPS, lcfg, 200, 1, func(rng *mrand.Rand) face.Player {
		return &face.Loop{N: len(gs), Start: rng.IntN(len(gs))}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("following: %d of %d passed (%d at the first attempt) %v; replayed: %d of %d %v",
		follow.Passed, follow.Trials, follow.PassedFirst, follow.Reasons, replay.Passed, replay.Trials, replay.Reasons)
	if follow.Passed*100 < 95*follow.Trials {
		t.Errorf("a person following the prompts passed %d of %d sessions, want ≥ 95 %%: %v", follow.Passed, follow.Trials, follow.Reasons)
	}
	if replay.Passed != 0 {
		t.Errorf("the clip looped as recorded passed %d of %d sessions, want 0", replay.Passed, replay.Trials)
	}
	spec := eng.Config().Photo
	for i := script.Rest[0]; i <= script.Rest[1]; i++ {
		if !gs[i].OK {
			t.Errorf("resting frame %d: guidance %+v, want a usable frame", i+1, gs[i].Problems)
			continue
		}
		jpg, made, err := eng.MakeIDPhoto(context.Background(), imgs[i], spec)
		if err != nil {
			t.Fatalf("frame %d: make the ID photo: %v", i+1, err)
		}
		again, err := eng.ValidatePhoto(jpg, spec)
		if err != nil {
			t.Fatalf("frame %d: validate the ID photo: %v", i+1, err)
		}
		if !made.OK || !again.OK {
			t.Errorf("frame %d: the ID photo made from it is refused: %+v, checked again %+v", i+1, made.Problems, again.Problems)
		}
	}
}
