package app

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// The staff PIN is kept only as an argon2id hash (RFC 9106) in the PHC
// string format that argon2's reference tools and most libraries read:
//
//	$argon2id$v=19$m=65536,t=3,p=2$<salt>$<hash>   (base64 without padding)
//
// `examkiosk --hash-pin` makes the line for kiosk.staff_pin_hash. A 6-12
// digit PIN has few possibilities, so the hash is slow on purpose (about
// 0.2 s and 64 MiB per try here) and never printed: --print-config and the
// diagnostic bundle show it as "[redacted]".

// argon2id parameters for new hashes: RFC 9106's second recommended option
// (64 MiB, 3 passes) with the kiosk's two cores as lanes.
const (
	pinMemoryKiB = 64 * 1024
	pinTime      = 3
	pinThreads   = 2
	pinKeyLen    = 32
	pinSaltLen   = 16
)

// PINHash is an argon2id hash of the staff PIN in PHC format. It prints as
// "[redacted]" in TOML and JSON.
type PINHash string

// pinRedacted is what --print-config shows instead of a hash.
const pinRedacted = "[redacted]"

// MarshalText hides the hash.
func (h PINHash) MarshalText() ([]byte, error) {
	if h == "" {
		return []byte(""), nil
	}
	return []byte(pinRedacted), nil
}

// UnmarshalText reads the hash from the config file.
func (h *PINHash) UnmarshalText(b []byte) error {
	*h = PINHash(strings.TrimSpace(string(b)))
	return nil
}

// HashPIN returns the argon2id hash of a 6-12 digit PIN with a fresh salt.
func HashPIN(pin string) (PINHash, error) {
	if !staffPINRE.MatchString(pin) {
		return "", errors.New("the staff PIN must be 6 to 12 digits")
	}
	salt := make([]byte, pinSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("salt: %w", err)
	}
	key := argon2.IDKey([]byte(pin), salt, pinTime, pinMemoryKiB, pinThreads, pinKeyLen)
	b64 := base64.RawStdEncoding
	return PINHash(fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, pinMemoryKiB, pinTime, pinThreads, b64.EncodeToString(salt), b64.EncodeToString(key))), nil
}

// pinParams are the parts of a PHC argon2id string.
type pinParams struct {
	memory    uint32
	time      uint32
	threads   uint8
	salt, key []byte
}

func (h PINHash) parse() (pinParams, error) {
	var p pinParams
	if h == pinRedacted {
		return p, errors.New("this is the value --print-config shows in place of the hash: put the line examkiosk --hash-pin prints here")
	}
	f := strings.Split(string(h), "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash
	if len(f) != 6 || f[0] != "" || f[1] != "argon2id" {
		return p, errors.New("expected an argon2id hash from examkiosk --hash-pin ($argon2id$v=19$m=…,t=…,p=…$salt$hash)")
	}
	var v int
	if _, err := fmt.Sscanf(f[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, fmt.Errorf("argon2 version %q: expected v=%d", f[2], argon2.Version)
	}
	if _, err := fmt.Sscanf(f[3], "m=%d,t=%d,p=%d", &p.memory, &p.time, &p.threads); err != nil {
		return p, fmt.Errorf("argon2 parameters %q: %w", f[3], err)
	}
	if p.memory < 8*1024 || p.memory > 1<<20 || p.time < 1 || p.time > 20 || p.threads < 1 {
		return p, fmt.Errorf("argon2 parameters %q out of range (m 8192-1048576 KiB, t 1-20, p ≥ 1)", f[3])
	}
	var err error
	if p.salt, err = base64.RawStdEncoding.DecodeString(f[4]); err != nil || len(p.salt) < 8 {
		return p, errors.New("argon2 salt: expected at least 8 bytes in unpadded base64")
	}
	if p.key, err = base64.RawStdEncoding.DecodeString(f[5]); err != nil || len(p.key) < 16 {
		return p, errors.New("argon2 hash: expected at least 16 bytes in unpadded base64")
	}
	return p, nil
}

// Validate checks that the hash is well formed.
func (h PINHash) Validate() error {
	_, err := h.parse()
	return err
}

// Verify reports whether pin matches the hash, in constant time.
func (h PINHash) Verify(pin string) bool {
	p, err := h.parse()
	if err != nil {
		return false
	}
	key := argon2.IDKey([]byte(pin), p.salt, p.time, p.memory, p.threads, uint32(len(p.key)))
	return subtle.ConstantTimeCompare(key, p.key) == 1
}
