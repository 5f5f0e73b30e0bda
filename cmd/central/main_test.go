package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "central.toml")
	os.WriteFile(file, []byte(`[central]
data_dir = "/var/lib/examkiosk-central"
public_url = "https://exam.example.gov.cn"
qr_ttl = "90s"
max_batch_items = 200
`), 0o600)
	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(bad, []byte("[central]\nqr_ttl = \"2h\"\n"), 0o600)
	tests := []struct {
		name    string
		args    []string
		check   func(t *testing.T, addr, data, pub string, ttl time.Duration, batch int, demo bool)
		wantErr string
	}{
		{"defaults", nil, func(t *testing.T, addr, data, pub string, ttl time.Duration, batch int, demo bool) {
			if addr != "127.0.0.1:8700" || pub != "http://127.0.0.1:8700" || ttl != 120*time.Second || demo {
				t.Errorf("got %s %s %s %v", addr, pub, ttl, demo)
			}
		}, ""},
		{"addr sets public url", []string{"--addr", "127.0.0.1:9000", "--data", dir, "--demo"}, func(t *testing.T, addr, data, pub string, ttl time.Duration, batch int, demo bool) {
			if addr != "127.0.0.1:9000" || pub != "http://127.0.0.1:9000" || data != dir || !demo {
				t.Errorf("got %s %s %s %v", addr, pub, data, demo)
			}
		}, ""},
		{"file then flags", []string{"--config", file, "--data", dir}, func(t *testing.T, addr, data, pub string, ttl time.Duration, batch int, demo bool) {
			if pub != "https://exam.example.gov.cn" || ttl != 90*time.Second || batch != 200 || data != dir {
				t.Errorf("got %s %s %d %s", pub, ttl, batch, data)
			}
		}, ""},
		{"invalid file value", []string{"--config", bad}, nil, "central.qr_ttl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("serve", flag.ContinueOnError)
			cfg, err := loadConfig(fs, tt.args)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, cfg.Addr, cfg.DataDir, cfg.PublicURL, cfg.QRTTL, cfg.MaxBatchItems, cfg.Demo)
		})
	}
}

// The offline key commands: keys prints the answer key, and
// rotate-data-key leaves a store that opens with the new key.
func TestKeyCommands(t *testing.T) {
	dir := t.TempDir()
	if err := offline("seed", []string{"--data", dir}); err != nil {
		t.Fatal(err)
	}
	if err := offline("keys", []string{"--data", dir}); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(dir, "keys", "data.key"))
	if err := rotate([]string{"--data", dir}); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "keys", "data.key"))
	if len(after) == 0 || string(before) == string(after) {
		t.Fatal("data.key was not replaced")
	}
	if err := offline("seed", []string{"--data", dir}); err != nil {
		t.Fatalf("store after rotation: %v", err)
	}
}
