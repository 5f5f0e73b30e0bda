package signing

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"examkiosk/sync/wire"
)

func TestVerify(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	_, otherPriv, _ := ed25519.GenerateKey(nil)
	base := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	keys := func(_ context.Context, id string) (ed25519.PublicKey, error) {
		switch id {
		case "dev1":
			return pub, nil
		case "revoked":
			return pub, &Error{wire.ErrCodeRevokedDevice, "revoked"}
		}
		return nil, &Error{wire.ErrCodeUnknownDevice, "unknown"}
	}
	body := []byte(`{"items":[]}`)
	newReq := func(dev string, key ed25519.PrivateKey, signedAt time.Time, mutate func(*http.Request)) *http.Request {
		r := httptest.NewRequest("POST", "/v1/push?x=1", bytes.NewReader(body))
		if err := Sign(r, dev, key, body, signedAt); err != nil {
			t.Fatal(err)
		}
		if mutate != nil {
			mutate(r)
		}
		return r
	}
	tests := []struct {
		name    string
		req     *http.Request
		body    []byte
		wantErr error
	}{
		{"valid", newReq("dev1", priv, base, nil), body, nil},
		{"valid 4m59 behind", newReq("dev1", priv, base.Add(-299*time.Second), nil), body, nil},
		{"valid 4m59 ahead", newReq("dev1", priv, base.Add(299*time.Second), nil), body, nil},
		{"skew past", newReq("dev1", priv, base.Add(-6*time.Minute), nil), body, ErrClockSkew},
		{"skew future", newReq("dev1", priv, base.Add(6*time.Minute), nil), body, ErrClockSkew},
		{"other key", newReq("dev1", otherPriv, base, nil), body, ErrBadSignature},
		{"unknown device", newReq("nobody", priv, base, nil), body, ErrUnknownDevice},
		{"revoked device", newReq("revoked", priv, base, nil), body, ErrRevoked},
		{"body changed", newReq("dev1", priv, base, nil), []byte(`{"items":[1]}`), ErrBadSignature},
		{"body and hash changed", newReq("dev1", priv, base, func(r *http.Request) {
			r.Header.Set(wire.HeaderBodyHash, BodyHash([]byte(`{}`)))
		}), []byte(`{}`), ErrBadSignature},
		{"path changed", newReq("dev1", priv, base, func(r *http.Request) { r.RequestURI = "/v1/push?x=2" }), body, ErrBadSignature},
		{"query changed", newReq("dev1", priv, base, func(r *http.Request) { r.RequestURI, r.URL.RawQuery = "", "x=2" }), body, ErrBadSignature},
		{"method changed", newReq("dev1", priv, base, func(r *http.Request) { r.Method = "PUT" }), body, ErrBadSignature},
		{"timestamp changed", newReq("dev1", priv, base, func(r *http.Request) {
			r.Header.Set(wire.HeaderTimestamp, "1772355601")
		}), body, ErrBadSignature},
		{"missing signature", newReq("dev1", priv, base, func(r *http.Request) { r.Header.Del(wire.HeaderSignature) }), body, ErrBadSignature},
		{"garbage signature", newReq("dev1", priv, base, func(r *http.Request) { r.Header.Set(wire.HeaderSignature, "!!") }), body, ErrBadSignature},
		{"short nonce", newReq("dev1", priv, base, func(r *http.Request) { r.Header.Set(wire.HeaderNonce, "abc") }), body, ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := &Verifier{Keys: keys, Nonces: &MemoryNonces{Now: func() time.Time { return base }}, Now: func() time.Time { return base }}
			dev, err := v.Verify(tt.req, tt.body)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("Verify error = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr == nil && dev != "dev1" {
				t.Fatalf("device = %q", dev)
			}
		})
	}
}

func TestNonceReuse(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	v := &Verifier{
		Keys:   func(context.Context, string) (ed25519.PublicKey, error) { return pub, nil },
		Nonces: &MemoryNonces{Now: clock},
		Now:    clock,
	}
	body := []byte("x")
	r := httptest.NewRequest("POST", "/v1/heartbeat", bytes.NewReader(body))
	if err := Sign(r, "d", priv, body, now); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(r, body); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(r, body); !errors.Is(err, ErrNonceReused) {
		t.Fatalf("replay: error = %v, want nonce reuse", err)
	}
	// Once the window has passed, the replay fails on the timestamp instead;
	// the nonce is forgotten, which keeps the store bounded.
	now = now.Add(DefaultWindow + 2*time.Minute)
	if _, err := v.Verify(r, body); !errors.Is(err, ErrClockSkew) {
		t.Fatalf("late replay: error = %v, want clock skew", err)
	}
	r2 := httptest.NewRequest("POST", "/v1/heartbeat", bytes.NewReader(body))
	_ = Sign(r2, "d", priv, body, now)
	if _, err := v.Verify(r2, body); err != nil {
		t.Fatal(err)
	}
	if n := v.Nonces.(*MemoryNonces).Len(); n != 1 {
		t.Fatalf("nonce store holds %d entries after prune, want 1", n)
	}
}

func BenchmarkVerify(b *testing.B) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	v := &Verifier{
		Keys:   func(context.Context, string) (ed25519.PublicKey, error) { return pub, nil },
		Nonces: &MemoryNonces{},
	}
	body := bytes.Repeat([]byte("a"), 1<<20)
	for b.Loop() {
		r := httptest.NewRequest("POST", "/v1/push", nil)
		_ = Sign(r, "d", priv, body, time.Now())
		if _, err := v.Verify(r, body); err != nil {
			b.Fatal(err)
		}
	}
}
