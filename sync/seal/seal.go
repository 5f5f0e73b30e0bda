// Package seal encrypts registration documents end to end from a kiosk to
// the central registration system.
//
// A document is sealed to the central's long-term X25519 public key with an
// anonymous NaCl box (libsodium crypto_box_seal: an ephemeral X25519 key,
// XSalsa20-Poly1305). The kiosk keeps no key that can open what it sealed, so
// a stolen kiosk cannot read what it delivered, and any libsodium binding on
// the central side can open the documents.
package seal

import (
	"crypto/rand"
	"errors"
	"fmt"

	"golang.org/x/crypto/nacl/box"
)

// KeySize is the size of X25519 public and private keys.
const KeySize = 32

// Overhead is how many bytes sealing adds to a document.
const Overhead = box.AnonymousOverhead

// ErrOpen is returned when a sealed document cannot be opened: wrong key or
// tampered data.
var ErrOpen = errors.New("seal: cannot open sealed document")

// KeyPair is the central's X25519 sealing key pair.
type KeyPair struct {
	Public  [KeySize]byte
	Private [KeySize]byte
}

// GenerateKey makes a new sealing key pair.
func GenerateKey() (KeyPair, error) {
	pub, priv, err := box.GenerateKey(rand.Reader)
	if err != nil {
		return KeyPair{}, fmt.Errorf("generate sealing key: %w", err)
	}
	return KeyPair{Public: *pub, Private: *priv}, nil
}

// PublicKey converts a received public key to its fixed-size form.
func PublicKey(b []byte) (*[KeySize]byte, error) {
	if len(b) != KeySize {
		return nil, fmt.Errorf("seal: public key is %d bytes, want %d", len(b), KeySize)
	}
	var k [KeySize]byte
	copy(k[:], b)
	return &k, nil
}

// Seal encrypts doc to the recipient's public key.
func Seal(doc []byte, recipient *[KeySize]byte) ([]byte, error) {
	out, err := box.SealAnonymous(make([]byte, 0, len(doc)+Overhead), doc, recipient, rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("seal document: %w", err)
	}
	return out, nil
}

// Open decrypts a document sealed to kp.Public.
func (kp *KeyPair) Open(sealed []byte) ([]byte, error) {
	if len(sealed) < Overhead {
		return nil, ErrOpen
	}
	return kp.OpenAppend(make([]byte, 0, len(sealed)-Overhead), sealed)
}

// OpenAppend decrypts a document sealed to kp.Public and appends it to out.
func (kp *KeyPair) OpenAppend(out, sealed []byte) ([]byte, error) {
	if len(sealed) < Overhead {
		return nil, ErrOpen
	}
	res, ok := box.OpenAnonymous(out, sealed, &kp.Public, &kp.Private)
	if !ok {
		return nil, ErrOpen
	}
	return res, nil
}
