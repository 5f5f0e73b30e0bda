package app

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const goodConfig = `
[centre]
name = "杭州市人事考试中心"
code = "HZ-01"

[kiosk]
language = "en"
idle_seconds = 90

[paths]
data_dir = "/var/lib/examkiosk"
models_dir = "/usr/share/examkiosk/models"

[camera]
device = "/dev/video2"

[central]
url = "https://central.example.cn"
timeout_seconds = 20
`

func TestLoadConfig(t *testing.T) {
	cfg, err := LoadConfig(writeConfig(t, goodConfig))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Centre:  CentreConfig{Name: "杭州市人事考试中心", Code: "HZ-01"},
		Kiosk:   KioskConfig{Language: "en", IdleSeconds: 90},
		Paths:   PathsConfig{DataDir: "/var/lib/examkiosk", ModelsDir: "/usr/share/examkiosk/models"},
		Camera:  CameraConfig{Device: "/dev/video2"},
		Central: CentralConfig{URL: "https://central.example.cn", TimeoutSeconds: Duration{20 * time.Second}},
	}
	if cfg != want {
		t.Fatalf("got %+v\nwant %+v", cfg, want)
	}
}

func TestLoadConfigDefaults(t *testing.T) {
	cfg, err := LoadConfig(writeConfig(t, "[centre]\nname = \"示范考试中心\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	def := DefaultConfig()
	def.Centre.Name = "示范考试中心"
	if cfg != def {
		t.Fatalf("got %+v\nwant the defaults %+v", cfg, def)
	}
}

func TestLoadConfigErrors(t *testing.T) {
	tests := []struct {
		name, body, key, msg string
	}{
		{"missing centre name", "[kiosk]\nlanguage = \"en\"\n", "centre.name", "required"},
		{"unknown key", "[centre]\nname = \"x\"\ncolour = \"red\"\n", "centre.colour", "unknown key"},
		{"unknown table", "[centre]\nname = \"x\"\n[printer]\nmodel = \"y\"\n", "printer", "unknown key"},
		{"wrong type", "[centre]\nname = 5\n", "centre.name", "incompatible types"},
		{"syntax", "[centre\nname = \"x\"\n", "line", "expected"},
		{"language", "[centre]\nname = \"x\"\n[kiosk]\nlanguage = \"fr\"\n", "kiosk.language", `"zh-CN" or "en"`},
		{"idle", "[centre]\nname = \"x\"\n[kiosk]\nidle_seconds = 1\n", "kiosk.idle_seconds", "15 to 3600"},
		{"relative data dir", "[centre]\nname = \"x\"\n[paths]\ndata_dir = \"data\"\n", "paths.data_dir", "absolute path"},
		{"camera", "[centre]\nname = \"x\"\n[camera]\ndevice = \"usb0\"\n", "camera.device", "replay:PATH"},
		{"central url", "[centre]\nname = \"x\"\n[central]\nurl = \"central:8700\"\n", "central.url", "http:// or https://"},
		{"timeout", "[centre]\nname = \"x\"\n[central]\ntimeout_seconds = 0\n", "central.timeout_seconds", "1 to 300"},
		{"timeout type", "[centre]\nname = \"x\"\n[central]\ntimeout_seconds = \"10s\"\n", "central.timeout_seconds", "whole number of seconds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.body)
			_, err := LoadConfig(path)
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a *ConfigError", err)
			}
			if ce.File != path {
				t.Errorf("file = %q, want %q", ce.File, path)
			}
			if !strings.Contains(ce.Key, tt.key) {
				t.Errorf("key = %q, want it to name %q (%v)", ce.Key, tt.key, err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q does not say %q", err, tt.msg)
			}
		})
	}
}

func TestLoadConfigMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.toml")
	_, err := LoadConfig(path)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "config.example.toml") {
		t.Fatalf("got %v, want an error naming %s and the example config", err, path)
	}
}

func TestExampleConfigLoads(t *testing.T) {
	if _, err := LoadConfig(filepath.Join("..", "build", "config.example.toml")); err != nil {
		t.Fatalf("the documented example config must load: %v", err)
	}
}

func TestDemoConfigValid(t *testing.T) {
	if err := DemoConfig().Validate(); err != nil {
		t.Fatal(err)
	}
}
