package camera

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Config holds the camera settings a centre may need to change. The kiosk
// configuration embeds it under its own table (for example [camera]).
type Config struct {
	// Device selects the source: "auto" (first V4L2 device that can
	// capture), a device path such as "/dev/video0", or "replay:PATH".
	Device string `toml:"device"`
	// Width and Height are the preferred capture size in pixels.
	Width  int `toml:"width"`
	Height int `toml:"height"`
	// FPS is the preferred capture frame rate, and the replay rate.
	FPS float64 `toml:"fps"`
	// Formats lists the acceptable V4L2 pixel formats in order of
	// preference: "MJPG" and/or "YUYV".
	Formats []string `toml:"formats"`
	// FrameTimeout bounds every wait for a frame; a device that sends
	// nothing for this long is reopened.
	FrameTimeout time.Duration `toml:"frame_timeout"`
	// ReconnectInterval is the pause between attempts to (re)open a device
	// that is absent, busy or unplugged.
	ReconnectInterval time.Duration `toml:"reconnect_interval"`
	// ReplayLoop restarts a replay source at its end instead of stopping.
	ReplayLoop bool `toml:"replay_loop"`
	// FFmpeg is the ffmpeg binary used to replay video files that are not
	// MJPEG.
	FFmpeg string `toml:"ffmpeg"`
	// PreviewFPS caps the frame rate sent to each preview client.
	PreviewFPS float64 `toml:"preview_fps"`
	// PreviewQuality is the JPEG quality used when a frame must be encoded
	// for the preview (YUYV cameras, PNG replay frames); MJPEG frames are
	// passed through as the camera sent them.
	PreviewQuality int `toml:"preview_quality"`
	// PreviewMaxClients bounds the number of simultaneous preview streams.
	PreviewMaxClients int `toml:"preview_max_clients"`
}

// DefaultConfig returns the settings used when the kiosk configuration does
// not override them.
func DefaultConfig() Config {
	return Config{
		Device:            "auto",
		Width:             640,
		Height:            480,
		FPS:               15,
		Formats:           []string{"MJPG", "YUYV"},
		FrameTimeout:      2 * time.Second,
		ReconnectInterval: time.Second,
		ReplayLoop:        true,
		FFmpeg:            "ffmpeg",
		PreviewFPS:        15,
		PreviewQuality:    80,
		PreviewMaxClients: 4,
	}
}

// Validate reports the first setting that is out of range, naming its key.
func (c Config) Validate() error {
	if _, err := ParseSpec(c.Device); err != nil {
		return fmt.Errorf("camera.device: %w", err)
	}
	if c.Width < 160 || c.Width > 3840 || c.Width%2 != 0 {
		return fmt.Errorf("camera.width = %d: want an even number of pixels from 160 to 3840", c.Width)
	}
	if c.Height < 120 || c.Height > 2160 {
		return fmt.Errorf("camera.height = %d: want 120 to 2160 pixels", c.Height)
	}
	if c.FPS < 1 || c.FPS > 60 {
		return fmt.Errorf("camera.fps = %g: want 1 to 60 frames per second", c.FPS)
	}
	if len(c.Formats) == 0 {
		return fmt.Errorf("camera.formats is empty: want one or more of \"MJPG\", \"YUYV\"")
	}
	for _, f := range c.Formats {
		if !slices.Contains([]string{"MJPG", "YUYV"}, strings.ToUpper(f)) {
			return fmt.Errorf("camera.formats: %q: want \"MJPG\" or \"YUYV\"", f)
		}
	}
	if c.FrameTimeout < 100*time.Millisecond || c.FrameTimeout > time.Minute {
		return fmt.Errorf("camera.frame_timeout = %s: want 100ms to 1m", c.FrameTimeout)
	}
	if c.ReconnectInterval < 50*time.Millisecond || c.ReconnectInterval > time.Minute {
		return fmt.Errorf("camera.reconnect_interval = %s: want 50ms to 1m", c.ReconnectInterval)
	}
	if c.FFmpeg == "" {
		return fmt.Errorf("camera.ffmpeg is empty: want the ffmpeg binary name or path")
	}
	if c.PreviewFPS < 1 || c.PreviewFPS > 60 {
		return fmt.Errorf("camera.preview_fps = %g: want 1 to 60", c.PreviewFPS)
	}
	if c.PreviewQuality < 30 || c.PreviewQuality > 100 {
		return fmt.Errorf("camera.preview_quality = %d: want 30 to 100", c.PreviewQuality)
	}
	if c.PreviewMaxClients < 1 || c.PreviewMaxClients > 64 {
		return fmt.Errorf("camera.preview_max_clients = %d: want 1 to 64", c.PreviewMaxClients)
	}
	return nil
}

// Spec is a parsed camera device selector.
type Spec struct {
	Kind SpecKind
	// Path is the device path (KindDevice) or the replay path (KindReplay).
	Path string
}

// SpecKind tells which kind of source a Spec selects.
type SpecKind int

// Kinds of source.
const (
	SpecAuto   SpecKind = iota // first V4L2 device that can capture
	SpecDevice                 // a given V4L2 device path
	SpecReplay                 // frames replayed from files
)

// String returns the spec in the form ParseSpec accepts.
func (s Spec) String() string {
	switch s.Kind {
	case SpecDevice:
		return s.Path
	case SpecReplay:
		return "replay:" + s.Path
	}
	return "auto"
}

// ParseSpec parses "auto", a /dev path or "replay:PATH".
func ParseSpec(s string) (Spec, error) {
	switch {
	case s == "" || s == "auto":
		return Spec{Kind: SpecAuto}, nil
	case strings.HasPrefix(s, "replay:"):
		p := strings.TrimPrefix(s, "replay:")
		if p == "" {
			return Spec{}, fmt.Errorf("%q: replay needs a path, as in replay:/path/to/clip.mjpeg", s)
		}
		return Spec{Kind: SpecReplay, Path: p}, nil
	case strings.HasPrefix(s, "/dev/"):
		return Spec{Kind: SpecDevice, Path: s}, nil
	}
	return Spec{}, fmt.Errorf("%q: want \"auto\", a device path such as /dev/video0, or replay:PATH", s)
}
