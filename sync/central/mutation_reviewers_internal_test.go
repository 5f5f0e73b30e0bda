package central

import (
	"strings"
	"testing"
)

// Staff passwords are hashed with argon2id at OWASP's minimum (19 MiB,
// two passes, one lane); the stored hash says so, and a hash that says
// otherwise still verifies by its own parameters.
func TestStaffHashParameters(t *testing.T) {
	h := hashPassword("correct horse 2026")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q: want argon2id v=19 m=19456 t=2 p=1", h)
	}
	if h2 := hashPassword("correct horse 2026"); h2 == h {
		t.Error("two hashes of one password are equal: no salt")
	}
}
