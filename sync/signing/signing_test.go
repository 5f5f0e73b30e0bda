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
	keys := func(_ context.Context, id string) (DeviceKey, error) {
		switch id {
		case "dev1":
			return DeviceKey{Public: pub}, nil
		case "revoked":
			return DeviceKey{Public: pub, Revoked: true}, nil
		}
		return DeviceKey{}, ErrUnknownDevice
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
		// One answer for an unknown device and a bad signature; a revoked
		// device is told so only when its signature verifies.
		{"unknown device", newReq("nobody", priv, base, nil), body, ErrBadSignature},
		{"revoked device", newReq("revoked", priv, base, nil), body, ErrRevoked},
		{"revoked device, bad signature", newReq("revoked", otherPriv, base, nil), body, ErrBadSignature},
		{"device id changed", newReq("dev1", priv, base, func(r *http.Request) { r.Header.Set(wire.HeaderDevice, "revoked") }), body, ErrBadSignature},
		{"host changed", newReq("dev1", priv, base, func(r *http.Request) { r.Host = "evil.example" }), body, ErrBadSignature},
		{"content type changed", newReq("dev1", priv, base, func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }), body, ErrBadSignature},
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
		Keys:   func(context.Context, string) (DeviceKey, error) { return DeviceKey{Public: pub}, nil },
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
		Keys:   func(context.Context, string) (DeviceKey, error) { return DeviceKey{Public: pub}, nil },
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

// TestReplayWholeWindow replays one request while the verifier's clock
// moves through the whole window it is acceptable in: from the earliest
// moment (the kiosk's clock 4m59s ahead) to the last second. Every replay is
// refused; once the window has passed the timestamp refuses it.
func TestReplayWholeWindow(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	signedAt := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	now := signedAt.Add(-DefaultWindow + time.Second)
	clock := func() time.Time { return now }
	v := &Verifier{
		Keys:   func(context.Context, string) (DeviceKey, error) { return DeviceKey{Public: pub}, nil },
		Nonces: &MemoryNonces{Now: clock},
		Now:    clock,
	}
	body := []byte("x")
	r := httptest.NewRequest("POST", "/v1/heartbeat", bytes.NewReader(body))
	if err := Sign(r, "d", priv, body, signedAt); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(r, body); err != nil {
		t.Fatal(err)
	}
	for step := time.Duration(0); now.Sub(signedAt) <= DefaultWindow; step += 37 * time.Second {
		now = signedAt.Add(-DefaultWindow + time.Second + step)
		if now.Sub(signedAt) > DefaultWindow {
			now = signedAt.Add(DefaultWindow) // the last acceptable instant
		}
		if _, err := v.Verify(r, body); !errors.Is(err, ErrNonceReused) {
			t.Fatalf("replay at signed time %+v: error = %v, want nonce reuse", now.Sub(signedAt), err)
		}
		if now.Equal(signedAt.Add(DefaultWindow)) {
			break
		}
	}
	now = signedAt.Add(DefaultWindow + time.Second)
	if _, err := v.Verify(r, body); !errors.Is(err, ErrClockSkew) {
		t.Fatalf("replay after the window: error = %v, want clock skew", err)
	}
}

// FuzzVerifyHeaders mutates every authenticated part of a valid signed
// request: whatever the mutation, the verifier never panics and accepts
// only the request exactly as signed.
func FuzzVerifyHeaders(f *testing.F) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	body := []byte(`{"items":[]}`)
	orig := httptest.NewRequest("POST", "/v1/push?x=1", bytes.NewReader(body))
	orig.Header.Set("Content-Type", "application/json")
	if err := Sign(orig, "dev1", priv, body, now); err != nil {
		f.Fatal(err)
	}
	h := func(k string) string { return orig.Header.Get(k) }
	f.Add(h(wire.HeaderDevice), h(wire.HeaderTimestamp), h(wire.HeaderNonce), h(wire.HeaderBodyHash), h(wire.HeaderSignature),
		"POST", "example.com", "/v1/push?x=1", "application/json", body)
	f.Add("", "", "", "", "", "GET", "", "/", "", []byte{})
	f.Add("dev1", "99999999999999999999", "0123456789abcdef", "zz", "!!", "POST", "example.com", "/v1/push?x=1", "application/json", body)
	f.Fuzz(func(t *testing.T, dev, ts, nonce, bh, sig, method, host, uri, ctype string, b []byte) {
		v := &Verifier{
			Keys: func(_ context.Context, id string) (DeviceKey, error) {
				if id == "dev1" {
					return DeviceKey{Public: pub}, nil
				}
				return DeviceKey{}, ErrUnknownDevice
			},
			Nonces: &MemoryNonces{Now: func() time.Time { return now }},
			Now:    func() time.Time { return now },
		}
		r := httptest.NewRequest("POST", "/", nil)
		r.Method, r.Host, r.RequestURI = method, host, uri
		for k, val := range map[string]string{wire.HeaderDevice: dev, wire.HeaderTimestamp: ts, wire.HeaderNonce: nonce,
			wire.HeaderBodyHash: bh, wire.HeaderSignature: sig, "Content-Type": ctype} {
			r.Header[k] = []string{val}
		}
		got, err := v.Verify(r, b)
		same := dev == h(wire.HeaderDevice) && ts == h(wire.HeaderTimestamp) && nonce == h(wire.HeaderNonce) &&
			bh == h(wire.HeaderBodyHash) && sig == h(wire.HeaderSignature) && method == "POST" && host == "example.com" &&
			uri == "/v1/push?x=1" && ctype == "application/json" && bytes.Equal(b, body)
		if err == nil && (!same || got != "dev1") {
			t.Fatalf("accepted a request that differs from the signed one: dev %q ts %q nonce %q hash %q method %q host %q uri %q ctype %q body %q",
				dev, ts, nonce, bh, method, host, uri, ctype, b)
		}
		if err != nil && same {
			t.Fatalf("refused the signed request: %v", err)
		}
		var se *Error
		if err != nil && !errors.As(err, &se) {
			t.Fatalf("error %v is not a *signing.Error", err)
		}
	})
}
