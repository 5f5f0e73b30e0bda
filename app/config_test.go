package app

import (
	"errors"

	"examkiosk/device/camera"
	"examkiosk/device/face"
	"os"
	"path/filepath"
	"reflect"
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
staff_pin_hash = "$argon2id$v=19$m=65536,t=3,p=2$rz8s5Wkv3StItwlMG3cbDQ$uuPWxvdDeEtZZcX7N1beyM7nbEK5ZTvxgTtPRN6JQRM" # 20261126

[camera]
device = "/dev/video2"
width = 1280
height = 720

[face]
models_dir = "/usr/share/examkiosk/models"

[store]
path = "/var/lib/examkiosk/kiosk.db"
retention_days = 14

[sync]
central_url = "https://central.example.cn"
request_timeout = "20s"
`

func TestLoadConfig(t *testing.T) {
	cfg, err := LoadConfig(writeConfig(t, goodConfig))
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		key       string
		got, want any
	}{
		{"centre.name", cfg.Centre.Name, "杭州市人事考试中心"},
		{"centre.code", cfg.Centre.Code, "HZ-01"},
		{"kiosk.language", cfg.Kiosk.Language, "en"},
		{"kiosk.idle_seconds", cfg.Kiosk.IdleSeconds, 90},
		{"kiosk.staff_pin_hash opens with 20261126", cfg.Kiosk.StaffPINHash.Verify("20261126"), true},
		{"camera.device", cfg.Camera.Device, "/dev/video2"},
		{"camera.width", cfg.Camera.Width, 1280},
		{"camera.fps (default)", cfg.Camera.FPS, camera.DefaultConfig().FPS},
		{"face.models_dir", cfg.Face.ModelsDir, "/usr/share/examkiosk/models"},
		{"face.fuse_frames (default)", cfg.Face.FuseFrames, face.DefaultConfig().FuseFrames},
		{"store.path", cfg.Store.Path, "/var/lib/examkiosk/kiosk.db"},
		{"store.retention_days", cfg.Store.RetentionDays, 14},
		{"sync.central_url", cfg.Sync.CentralURL, "https://central.example.cn"},
		{"sync.request_timeout", cfg.Sync.RequestTimeout, 20 * time.Second},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.key, c.got, c.want)
		}
	}
}

func TestLoadConfigDefaults(t *testing.T) {
	cfg, err := LoadConfig(writeConfig(t, "[centre]\nname = \"示范考试中心\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	def := DefaultConfig()
	if cfg.Kiosk != def.Kiosk || cfg.Camera.Device != def.Camera.Device || cfg.Store.Path != def.Store.Path ||
		!reflect.DeepEqual(cfg.Sync, def.Sync) || cfg.Face.ModelsDir != def.Face.ModelsDir {
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
		{"syntax", "[centre\nname = \"x\"\n", "[centre", "line 1"},
		{"bad table header after a good table", "[centre]\nname = \"x\"\n\n[kiosk\nidle_seconds = 30\n", "[kiosk", "line 4"},
		{"language", "[centre]\nname = \"x\"\n[kiosk]\nlanguage = \"fr\"\n", "kiosk.language", `"zh-CN" or "en"`},
		{"idle", "[centre]\nname = \"x\"\n[kiosk]\nidle_seconds = 1\n", "kiosk.idle_seconds", "15 to 3600"},
		{"pin in the clear", "[centre]\nname = \"x\"\n[kiosk]\nstaff_pin = \"123456\"\n", "kiosk.staff_pin", "--hash-pin"},
		{"pin hash", "[centre]\nname = \"x\"\n[kiosk]\nstaff_pin_hash = \"$argon2i$v=19$m=65536,t=3,p=2$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA\"\n", "kiosk.staff_pin_hash", "argon2id"},
		{"relative store path", "[centre]\nname = \"x\"\n[store]\npath = \"kiosk.db\"\n", "store.path", "absolute path"},
		{"relative models dir", "[centre]\nname = \"x\"\n[face]\nmodels_dir = \"models\"\n", "face.models_dir", "absolute path"},
		{"camera", "[centre]\nname = \"x\"\n[camera]\ndevice = \"usb0\"\n", "camera", "camera.device"},
		{"camera size", "[centre]\nname = \"x\"\n[camera]\nwidth = 3\n", "camera", "camera.width"},
		{"central url", "[centre]\nname = \"x\"\n[sync]\ncentral_url = \"central:8700\"\n", "sync", "sync.central_url"},
		{"central urls entry", "[centre]\nname = \"x\"\n[sync]\ncentral_urls = [\"https://a.example.cn\", \"central:8700\"]\n", "sync", "sync.central_urls[1]"},
		{"central urls not a list", "[centre]\nname = \"x\"\n[sync]\ncentral_urls = \"https://a.example.cn\"\n", "sync.central_urls", "line 4: sync.central_urls: incompatible types"},
		{"central url and urls", "[centre]\nname = \"x\"\n[sync]\ncentral_url = \"https://c.example.cn\"\ncentral_urls = [\"https://a.example.cn\"]\n", "sync", "both are set"},
		{"sync duration", "[centre]\nname = \"x\"\n[sync]\nrequest_timeout = \"soon\"\n", "sync.request_timeout", "time"},
		{"store limits", "[centre]\nname = \"x\"\n[store.limits]\nmax_photo_bytes = 1\n", "store", "max_photo_bytes"},
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

// Every error of a file names the file, its key and the line that sets
// it, whichever check found it: unknown keys, the kiosk's own checks and
// those of each table (camera, sync, store…), several keys at once.
func TestLoadConfigErrorsNameTheLine(t *testing.T) {
	path := writeConfig(t, `[centre]
name = ""
colour = "red"

[kiosk]
language = "fr"

[camera]
fps = 1000

[sync]
central_url = "central:8700"
central_urls = ["https://a.example.cn", "central:8700"]
batch_max_items = 0

[store]
path = "kiosk.db"
`)
	_, err := LoadConfig(path)
	want := map[string]int{"centre.name": 2, "centre.colour": 3, "kiosk.language": 6, "camera.fps": 9,
		"sync.central_url, sync.central_urls": 12, "sync.central_urls[1]": 13, "sync.batch_max_items": 14, "store.path": 17}
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("got %v, want a joined report", err)
	}
	got := map[string]int{}
	for _, e := range j.Unwrap() {
		var ce *ConfigError
		if !errors.As(e, &ce) || ce.File != path || ce.Key == "" || ce.Line == 0 {
			t.Errorf("%v: want a *ConfigError naming file, key and line", e)
			continue
		}
		got[ce.Key] = ce.Line
	}
	for k, line := range want {
		if got[k] != line {
			t.Errorf("%s: line %d, want %d (%v)", k, got[k], line, err)
		}
	}
}

// Every bad key is reported in one run, not one per run.
func TestLoadConfigReportsAll(t *testing.T) {
	_, err := LoadConfig(writeConfig(t, "[centre]\nname = \"x\"\ncolour = 1\n[kiosk]\nlanguage = \"fr\"\nidle_seconds = 1\n"))
	for _, want := range []string{"centre.colour", "kiosk.language", "kiosk.idle_seconds"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not name %s", err, want)
		}
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
