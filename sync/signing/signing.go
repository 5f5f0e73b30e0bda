// Package signing signs kiosk requests with the device's Ed25519 key and
// verifies them on the central side, and signs the central's answers with
// the central's own Ed25519 key, which the kiosk pins at enrolment.
//
// A request's signed message (version 2) is
//
//	examkiosk-sig-v2 \n DEVICE \n METHOD \n HOST \n REQUEST-URI \n CONTENT-TYPE \n UNIX-SECONDS \n NONCE \n hex(SHA-256(body))
//
// and travels with the device id, timestamp, nonce and body hash in the
// headers named in package wire. Because the body hash is signed, the
// verifier authenticates a request from its headers alone (VerifyHeaders),
// before it reads any body, and checks the body against the hash afterwards
// (Auth.CheckBody). An unknown device and a bad signature get the same
// answer; a revoked device is told so only when its signature verifies.
//
// An answer's signed message is
//
//	examkiosk-answer-v2 \n REQUEST-NONCE \n STATUS \n UNIX-SECONDS \n hex(SHA-256(body))
//
// so that an answer belongs to exactly one request, and its time can be
// trusted for the kiosk's clock offset.
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

// Sentinel errors for errors.Is. ErrUnknownDevice is what a KeyLookup
// returns for a device it does not know; Verify never returns it (an
// unknown device is answered as ErrBadSignature).
var (
	ErrBadSignature  = &Error{Code: wire.ErrCodeBadSignature}
	ErrUnknownDevice = &Error{Code: wire.ErrCodeUnknownDevice}
	ErrRevoked       = &Error{Code: wire.ErrCodeRevokedDevice}
	ErrClockSkew     = &Error{Code: wire.ErrCodeClockSkew}
	ErrNonceReused   = &Error{Code: wire.ErrCodeNonceReused}
)

// notAuthenticated is the one answer for a missing or malformed header, an
// unknown device and a signature that does not verify.
func notAuthenticated() error {
	return &Error{wire.ErrCodeBadSignature, "请求未通过认证 / request is not authenticated (unknown device or bad signature)"}
}

// Message builds the byte string a kiosk signs.
func Message(deviceID, method, host, requestURI, contentType string, ts int64, nonce, bodyHash string) []byte {
	return []byte(wire.SignatureV2 + "\n" + deviceID + "\n" + method + "\n" + host + "\n" + requestURI + "\n" +
		contentType + "\n" + strconv.FormatInt(ts, 10) + "\n" + nonce + "\n" + bodyHash)
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

// requestHost is the host a client sends (Host header or URL host).
func requestHost(r *http.Request) string {
	if r.Host != "" {
		return r.Host
	}
	return r.URL.Host
}

// Sign sets the signature headers on r for the given body (which must be the
// exact bytes sent) as of now. Set Content-Type before signing: it is signed.
func Sign(r *http.Request, deviceID string, key ed25519.PrivateKey, body []byte, now time.Time) error {
	nonce, err := NewNonce()
	if err != nil {
		return err
	}
	ts := now.Unix()
	bh := BodyHash(body)
	sig := ed25519.Sign(key, Message(deviceID, r.Method, requestHost(r), r.URL.RequestURI(), r.Header.Get("Content-Type"), ts, nonce, bh))
	r.Header.Set(wire.HeaderDevice, deviceID)
	r.Header.Set(wire.HeaderTimestamp, strconv.FormatInt(ts, 10))
	r.Header.Set(wire.HeaderNonce, nonce)
	r.Header.Set(wire.HeaderBodyHash, bh)
	r.Header.Set(wire.HeaderSignature, base64.StdEncoding.EncodeToString(sig))
	return nil
}

// DeviceKey is what a KeyLookup knows about an enrolled device.
type DeviceKey struct {
	Public  ed25519.PublicKey
	Revoked bool
}

// KeyLookup returns the key of an enrolled device (revoked ones included)
// or ErrUnknownDevice.
type KeyLookup func(ctx context.Context, deviceID string) (DeviceKey, error)

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

// Auth is a request whose headers passed VerifyHeaders.
type Auth struct {
	Device   string
	Nonce    string
	bodyHash string
}

// CheckBody reports whether body is the one the signature covers.
func (a Auth) CheckBody(body []byte) error {
	if BodyHash(body) != a.bodyHash {
		return &Error{wire.ErrCodeBadSignature, "请求内容与签名不符 / body does not match its signed hash"}
	}
	return nil
}

// dummyKey makes the unknown-device path cost one signature verification,
// like the known-device path.
var dummyKey = ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize)).Public().(ed25519.PublicKey)

// VerifyHeaders authenticates r from its headers alone: all present, the
// timestamp within the window, the device enrolled, the signature valid, the
// device not revoked and the nonce fresh. It reads no body. Errors are
// *Error values, except for failures of Keys or Nonces, returned wrapped.
func (v *Verifier) VerifyHeaders(r *http.Request) (Auth, error) {
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
	if dev == "" || len(dev) > 128 || tsText == "" || len(nonce) < 16 || len(nonce) > 64 ||
		len(bh) != 2*sha256.Size || len(sigText) != base64.StdEncoding.EncodedLen(ed25519.SignatureSize) {
		return Auth{}, notAuthenticated()
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil || strconv.FormatInt(ts, 10) != tsText { // one spelling per time
		return Auth{}, notAuthenticated()
	}
	t := time.Unix(ts, 0)
	n := now()
	if d := n.Sub(t); d > window || d < -window {
		return Auth{}, &Error{wire.ErrCodeClockSkew, fmt.Sprintf("timestamp %s is %s away from server time %s (allowed ±%s)",
			t.UTC().Format(time.RFC3339), d.Round(time.Second), n.UTC().Format(time.RFC3339), window)}
	}
	key, err := v.Keys(r.Context(), dev)
	known := err == nil
	if err != nil && !errors.Is(err, ErrUnknownDevice) {
		return Auth{}, fmt.Errorf("look up device %s: %w", dev, err)
	}
	pub := key.Public
	if !known || len(pub) != ed25519.PublicKeySize {
		pub, known = dummyKey, false
	}
	uri := r.RequestURI // as received on the request line
	if uri == "" {
		uri = r.URL.RequestURI()
	}
	sig, err := base64.StdEncoding.DecodeString(sigText)
	ok := err == nil && ed25519.Verify(pub, Message(dev, r.Method, requestHost(r), uri, r.Header.Get("Content-Type"), ts, nonce, bh), sig)
	if !ok || !known {
		return Auth{}, notAuthenticated()
	}
	if key.Revoked {
		return Auth{}, &Error{wire.ErrCodeRevokedDevice, "本设备已被注销，请重新登记 / device " + dev + " was revoked; enrol it again"}
	}
	fresh, err := v.Nonces.Use(r.Context(), dev, nonce, t.Add(window))
	if err != nil {
		return Auth{}, fmt.Errorf("record nonce: %w", err)
	}
	if !fresh {
		return Auth{}, &Error{wire.ErrCodeNonceReused, "nonce was already used"}
	}
	return Auth{Device: dev, Nonce: nonce, bodyHash: bh}, nil
}

// Verify checks the signature headers of r against body and returns the
// device id: VerifyHeaders, then Auth.CheckBody.
func (v *Verifier) Verify(r *http.Request, body []byte) (string, error) {
	a, err := v.VerifyHeaders(r)
	if err != nil {
		return "", err
	}
	if err := a.CheckBody(body); err != nil {
		return "", err
	}
	return a.Device, nil
}

// AnswerMessage builds the byte string the central signs for an answer to
// the request that carried requestNonce.
func AnswerMessage(requestNonce string, status int, ts int64, bodyHash string) []byte {
	return []byte(wire.AnswerSignatureV2 + "\n" + requestNonce + "\n" + strconv.Itoa(status) + "\n" +
		strconv.FormatInt(ts, 10) + "\n" + bodyHash)
}

// SignAnswer sets the answer signature headers on h for an answer with the
// given status and body to the request that carried requestNonce.
func SignAnswer(h http.Header, key ed25519.PrivateKey, requestNonce string, status int, body []byte, now time.Time) {
	ts := now.Unix()
	sig := ed25519.Sign(key, AnswerMessage(requestNonce, status, ts, BodyHash(body)))
	h.Set(wire.HeaderAnswerTime, strconv.FormatInt(ts, 10))
	h.Set(wire.HeaderAnswerSignature, base64.StdEncoding.EncodeToString(sig))
}

// ErrAnswerNotSigned is returned by VerifyAnswer for an answer that is not
// signed by the pinned central key.
var ErrAnswerNotSigned = errors.New("signing: answer is not signed by the pinned central key")

// VerifyAnswer checks an answer's signature headers against the pinned
// central key and returns the central's signed time.
func VerifyAnswer(h http.Header, pub ed25519.PublicKey, requestNonce string, status int, body []byte) (time.Time, error) {
	ts, err := strconv.ParseInt(h.Get(wire.HeaderAnswerTime), 10, 64)
	if err != nil {
		return time.Time{}, ErrAnswerNotSigned
	}
	sig, err := base64.StdEncoding.DecodeString(h.Get(wire.HeaderAnswerSignature))
	if err != nil || len(pub) != ed25519.PublicKeySize || !ed25519.Verify(pub, AnswerMessage(requestNonce, status, ts, BodyHash(body)), sig) {
		return time.Time{}, ErrAnswerNotSigned
	}
	return time.Unix(ts, 0), nil
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
