package signing

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"examkiosk/sync/wire"
)

// TestAnswerSignature: an answer signed by the central verifies with its
// key for exactly the request nonce, status and body it was signed for.
func TestAnswerSignature(t *testing.T) {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	otherPub, _, _ := ed25519.GenerateKey(nil)
	now := time.Unix(1_790_000_000, 700_000_000)
	body := []byte(`{"results":[]}`)
	h := http.Header{}
	SignAnswer(h, priv, "nonce-1", 200, body, now)
	if h.Get(wire.HeaderAnswerTime) != "1790000000" {
		t.Fatalf("answer time header %q", h.Get(wire.HeaderAnswerTime))
	}
	at, err := VerifyAnswer(h, pub, "nonce-1", 200, body)
	if err != nil || !at.Equal(time.Unix(1_790_000_000, 0)) {
		t.Fatalf("VerifyAnswer = %v, %v", at, err)
	}
	want := wire.AnswerSignatureV2 + "\nnonce-1\n200\n1790000000\n" + BodyHash(body)
	if got := string(AnswerMessage("nonce-1", 200, 1_790_000_000, BodyHash(body))); got != want {
		t.Errorf("AnswerMessage = %q, want %q", got, want)
	}
	for name, f := range map[string]func() (time.Time, error){
		"other nonce":  func() (time.Time, error) { return VerifyAnswer(h, pub, "nonce-2", 200, body) },
		"other status": func() (time.Time, error) { return VerifyAnswer(h, pub, "nonce-1", 409, body) },
		"other body":   func() (time.Time, error) { return VerifyAnswer(h, pub, "nonce-1", 200, []byte(`{}`)) },
		"other key":    func() (time.Time, error) { return VerifyAnswer(h, otherPub, "nonce-1", 200, body) },
		"no key":       func() (time.Time, error) { return VerifyAnswer(h, nil, "nonce-1", 200, body) },
		"short key":    func() (time.Time, error) { return VerifyAnswer(h, pub[:31], "nonce-1", 200, body) },
		"other time": func() (time.Time, error) {
			h2 := h.Clone()
			h2.Set(wire.HeaderAnswerTime, strconv.Itoa(1_790_000_001))
			return VerifyAnswer(h2, pub, "nonce-1", 200, body)
		},
		"no time": func() (time.Time, error) {
			h2 := h.Clone()
			h2.Del(wire.HeaderAnswerTime)
			return VerifyAnswer(h2, pub, "nonce-1", 200, body)
		},
		"signature not base64": func() (time.Time, error) {
			h2 := h.Clone()
			h2.Set(wire.HeaderAnswerSignature, "!"+h.Get(wire.HeaderAnswerSignature))
			return VerifyAnswer(h2, pub, "nonce-1", 200, body)
		},
		"unsigned": func() (time.Time, error) { return VerifyAnswer(http.Header{}, pub, "nonce-1", 200, body) },
	} {
		at, err := f()
		if !errors.Is(err, ErrAnswerNotSigned) || !at.IsZero() {
			t.Errorf("%s: %v, %v; want ErrAnswerNotSigned and no time", name, at, err)
		}
	}
	if _, err := base64.StdEncoding.DecodeString(h.Get(wire.HeaderAnswerSignature)); err != nil {
		t.Errorf("signature header is not base64: %v", err)
	}
}
