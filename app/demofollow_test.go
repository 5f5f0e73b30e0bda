package app

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"examkiosk/device/camera"
	"examkiosk/internal/paths"
	"examkiosk/internal/testenv"
)

// TestDemoCameraFollowsPrompts: in the demo, the demo clip is opened as a
// prompt-following replay and the camera status says so; outside the
// demo, or for another clip, the replay plays as recorded.
func TestDemoCameraFollowsPrompts(t *testing.T) {
	clip := filepath.Join(testenv.FacesDir(t), "live", "cap13_blink_turn", "cap13_blink_turn.mjpeg")
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
