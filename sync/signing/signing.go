// Package signing signs kiosk requests with the device's Ed25519 key and
// verifies them on the central side.
//
// The signed message is
//
//	examkiosk-sig-v1 \n METHOD \n REQUEST-URI \n UNIX-SECONDS \n NONCE \n hex(SHA-256(body))
//
// and travels with the device id, timestamp, nonce and body hash in the
// headers named in package wire. The verifier rejects an unknown or revoked
// device, a timestamp outside the allowed window (±5 minutes by default), a
// body that does not match its hash, a bad signature and a nonce seen before
// within the window.
package signing

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"examkiosk/sync/wire"
)

// DefaultWindow is how far a request timestamp may be from the verifier's
// clock, in either direction.
const DefaultWindow = 5 * time.Minute

// Error is a verification failure. Code is one of the wire.ErrCode values.
type Error struct {
	Code string
	Msg  string
}

func (e *Error) Error() string { return "signing: " + e.Code + ": " + e.Msg }

// Is reports whether target is an *Error with the same code, so that
// errors.Is(err, ErrClockSkew) works.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Sentinel errors for errors.Is.
var (
	ErrBadSignature  = &Error{Code: wire.ErrCodeBadSignature}
	ErrUnknownDevice = &Error{Code: wire.ErrCodeUnknownDevice}
	ErrRevoked       = &Error{Code: wire.ErrCodeRevokedDevice}
	ErrClockSkew     = &Error{Code: wire.ErrCodeClockSkew}
	ErrNonceReused   = &Error{Code: wire.ErrCodeNonceReused}
)

// Message builds the byte string that is signed.
func Message(method, requestURI string, ts int64, nonce string, bodyHash string) []byte {
	return []byte("examkiosk-sig-v1\n" + method + "\n" + requestURI + "\n" +
		strconv.FormatInt(ts, 10) + "\n" + nonce + "\n" + bodyHash)
}

// BodyHash returns the lowercase hex SHA-256 of body.
func BodyHash(body []byte) string {
	h := sha256.Sum256(body)
	return hex.EncodeToString(h[:])
}

// NewNonce returns 16 random bytes in hex.
func NewNonce() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("nonce: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// Sign sets the signature headers on r for the given body (which must be the
// exact bytes sent) as of now.
func Sign(r *http.Request, deviceID string, key ed25519.PrivateKey, body []byte, now time.Time) error {
	nonce, err := NewNonce()
	if err != nil {
		return err
	}
	ts := now.Unix()
	bh := BodyHash(body)
	sig := ed25519.Sign(key, Message(r.Method, r.URL.RequestURI(), ts, nonce, bh))
	r.Header.Set(wire.HeaderDevice, deviceID)
	r.Header.Set(wire.HeaderTimestamp, strconv.FormatInt(ts, 10))
	r.Header.Set(wire.HeaderNonce, nonce)
	r.Header.Set(wire.HeaderBodyHash, bh)
	r.Header.Set(wire.HeaderSignature, base64.StdEncoding.EncodeToString(sig))
	return nil
}

// KeyLookup returns the public key of an enrolled device, ErrUnknownDevice
// or ErrRevoked.
type KeyLookup func(ctx context.Context, deviceID string) (ed25519.PublicKey, error)

// NonceStore remembers nonces until they expire. Use records the nonce and
// reports false if it was already recorded and has not expired.
type NonceStore interface {
	Use(ctx context.Context, deviceID, nonce string, expires time.Time) (fresh bool, err error)
}

// Verifier checks signed requests.
type Verifier struct {
	Keys   KeyLookup
	Nonces NonceStore
	Window time.Duration    // DefaultWindow when zero
	Now    func() time.Time // time.Now when nil
}

// Verify checks the signature headers of r against body and returns the
// device id. Errors are *Error values, except for failures of Keys or
// Nonces, which are returned wrapped.
func (v *Verifier) Verify(r *http.Request, body []byte) (string, error) {
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	window := v.Window
	if window <= 0 {
		window = DefaultWindow
	}
	dev := r.Header.Get(wire.HeaderDevice)
	tsText := r.Header.Get(wire.HeaderTimestamp)
	nonce := r.Header.Get(wire.HeaderNonce)
	bh := r.Header.Get(wire.HeaderBodyHash)
	sigText := r.Header.Get(wire.HeaderSignature)
	if dev == "" || tsText == "" || nonce == "" || bh == "" || sigText == "" {
		return "", &Error{wire.ErrCodeBadSignature, "missing signature headers"}
	}
	if len(nonce) < 16 || len(nonce) > 64 {
		return "", &Error{wire.ErrCodeBadSignature, "nonce must be 16 to 64 characters"}
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return "", &Error{wire.ErrCodeBadSignature, "timestamp is not Unix seconds"}
	}
	t := time.Unix(ts, 0)
	n := now()
	if d := n.Sub(t); d > window || d < -window {
		return "", &Error{wire.ErrCodeClockSkew, fmt.Sprintf("timestamp %s is %s away from server time %s (allowed ±%s)",
			t.UTC().Format(time.RFC3339), d.Round(time.Second), n.UTC().Format(time.RFC3339), window)}
	}
	pub, err := v.Keys(r.Context(), dev)
	if err != nil {
		var se *Error
		if errors.As(err, &se) {
			return "", err
		}
		return "", fmt.Errorf("look up device %s: %w", dev, err)
	}
	if BodyHash(body) != bh {
		return "", &Error{wire.ErrCodeBadSignature, "body does not match its hash"}
	}
	uri := r.RequestURI // as received on the request line
	if uri == "" {
		uri = r.URL.RequestURI()
	}
	sig, err := base64.StdEncoding.DecodeString(sigText)
	if err != nil || !ed25519.Verify(pub, Message(r.Method, uri, ts, nonce, bh), sig) {
		return "", &Error{wire.ErrCodeBadSignature, "signature does not verify"}
	}
	fresh, err := v.Nonces.Use(r.Context(), dev, nonce, t.Add(window))
	if err != nil {
		return "", fmt.Errorf("record nonce: %w", err)
	}
	if !fresh {
		return "", &Error{wire.ErrCodeNonceReused, "nonce was already used"}
	}
	return dev, nil
}

// MemoryNonces is an in-memory NonceStore bounded by the signing window:
// entries are dropped once they expire. Its zero value is ready to use.
type MemoryNonces struct {
	mu        sync.Mutex
	m         map[string]time.Time
	lastPrune time.Time
	Now       func() time.Time // time.Now when nil
}

// Use implements NonceStore.
func (s *MemoryNonces) Use(_ context.Context, deviceID, nonce string, expires time.Time) (bool, error) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	n := now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = make(map[string]time.Time)
	}
	if n.Sub(s.lastPrune) > time.Minute {
		for k, exp := range s.m {
			if n.After(exp) {
				delete(s.m, k)
			}
		}
		s.lastPrune = n
	}
	k := deviceID + "\x00" + nonce
	if exp, ok := s.m[k]; ok && !n.After(exp) {
		return false, nil
	}
	s.m[k] = expires
	return true, nil
}

// Len reports how many nonces are remembered.
func (s *MemoryNonces) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}
