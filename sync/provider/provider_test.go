package provider_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"net/url"
	"testing"
	"time"

	"examkiosk/sync/provider"
)

func TestContent(t *testing.T) {
	p := url.Values{"b": {"2"}, "a": {"1 +&"}, "sign": {"x"}, "sign_type": {"RSA2"}, "empty": {""}, "c": {"中文"}}
	if got, want := provider.Content(p), "a=1 +&&b=2&c=中文"; got != want {
		t.Fatalf("Content = %q, want %q", got, want)
	}
}

func TestParseYuan(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"100.00", 10000, true}, {"0.01", 1, true}, {"12.5", 1250, true}, {"7", 700, true},
		{"", 0, false}, {"-1.00", 0, false}, {"1.001", 0, false}, {"+1", 0, false}, {"1e3", 0, false}, {".5", 0, false},
	} {
		got, err := provider.ParseYuan(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseYuan(%q) = %d, %v", tt.in, got, err)
		}
	}
	if provider.FormatYuan(10000) != "100.00" || provider.FormatYuan(5) != "0.05" {
		t.Fatal("FormatYuan")
	}
}

func TestSignVerify(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	n := provider.PaymentNotification{NotifyID: "n", NotifyTime: time.Now(), AppID: "app", OutTradeNo: "ord-1",
		TradeNo: "t", TotalCents: 10000, TradeStatus: provider.TradeSuccess}
	p := n.Params()
	if err := provider.Sign(key, p); err != nil {
		t.Fatal(err)
	}
	if err := provider.Verify(&key.PublicKey, p); err != nil {
		t.Fatalf("genuine: %v", err)
	}
	got, err := provider.ParsePaymentNotification(p)
	if err != nil || got.TotalCents != 10000 || got.OutTradeNo != "ord-1" {
		t.Fatalf("parse: %+v %v", got, err)
	}
	cases := map[string]func(url.Values){
		"amount changed": func(v url.Values) { v.Set("total_amount", "0.01") },
		"added param":    func(v url.Values) { v.Set("buyer_id", "x") },
		"no sign":        func(v url.Values) { v.Del("sign") },
		"RSA sign type":  func(v url.Values) { v.Set("sign_type", "RSA") },
		"repeated param": func(v url.Values) { v.Add("out_trade_no", "ord-2") },
	}
	for name, mutate := range cases {
		v := url.Values{}
		for k, vs := range p {
			v[k] = append([]string(nil), vs...)
		}
		mutate(v)
		if err := provider.Verify(&key.PublicKey, v); !errors.Is(err, provider.ErrSignature) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := provider.Verify(&other.PublicKey, p); !errors.Is(err, provider.ErrSignature) {
		t.Errorf("another key: %v", err)
	}
	// Alipay's one-line base64 and PEM both parse; a short key does not.
	der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	pemKey, _ := provider.MarshalPublicKey(&key.PublicKey)
	for _, in := range [][]byte{[]byte(base64.StdEncoding.EncodeToString(der)), pemKey} {
		if pub, err := provider.ParsePublicKey(in); err != nil || !pub.Equal(&key.PublicKey) {
			t.Errorf("ParsePublicKey: %v", err)
		}
	}
	short, _ := rsa.GenerateKey(rand.Reader, 1024)
	sder, _ := x509.MarshalPKIXPublicKey(&short.PublicKey)
	if _, err := provider.ParsePublicKey([]byte(base64.StdEncoding.EncodeToString(sder))); err == nil {
		t.Error("a 1024-bit key was accepted")
	}
}
