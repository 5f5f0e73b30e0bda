// Package testenv finds what the tests need outside the repository: the
// shared face fixtures (../shared/faces) and the installed dlib models. A
// test that needs one skips with a clear message when it is absent.
package testenv

import (
	"os"
	"path/filepath"
	"testing"

	"examkiosk/internal/paths"
)

// RepoRoot returns the directory holding go.mod, walking up from the
// working directory.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("repository root (go.mod) not found above the working directory")
		}
		dir = parent
	}
}

// FacesDir returns the face fixtures: $EXAMKIOSK_FACES, else ../shared/faces
// beside the repository. It skips t when they are absent.
func FacesDir(t testing.TB) string {
	t.Helper()
	d := os.Getenv("EXAMKIOSK_FACES")
	if d == "" {
		d = filepath.Join(RepoRoot(t), "..", "shared", "faces")
	}
	if _, err := os.Stat(d); err != nil {
		t.Skipf("face fixtures not found at %s (set EXAMKIOSK_FACES): skipping", d)
	}
	return d
}

// ModelsDir returns the dlib models installed by build/setup.sh models:
// $EXAMKIOSK_MODELS, else ${XDG_DATA_HOME:-~/.local/share}/examkiosk/models.
// It skips t when they are not installed.
func ModelsDir(t testing.TB) string {
	t.Helper()
	d := paths.ModelsDir()
	if _, err := os.Stat(filepath.Join(d, "models.sha256")); err != nil {
		t.Skipf("face models not installed in %s: run make models", d)
	}
	return d
}
