package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseFlagsUnknownPrintsUsage(t *testing.T) {
	var stderr bytes.Buffer
	if _, err := parseFlags([]string{"--colour", "red"}, &stderr); err == nil {
		t.Fatal("an unknown flag must be an error")
	}
	out := stderr.String()
	if !strings.Contains(out, "flag provided but not defined: -colour") || !strings.Contains(out, "Usage: examkiosk") || !strings.Contains(out, "-demo") {
		t.Fatalf("want the error and the usage, got:\n%s", out)
	}
	stderr.Reset()
	if _, err := parseFlags([]string{"extra"}, &stderr); err == nil || !strings.Contains(stderr.String(), "Usage") {
		t.Fatalf("a stray argument must print usage, got %v / %s", err, stderr.String())
	}
}

func TestLoadConfigFlagsOverride(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "c.toml")
	os.WriteFile(cfgPath, []byte("[centre]\nname = \"测试中心\"\n"), 0o600)
	f, err := parseFlags([]string{"--config", cfgPath, "--data", dir, "--camera", "replay:/x.mjpeg", "--central", "https://c.example"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(f)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Centre.Name != "测试中心" || cfg.Paths.DataDir != dir || cfg.Camera.Device != "replay:/x.mjpeg" || cfg.Central.URL != "https://c.example" {
		t.Fatalf("flags not applied: %+v", cfg)
	}
	f.camera = "webcam"
	if _, err := loadConfig(f); err == nil || !strings.Contains(err.Error(), "camera.device") {
		t.Fatalf("a bad flag value must be refused naming the key, got %v", err)
	}
}

func TestRunExitCodes(t *testing.T) {
	if code := run([]string{"--nope"}); code != 2 {
		t.Errorf("unknown flag: exit %d, want 2", code)
	}
	if code := run([]string{"--config", filepath.Join(t.TempDir(), "missing.toml")}); code != 1 {
		t.Errorf("missing config: exit %d, want 1", code)
	}
}
