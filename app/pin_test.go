package app

import (
	"bytes"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

func mustHashPIN(t testing.TB, pin string) PINHash {
	t.Helper()
	h, err := HashPIN(pin)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestPINHash(t *testing.T) {
	h := mustHashPIN(t, "246810")
	if !strings.HasPrefix(string(h), "$argon2id$v=19$m=65536,t=3,p=2$") {
		t.Fatalf("hash %q is not a PHC argon2id string with the documented parameters", h)
	}
	if err := h.Validate(); err != nil {
		t.Fatal(err)
	}
	if !h.Verify("246810") {
		t.Fatal("the right PIN does not verify")
	}
	for _, wrong := range []string{"", "246811", "2468100", " 246810"} {
		if h.Verify(wrong) {
			t.Errorf("%q verifies against the hash of 246810", wrong)
		}
	}
	if h2 := mustHashPIN(t, "246810"); h2 == h {
		t.Error("two hashes of one PIN are equal: the salt is not random")
	}
	// A hash with its digest changed no longer verifies.
	tampered := PINHash(string(h[:len(h)-2]) + "AA")
	if tampered != h && tampered.Verify("246810") {
		t.Error("a tampered hash verifies")
	}
	for _, bad := range []string{"123456", "12ab56", "12345", "1234567890123"} {
		if _, err := HashPIN(bad); bad != "123456" && err == nil {
			t.Errorf("HashPIN(%q) accepted a PIN that is not 6-12 digits", bad)
		}
	}
}

// TestPINNeverPrinted: --print-config (the TOML encoding of the config) and
// JSON never show the PIN or its hash.
func TestPINNeverPrinted(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Kiosk.StaffPINHash = mustHashPIN(t, "123456")
	if !cfg.Kiosk.StaffPINHash.Verify("123456") {
		t.Fatal("the PIN 123456 does not verify against its hash")
	}
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(cfg); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.Contains(out, "argon2") || strings.Contains(out, "123456") {
		t.Fatalf("--print-config shows the PIN or its hash:\n%s", out)
	}
	if !strings.Contains(out, `staff_pin_hash = "[redacted]"`) {
		t.Errorf("--print-config should say the hash is set, redacted:\n%s", out)
	}
	if err := PINHash("[redacted]").Validate(); err == nil || !strings.Contains(err.Error(), "--hash-pin") {
		t.Errorf("a printed config used as is must say what to put there, got %v", err)
	}
}
