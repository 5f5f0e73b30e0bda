package app

import (
	"context"
	"crypto/rand"
	_ "embed" // the demo clip's annotations
	"encoding/binary"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"path/filepath"
	"strings"

	"examkiosk/device/camera"
	"examkiosk/device/face"
	"examkiosk/internal/paths"
)

// demoFollowNotes annotates the demo clip (paths.DemoClip): where the person
// blinks, turns, opens the mouth and rests.
//
//go:embed demofollow.json
var demoFollowNotes []byte

// DemoFollowScript is what the demo's camera plays: the demo clip's
// annotated actions, in the order the liveness prompts ask for them.
func DemoFollowScript() (camera.Script, error) {
	name := strings.TrimSuffix(filepath.Base(paths.DemoClip()), filepath.Ext(paths.DemoClip()))
	s, err := camera.ParseAnnotations(demoFollowNotes, name, nil)
	if err != nil {
		return camera.Script{}, fmt.Errorf("demo clip annotations: %w", err)
	}
	return s, nil
}

// DemoFollowActions are the liveness actions the demo clip's person can
// follow: the actions of the default pool that its annotations mark. The
// demo asks only for these (demo.Config), so that every challenge can be
// answered; a real kiosk's pool is its configuration's.
func DemoFollowActions() ([]face.Action, error) {
	s, err := DemoFollowScript()
	if err != nil {
		return nil, err
	}
	var out []face.Action
	for _, a := range face.DefaultConfig().Liveness.Actions {
		if _, ok := s.Actions[string(a)]; ok {
			out = append(out, a)
		}
	}
	return out, nil
}

// openCamera opens the configured camera. In the demo, when the camera is
// the demo clip, it is a prompt-following replay: a recorded person who
// does what the liveness prompts ask (the returned Follower is told the
// prompts). Any other replay, in the demo too, plays the clip as recorded,
// which the liveness check refuses like any recording.
func openCamera(ctx context.Context, cfg Config, demo bool, log *slog.Logger) (*camera.Camera, *camera.Follower, error) {
	if !demo || cfg.Camera.Device != "replay:"+paths.DemoClip() {
		cam, err := camera.Open(ctx, cfg.Camera.Device, cfg.Camera, camera.WithLogger(log))
		return cam, nil, err
	}
	if err := cfg.Camera.Validate(); err != nil {
		return nil, nil, fmt.Errorf("open camera: %w", err)
	}
	s, err := DemoFollowScript()
	if err != nil {
		return nil, nil, err
	}
	var seed [16]byte
	if _, err := rand.Read(seed[:]); err != nil {
		return nil, nil, fmt.Errorf("demo camera seed: %w", err)
	}
	f := camera.NewFollower(s, cfg.Camera.FPS, mrand.New(mrand.NewPCG(binary.LittleEndian.Uint64(seed[:8]), binary.LittleEndian.Uint64(seed[8:]))))
	open := func(ctx context.Context) (camera.Source, error) {
		return camera.OpenFollow(ctx, paths.DemoClip(), f, cfg.Camera)
	}
	log.Info("demo: the replay camera plays a recorded person following the liveness prompts", "clip", paths.DemoClip())
	return camera.New(ctx, open, "replay:"+paths.DemoClip(), cfg.Camera, camera.WithLogger(log)), f, nil
}
