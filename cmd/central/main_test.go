package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"examkiosk/idnumber"
	"examkiosk/sync/central"
	"examkiosk/sync/central/store/storetest"
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

func TestProviderTables(t *testing.T) {
	file := filepath.Join(t.TempDir(), "central.toml")
	os.WriteFile(file, []byte(`[central]
allowed_hosts = ["exam-internal.example.gov.cn"]

[central.alipay]
app_id = "2021000000000001"
public_key_file = "/etc/examkiosk/alipay_public.pem"

[central.social_security]
app_id = "ss-0001"
public_key_file = "/etc/examkiosk/ss_public.pem"
`), 0o600)
	cfg, err := loadConfig(flag.NewFlagSet("serve", flag.ContinueOnError), []string{"--config", file})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Alipay.AppID != "2021000000000001" || cfg.SocialSecurity.PublicKeyFile != "/etc/examkiosk/ss_public.pem" || len(cfg.AllowedHosts) != 1 {
		t.Fatalf("provider tables: %+v %+v %v", cfg.Alipay, cfg.SocialSecurity, cfg.AllowedHosts)
	}
}

func TestReadPassword(t *testing.T) {
	if pw, err := readPassword(strings.NewReader("correct horse 2026\r\nrest")); err != nil || pw != "correct horse 2026" {
		t.Fatalf("readPassword = %q, %v", pw, err)
	}
	if _, err := readPassword(strings.NewReader("")); err == nil {
		t.Fatal("an empty password was read")
	}
}

func TestMain(m *testing.M) { storetest.Main(m) }

// central migrate brings a new PostgreSQL database to the schema, once;
// serve and the offline commands then use it through --db.
func TestMigratePostgres(t *testing.T) {
	dir, dsn := t.TempDir(), storetest.FreshDatabase(t)
	args := []string{"--data", dir, "--db", dsn}
	for i, want := range []int{1, 0} {
		fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
		cfg, err := loadConfig(fs, args)
		if err != nil {
			t.Fatal(err)
		}
		applied, err := central.Migrate(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if (len(applied) > 0) != (want > 0) {
			t.Fatalf("run %d applied %v", i+1, applied)
		}
	}
	if err := migrate(args); err != nil {
		t.Fatal(err)
	}
	if err := offline("centre", append(args, "--id", "c9", "--name", "第九考点")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "central.db")); !os.IsNotExist(err) {
		t.Fatalf("--db still made central.db in the data directory (%v)", err)
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg, _ := loadConfig(fs, args)
	s, err := central.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	code, _, err := s.NewEnrolmentCode("c9")
	if err != nil || code == "" {
		t.Fatalf("the centre made by the offline command is not in the database: %v", err)
	}
	if _, err := loadConfig(flag.NewFlagSet("serve", flag.ContinueOnError), []string{"--db", "mysql://x"}); err == nil || !strings.Contains(err.Error(), "central.database") {
		t.Fatalf("a non-PostgreSQL --db: %v", err)
	}
}

// central generate fills a store with valid registrations under review and
// others, counted by the registration index.
func TestGenerate(t *testing.T) {
	dir := t.TempDir()
	if err := generate([]string{"--data", dir, "-n", "250"}); err != nil {
		t.Fatal(err)
	}
	cfg := central.DefaultConfig()
	cfg.DataDir = dir
	s, err := central.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	all, err := s.Registrations("")
	if err != nil || len(all) != 250 {
		t.Fatalf("%d registrations (%v), want 250", len(all), err)
	}
	if n, _ := s.RegistrationCount(central.StatusUnderReview); n != 100 {
		t.Fatalf("%d under review, want 100 (40 %%)", n)
	}
	seen := map[string]bool{}
	for _, r := range all {
		if seen[r.IDNumber] {
			t.Fatalf("ID number %s twice", r.IDNumber)
		}
		if _, err := idnumber.Parse(r.IDNumber, time.Now()); err != nil {
			t.Fatalf("generated %s: %v", r.IDNumber, err)
		}
		seen[r.IDNumber] = true
	}
}
