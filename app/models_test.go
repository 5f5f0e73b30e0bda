package app

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func modelDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	var manifest strings.Builder
	for name, body := range files {
		sum := sha256.Sum256([]byte(body))
		fmt.Fprintf(&manifest, "%s  %s\n", hex.EncodeToString(sum[:]), name)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, ModelsManifest), []byte(manifest.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestVerifyModels(t *testing.T) {
	dir := modelDir(t, map[string]string{"a.dat": "alpha", "b.dat": "bravo!"})
	files, err := VerifyModels(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || files[0].Bytes+files[1].Bytes != 11 {
		t.Fatalf("got %+v", files)
	}
}

func TestVerifyModelsRefuses(t *testing.T) {
	tests := []struct {
		name   string
		break_ func(dir string)
		want   string
	}{
		{"missing manifest", func(d string) { os.Remove(filepath.Join(d, ModelsManifest)) }, "models.sha256 is missing"},
		{"missing file", func(d string) { os.Remove(filepath.Join(d, "a.dat")) }, "a.dat is missing"},
		{"corrupt file", func(d string) { os.WriteFile(filepath.Join(d, "a.dat"), []byte("alphA"), 0o644) }, "a.dat is corrupt"},
		{"bad manifest", func(d string) { os.WriteFile(filepath.Join(d, ModelsManifest), []byte("zzz a.dat\n"), 0o644) }, "line 1"},
		{"empty manifest", func(d string) { os.WriteFile(filepath.Join(d, ModelsManifest), []byte("# nothing\n"), 0o644) }, "lists no files"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := modelDir(t, map[string]string{"a.dat": "alpha"})
			tt.break_(dir)
			_, err := VerifyModels(dir)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), InstallModelsHint(dir)) {
				t.Fatalf("got %v, want it to say %q and how to install", err, tt.want)
			}
		})
	}
}

// The manifest in build/ is the one set-up installs; it must parse.
func TestShippedManifestParses(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "build", "models.sha256"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, ModelsManifest), data, 0o644)
	_, err = VerifyModels(dir)
	if err == nil || !strings.Contains(err.Error(), "is missing") {
		t.Fatalf("want a missing-file error from an empty dir with the shipped manifest, got %v", err)
	}
}

// The hint names the folder it installs into: `make models` only for the
// default folder, which is where it installs.
func TestInstallModelsHint(t *testing.T) {
	t.Setenv("EXAMKIOSK_MODELS", "")
	t.Setenv("XDG_DATA_HOME", "/home/k/.local/share")
	if got := InstallModelsHint("/home/k/.local/share/examkiosk/models"); !strings.HasPrefix(got, "make models") {
		t.Errorf("default folder: %q", got)
	}
	if got, want := InstallModelsHint("/opt/my models"), "EXAMKIOSK_MODELS='/opt/my models' build/setup.sh models"; got != want {
		t.Errorf("other folder: %q, want %q", got, want)
	}
}
