package camera

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
)

func TestStateOf(t *testing.T) {
	_, notExist := os.Open("/nonexistent/video9")
	tests := []struct {
		err  error
		want State
	}{
		{nil, StateOK},
		{syscall.EBUSY, StateBusy},
		{fmt.Errorf("set format: %w", syscall.EBUSY), StateBusy},
		{syscall.ENODEV, StateDisconnected},
		{syscall.EIO, StateDisconnected},
		{syscall.ENOENT, StateNoDevice},
		{notExist, StateNoDevice},
		{syscall.EACCES, StateNoPermission},
		{syscall.ENOTTY, StateNotCapture},
		{errors.New("Not a video capture device"), StateNotCapture},
		{errors.New("Device does not support the streaming I/O method"), StateNotCapture},
		{errors.New("Failed to map request buffers: device or resource busy"), StateBusy},
		{errors.New("Failed to start streaming: no such device"), StateDisconnected},
		{ErrTimeout, StateStalled},
		{&Error{State: StateUnsupported, Err: syscall.EBUSY}, StateUnsupported},
		{errors.New("something odd"), StateError},
	}
	for _, tt := range tests {
		if got := StateOf(tt.err); got != tt.want {
			t.Errorf("StateOf(%v) = %s, want %s", tt.err, got, tt.want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	tests := []struct {
		key    string
		mutate func(*Config)
	}{
		{"camera.device", func(c *Config) { c.Device = "video0" }},
		{"camera.device", func(c *Config) { c.Device = "replay:" }},
		{"camera.width", func(c *Config) { c.Width = 641 }},
		{"camera.height", func(c *Config) { c.Height = 10 }},
		{"camera.fps", func(c *Config) { c.FPS = 0 }},
		{"camera.formats", func(c *Config) { c.Formats = nil }},
		{"camera.formats", func(c *Config) { c.Formats = []string{"H264"} }},
		{"camera.frame_timeout", func(c *Config) { c.FrameTimeout = time.Millisecond }},
		{"camera.reconnect_interval", func(c *Config) { c.ReconnectInterval = 0 }},
		{"camera.ffmpeg", func(c *Config) { c.FFmpeg = "" }},
		{"camera.preview_fps", func(c *Config) { c.PreviewFPS = 100 }},
		{"camera.preview_quality", func(c *Config) { c.PreviewQuality = 5 }},
		{"camera.preview_max_clients", func(c *Config) { c.PreviewMaxClients = 0 }},
	}
	for _, tt := range tests {
		c := DefaultConfig()
		tt.mutate(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.key) {
			t.Errorf("%s: err = %v, want one naming the key", tt.key, err)
		}
	}
}

func TestParseSpec(t *testing.T) {
	tests := []struct {
		in   string
		want Spec
		ok   bool
	}{
		{"", Spec{Kind: SpecAuto}, true},
		{"auto", Spec{Kind: SpecAuto}, true},
		{"/dev/video2", Spec{Kind: SpecDevice, Path: "/dev/video2"}, true},
		{"replay:/a/b.mjpeg", Spec{Kind: SpecReplay, Path: "/a/b.mjpeg"}, true},
		{"replay:", Spec{}, false},
		{"webcam", Spec{}, false},
	}
	for _, tt := range tests {
		got, err := ParseSpec(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseSpec(%q) = %v, %v", tt.in, got, err)
		}
		if tt.ok && tt.in != "" {
			if got.String() != tt.in {
				t.Errorf("%q round trips to %q", tt.in, got.String())
			}
		}
	}
}

func TestConfigFromTOML(t *testing.T) {
	var wrapper struct {
		Camera Config `toml:"camera"`
	}
	wrapper.Camera = DefaultConfig()
	_, err := toml.Decode(`
[camera]
device = "replay:/srv/demo/cap13.mjpeg"
width = 1280
height = 720
formats = ["YUYV"]
frame_timeout = "3s"
reconnect_interval = "500ms"
preview_fps = 12
`, &wrapper)
	if err != nil {
		t.Fatal(err)
	}
	c := wrapper.Camera
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Device != "replay:/srv/demo/cap13.mjpeg" || c.Width != 1280 || c.Formats[0] != "YUYV" ||
		c.FrameTimeout != 3*time.Second || c.ReconnectInterval != 500*time.Millisecond ||
		c.PreviewFPS != 12 || c.FPS != 15 || c.FFmpeg != "ffmpeg" {
		t.Errorf("decoded %+v", c)
	}
	if _, err := toml.Decode("[camera]\nframe_timeout = \"soon\"\n", &wrapper); err == nil {
		t.Error("bad duration accepted")
	}
}
