package central_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"examkiosk/sync/central"
	"examkiosk/sync/testbed"
)

// TestConfigDocumentedDefaults: a key left out of config.toml takes the
// default README.md (section Central server) gives the operator: an
// operator who relies on "late_delivery_grace (48h)" must get 48 hours,
// not none. The defaults validate as they are.
func TestConfigDocumentedDefaults(t *testing.T) {
	c := central.DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatalf("the defaults do not validate: %v", err)
	}
	for _, d := range []struct {
		key       string
		got, want any
	}{
		{"clock_skew", c.ClockSkew, 5 * time.Minute},
		{"max_batch_items", c.MaxBatchItems, 500},
		{"max_body_bytes", c.MaxBodyBytes, int64(32 << 20)},
		{"max_request_bytes", c.MaxRequestBytes, int64(64 << 10)},
		{"max_concurrent", c.MaxConcurrent, 128},
		{"max_concurrent_per_device", c.MaxConcurrentPerDevice, 8},
		{"read_header_timeout", c.ReadHeaderTimeout, 10 * time.Second},
		{"read_timeout", c.ReadTimeout, 5 * time.Minute},
		{"write_timeout", c.WriteTimeout, 6 * time.Minute},
		{"idle_timeout", c.IdleTimeout, 2 * time.Minute},
		{"body_grace", c.BodyGrace, 15 * time.Second},
		{"body_min_rate", c.BodyMinRate, int64(16384)},
		{"late_delivery_grace", c.LateDeliveryGrace, 48 * time.Hour},
		{"enrol_attempts", c.EnrolAttempts, 10},
		{"enrol_window", c.EnrolWindow, 10 * time.Minute},
		{"duplicate_target_far", c.DuplicateTargetFAR, 0.001},
		{"qr_ttl", c.QRTTL, 120 * time.Second},
		{"payment_window", c.PaymentWindow, 72 * time.Hour},
		{"enrolment_code_ttl", c.EnrolmentCodeTTL, 24 * time.Hour},
		{"session_ttl", c.SessionTTL, 8 * time.Hour},
	} {
		if d.got != d.want {
			t.Errorf("central.%s defaults to %v, README.md says %v", d.key, d.got, d.want)
		}
	}
}

// TestConfigPublicURL: public_url is the base of the links phones open
// (QR login, payment): an https:// domain, as a real deployment uses, and
// http:// are accepted; another scheme, or a URL without a host, is refused
// with the key named.
func TestConfigPublicURL(t *testing.T) {
	for _, tt := range []struct {
		url string
		ok  bool
	}{
		{"https://exam.example.gov.cn", true},
		{"http://127.0.0.1:8700", true},
		{"https://exam.example.gov.cn/central/", true},
		{"ftp://exam.example.gov.cn", false},
		{"exam.example.gov.cn", false},
		{"https://", false},
		{"", false},
		{"https://exam example", false},
	} {
		c := central.DefaultConfig()
		c.PublicURL = tt.url
		err := c.Validate()
		if tt.ok && err != nil {
			t.Errorf("%q refused: %v", tt.url, err)
		}
		if !tt.ok && (err == nil || !strings.Contains(err.Error(), "central.public_url")) {
			t.Errorf("%q: %v, want a refusal naming central.public_url", tt.url, err)
		}
	}
}

// TestConfigKeyDir: the keys are made in <data_dir>/keys unless key_dir
// names another directory (kept apart from central.db, as README.md
// advises); with key_dir set, nothing is written under data_dir/keys.
func TestConfigKeyDir(t *testing.T) {
	for _, own := range []bool{false, true} {
		cfg := central.DefaultConfig()
		cfg.DataDir = t.TempDir()
		want := filepath.Join(cfg.DataDir, "keys")
		if own {
			cfg.KeyDir = filepath.Join(t.TempDir(), "central-keys")
			want = cfg.KeyDir
		}
		s, err := central.Open(cfg, central.WithLogger(testbed.Quiet()))
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		for _, f := range []string{"data.key", "seal.key", "answer.key"} {
			if _, err := os.Stat(filepath.Join(want, f)); err != nil {
				t.Errorf("key_dir %q: %s not in %s: %v", cfg.KeyDir, f, want, err)
			}
		}
		if _, err := os.Stat(filepath.Join(cfg.DataDir, "keys")); own && err == nil {
			t.Errorf("key_dir %q set, yet keys were made under data_dir", cfg.KeyDir)
		}
	}
}

// TestNewHTTPServerSettings: `central serve` listens with the configured
// address and timeouts (slow clients are cut by them) and a 64 KiB limit
// on request headers.
func TestNewHTTPServerSettings(t *testing.T) {
	c := central.DefaultConfig()
	c.Addr, c.ReadHeaderTimeout, c.ReadTimeout, c.WriteTimeout, c.IdleTimeout = "127.0.0.1:9999", 3*time.Second, 7*time.Second, 11*time.Second, 13*time.Second
	s := c.NewHTTPServer(nil)
	if s.Addr != c.Addr || s.ReadHeaderTimeout != 3*time.Second || s.ReadTimeout != 7*time.Second || s.WriteTimeout != 11*time.Second ||
		s.IdleTimeout != 13*time.Second || s.MaxHeaderBytes != 64<<10 {
		t.Fatalf("http.Server %q: timeouts %s %s %s %s, max header bytes %d", s.Addr, s.ReadHeaderTimeout, s.ReadTimeout, s.WriteTimeout, s.IdleTimeout, s.MaxHeaderBytes)
	}
}
