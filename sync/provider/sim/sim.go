// Package sim plays the outside providers (Alipay, the electronic
// social-security card) where none exists: in the demo and in tests. A
// Provider holds its own RSA key pair and signs payment notifications and
// identity assertions exactly as the real provider would, so the central
// verifies them with the same code and a configured public key; nothing is
// trusted for merely arriving.
package sim

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"examkiosk/sync/provider"
)

// Provider is a simulated provider with its own signing key.
type Provider struct {
	// AppID is the central's application id at this provider.
	AppID string
	key   *rsa.PrivateKey
	now   func() time.Time
}

// New makes a provider with a fresh 2048-bit key.
func New(appID string) (*Provider, error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("simulated provider %s: generate key: %w", appID, err)
	}
	return &Provider{AppID: appID, key: k, now: time.Now}, nil
}

// LoadOrCreate reads the provider's private key from path (PKCS #8 PEM),
// creating it (mode 0600) when absent, so that a demo central keeps its
// simulated providers across restarts.
func LoadOrCreate(path, appID string) (*Provider, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		p, err := New(appID)
		if err != nil {
			return nil, err
		}
		der, err := x509.MarshalPKCS8PrivateKey(p.key)
		if err != nil {
			return nil, fmt.Errorf("simulated provider %s: %w", appID, err)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("simulated provider key dir: %w", err)
		}
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
			return nil, fmt.Errorf("save simulated provider key %s: %w", path, err)
		}
		return p, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read simulated provider key %s: %w", path, err)
	}
	blk, _ := pem.Decode(data)
	if blk == nil {
		return nil, fmt.Errorf("simulated provider key %s: not PEM", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("simulated provider key %s: %w", path, err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("simulated provider key %s: %T, want RSA", path, k)
	}
	return &Provider{AppID: appID, key: rk, now: time.Now}, nil
}

// PublicKey is what the central is configured with to verify this provider.
func (p *Provider) PublicKey() *rsa.PublicKey { return &p.key.PublicKey }

// PaymentNotification returns a signed trade_status_sync notification for
// the central's order.
func (p *Provider) PaymentNotification(orderID string, cents int64, status string) (url.Values, error) {
	n := provider.PaymentNotification{
		NotifyID: randHex(16), NotifyTime: p.now(), AppID: p.AppID, OutTradeNo: orderID,
		TradeNo: "sim" + p.now().Format("20060102150405") + randHex(6), TotalCents: cents, TradeStatus: status,
	}
	params := n.Params()
	if err := provider.Sign(p.key, params); err != nil {
		return nil, err
	}
	return params, nil
}

// Assertion returns a signed identity assertion (provider.MethodScan or
// provider.MethodConfirm) for a QR token. The simulator vouches for
// whatever name and ID number it is given: that is what makes it a demo.
func (p *Provider) Assertion(method, qrToken, name, idNumber string) (url.Values, error) {
	a := provider.Assertion{AppID: p.AppID, Method: method, QRToken: qrToken, Timestamp: p.now(),
		UserID: "sim-" + randHex(8), Name: name, IDNumber: idNumber}
	params := a.Params()
	if err := provider.Sign(p.key, params); err != nil {
		return nil, err
	}
	return params, nil
}

// Post sends signed parameters to the central as the provider's server
// does (a form POST) and returns the status and body of the answer.
// Alipay expects the body "success" for an accepted notification.
func Post(ctx context.Context, client *http.Client, endpoint string, params url.Values) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(params.Encode()))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("post to %s: %w", endpoint, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, string(body), err
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return fmt.Sprintf("%x", b)
}
