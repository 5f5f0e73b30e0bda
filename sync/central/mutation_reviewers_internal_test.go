package central

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
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

// A stored staff hash verifies by its own parameters up to the limits
// (10 passes, 1 GiB); past them it is refused before any work is done, so
// a corrupt or planted record cannot make each login take minutes or the
// central's memory.
func TestStaffHashParameterLimits(t *testing.T) {
	salt := []byte("saltsaltsaltsalt")
	phc := func(m uint32, tm uint32) string {
		key := argon2.IDKey([]byte("correct horse 2026"), salt, tm, m, 1, 32)
		return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=1$%s$%s", argon2.Version, m, tm,
			base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
	}
	if h := phc(8, 10); !checkPassword(h, "correct horse 2026") {
		t.Errorf("10 passes refused: %s", h)
	}
	// The key of t=11 is not computed: the wrong key shows only that the
	// parameters are refused before it would be compared.
	if h := strings.Replace(phc(8, 10), "t=10", "t=11", 1); checkPassword(h, "correct horse 2026") {
		t.Errorf("11 passes taken: %s", h)
	}
	if h := strings.Replace(phc(8, 1), "m=8", fmt.Sprintf("m=%d", 1<<20+1), 1); checkPassword(h, "correct horse 2026") {
		t.Errorf("1 GiB + 1 KiB taken: %s", h)
	}
	if testing.Short() {
		t.Skip("a hash of exactly 1 GiB takes 1 GiB and seconds to check; not in -short")
	}
	// argon2id of "correct horse 2026" with this salt, m=1048576, t=1, p=1
	// (made once with golang.org/x/crypto/argon2, so the test pays for one
	// 1 GiB key, not two).
	const gib = "$argon2id$v=19$m=1048576,t=1,p=1$c2FsdHNhbHRzYWx0c2FsdA$TS2EAnPkbWuJlN7TaF3k+loIAh0I0DOv78T/ZLqXgGY"
	if !checkPassword(gib, "correct horse 2026") {
		t.Errorf("1 GiB refused: %s", gib)
	}
}
