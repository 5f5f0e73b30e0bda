package signing

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"examkiosk/sync/wire"
)

// signedWith is Sign with a chosen nonce (Sign draws a 32-digit nonce; the
// protocol accepts 16 to 64 characters): the request Sign made, its nonce
// replaced and signed again.
func signedWith(t *testing.T, dev, nonce string, key ed25519.PrivateKey, body []byte, at time.Time) *http.Request {
	t.Helper()
	r := httptest.NewRequest("POST", "/v1/push", bytes.NewReader(body))
	if err := Sign(r, dev, key, body, at); err != nil {
		t.Fatal(err)
	}
	r.Header.Set(wire.HeaderNonce, nonce)
	msg := Message(dev, r.Method, requestHost(r), r.URL.RequestURI(), "", at.Unix(), nonce, r.Header.Get(wire.HeaderBodyHash))
	r.Header.Set(wire.HeaderSignature, base64.StdEncoding.EncodeToString(ed25519.Sign(key, msg)))
	return r
}

// TestHeaderLimits: the length limits of the device id and the nonce are
// inclusive (a device id of 128 characters, nonces of 16 and 64 are
// accepted; one more or one less is refused), and a timestamp exactly one
// window behind or ahead of the server is accepted, one second more is not.
func TestHeaderLimits(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	body := []byte(`{"items":[]}`)
	nonce := strings.Repeat("a", 32)
	cases := []struct {
		name, dev, nonce string
		at               time.Time
		want             error // nil: accepted
	}{
		{"device id 128", strings.Repeat("d", 128), nonce, now, nil},
		{"device id 129", strings.Repeat("d", 129), nonce, now, ErrBadSignature},
		{"nonce 16", "dev1", strings.Repeat("n", 16), now, nil},
		{"nonce 15", "dev1", strings.Repeat("n", 15), now, ErrBadSignature},
		{"nonce 64", "dev1", strings.Repeat("n", 64), now, nil},
		{"nonce 65", "dev1", strings.Repeat("n", 65), now, ErrBadSignature},
		{"one window behind", "dev1", nonce, now.Add(-DefaultWindow), nil},
		{"one window ahead", "dev1", nonce, now.Add(DefaultWindow), nil},
		{"window and a second behind", "dev1", nonce, now.Add(-DefaultWindow - time.Second), ErrClockSkew},
		{"window and a second ahead", "dev1", nonce, now.Add(DefaultWindow + time.Second), ErrClockSkew},
	}
	for _, c := range cases {
		v := &Verifier{
			Keys:   func(context.Context, string) (DeviceKey, error) { return DeviceKey{Public: pub}, nil },
			Nonces: &MemoryNonces{Now: func() time.Time { return now }},
			Now:    func() time.Time { return now },
		}
		dev, err := v.Verify(signedWith(t, c.dev, c.nonce, priv, body, c.at), body)
		switch {
		case c.want == nil && (err != nil || dev != c.dev):
			t.Errorf("%s: device %q, %v; want accepted", c.name, dev, err)
		case c.want != nil && !errors.Is(err, c.want):
			t.Errorf("%s: %v; want %v", c.name, err, c.want)
		}
	}
}
