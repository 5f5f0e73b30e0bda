package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"examkiosk/app"
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
	if cfg.Centre.Name != "测试中心" || cfg.Store.Path != filepath.Join(dir, "kiosk.db") || cfg.Camera.Device != "replay:/x.mjpeg" || cfg.Sync.CentralURL != "https://c.example" {
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

// What --print-config prints loads back to the same configuration.
func TestPrintConfigRoundTrip(t *testing.T) {
	f, err := parseFlags([]string{"--demo"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(f)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(cfg); err != nil {
		t.Fatal(err)
	}
	// The PIN's hash is never printed; a printed config gets it back by hand.
	printed := buf.String()
	if strings.Contains(printed, "argon2") || !strings.Contains(printed, `staff_pin_hash = "[redacted]"`) {
		t.Fatalf("--print-config must show the PIN hash as [redacted]:\n%s", printed)
	}
	hash, err := app.HashPIN("123456")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "all.toml")
	os.WriteFile(path, []byte(strings.Replace(printed, `"[redacted]"`, fmt.Sprintf("%q", hash), 1)), 0o600)
	back, err := app.LoadConfig(path)
	if err != nil {
		t.Fatalf("printed config does not load: %v\n%s", err, buf.String())
	}
	var again bytes.Buffer
	toml.NewEncoder(&again).Encode(back)
	if again.String() != buf.String() {
		t.Fatalf("round trip changed the config:\n%s\n---\n%s", buf.String(), again.String())
	}
}

// --print-config prints the defaults when there is no config file, and
// never the staff PIN.
func TestPrintConfig(t *testing.T) {
	if _, err := os.Stat(app.DefaultConfigPath); err == nil {
		t.Skipf("%s exists here", app.DefaultConfigPath)
	}
	f, err := parseFlags([]string{"--print-config"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(f)
	if err != nil {
		t.Fatalf("--print-config alone: %v", err)
	}
	var buf bytes.Buffer
	if err := printConfig(&buf, cfg); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "# not valid yet:") || !strings.Contains(buf.String(), "centre.name") || !strings.Contains(buf.String(), "idle_seconds = 120") {
		t.Fatalf("defaults not printed with what is missing:\n%s", buf.String())
	}
	f, _ = parseFlags([]string{"--demo", "--print-config"}, &bytes.Buffer{})
	cfg, err = loadConfig(f)
	if err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	printConfig(&buf, cfg)
	if strings.Contains(buf.String(), string(cfg.Kiosk.StaffPINHash)) || !strings.Contains(buf.String(), "staff_pin_hash is set") {
		t.Fatalf("the staff PIN must not be printed:\n%s", buf.String())
	}
}
