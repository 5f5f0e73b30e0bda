// Package provider is the central's boundary to the outside providers:
// Alipay (payment and QR login) and the electronic social-security card (QR
// login). It holds Alipay's RSA2 signature scheme, which every provider
// message uses here: the content a provider signs (parameters sorted by name, "sign"
// and "sign_type" and empty values left out, joined as k=v&k=v), SHA256withRSA
// (PKCS #1 v1.5) over it, and the public-key formats Alipay hands out. The
// same scheme covers the asynchronous payment notification and the identity
// assertions of the QR-login providers (see sync/PROTOCOL.md). Go has no
// maintained Alipay SDK; crypto/rsa does the cryptography.
package provider

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// SignType is the only sign_type accepted.
const SignType = "RSA2"

// Content returns the string a provider signs: every parameter except sign
// and sign_type with a non-empty value, sorted by name, as name=value joined
// by "&", values as they are (not URL-encoded). A parameter given twice is
// refused by Verify; Content uses its first value.
func Content(params url.Values) string {
	keys := make([]string, 0, len(params))
	for k, v := range params {
		if k == "sign" || k == "sign_type" || len(v) == 0 || v[0] == "" {
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(params.Get(k))
	}
	return b.String()
}

// Sign adds sign_type=RSA2 and the signature of Content(params) to params.
func Sign(key *rsa.PrivateKey, params url.Values) error {
	sum := sha256.Sum256([]byte(Content(params)))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, sum[:])
	if err != nil {
		return fmt.Errorf("provider: sign: %w", err)
	}
	params.Set("sign_type", SignType)
	params.Set("sign", base64.StdEncoding.EncodeToString(sig))
	return nil
}

// ErrSignature is returned (wrapped) for any parameter set whose signature
// does not verify: missing, malformed, wrong type or wrong key.
var ErrSignature = errors.New("provider: signature does not verify")

// Verify checks that params carry a valid RSA2 signature by pub. Every
// parameter must occur once (a repeated one could mean different things to
// the signer and to the reader).
func Verify(pub *rsa.PublicKey, params url.Values) error {
	if pub == nil {
		return fmt.Errorf("%w: no provider key configured", ErrSignature)
	}
	for k, v := range params {
		if len(v) != 1 {
			return fmt.Errorf("%w: parameter %q given %d times", ErrSignature, k, len(v))
		}
	}
	if params.Get("sign_type") != SignType {
		return fmt.Errorf("%w: sign_type %q, want %s", ErrSignature, params.Get("sign_type"), SignType)
	}
	sig, err := base64.StdEncoding.DecodeString(params.Get("sign"))
	if err != nil || len(sig) == 0 {
		return fmt.Errorf("%w: sign is missing or not base64", ErrSignature)
	}
	sum := sha256.Sum256([]byte(Content(params)))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
		return fmt.Errorf("%w: %v", ErrSignature, err)
	}
	return nil
}

// ParsePublicKey reads an RSA public key as Alipay's open platform shows it
// (base64 of the DER SubjectPublicKeyInfo, one line) or as PEM ("PUBLIC
// KEY" or "RSA PUBLIC KEY"). Keys under 2048 bits are refused.
func ParsePublicKey(data []byte) (*rsa.PublicKey, error) {
	der := data
	if blk, _ := pem.Decode(data); blk != nil {
		der = blk.Bytes
	} else {
		d, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(data)), ""))
		if err != nil {
			return nil, fmt.Errorf("provider: public key is neither PEM nor base64 DER: %w", err)
		}
		der = d
	}
	var pub *rsa.PublicKey
	if k, err := x509.ParsePKIXPublicKey(der); err == nil {
		rk, ok := k.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("provider: public key is %T, want RSA", k)
		}
		pub = rk
	} else if rk, err2 := x509.ParsePKCS1PublicKey(der); err2 == nil {
		pub = rk
	} else {
		return nil, fmt.Errorf("provider: parse public key: %w", err)
	}
	if pub.N.BitLen() < 2048 {
		return nil, fmt.Errorf("provider: RSA key of %d bits, want at least 2048", pub.N.BitLen())
	}
	return pub, nil
}

// MarshalPublicKey returns pub as PEM ("PUBLIC KEY").
func MarshalPublicKey(pub *rsa.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("provider: marshal public key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}
