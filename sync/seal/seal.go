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
	"crypto/ecdh"
	"crypto/rand"
	"errors"
	"fmt"

	"golang.org/x/crypto/blake2b"
	"golang.org/x/crypto/nacl/box"
	"golang.org/x/crypto/salsa20/salsa"
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

// Opener opens documents sealed to one key pair, as KeyPair.OpenAppend
// does, at about half its cost: it keeps the private key ready for the
// exchange, where box.OpenAnonymous derives it again on every call (and the
// derivation computes the public key, an X25519 as costly as the exchange).
// A central opens tens of thousands of documents a minute at peak.
type Opener struct {
	public  [KeySize]byte
	private *ecdh.PrivateKey
}

// Opener returns an Opener for kp.
func (kp *KeyPair) Opener() (*Opener, error) {
	priv, err := ecdh.X25519().NewPrivateKey(kp.Private[:])
	if err != nil {
		return nil, fmt.Errorf("sealing key: %w", err)
	}
	return &Opener{public: kp.Public, private: priv}, nil
}

// OpenAppend decrypts a document sealed to the key pair and appends it to
// out: libsodium's crypto_box_seal_open, the steps of box.OpenAnonymous
// with the private key kept (the nonce is BLAKE2b-192 of the ephemeral and
// the recipient's public keys; the box key is HSalsa20 of the X25519
// shared secret).
func (o *Opener) OpenAppend(out, sealed []byte) ([]byte, error) {
	if len(sealed) < Overhead {
		return nil, ErrOpen
	}
	eph, err := ecdh.X25519().NewPublicKey(sealed[:KeySize])
	if err != nil {
		return nil, ErrOpen
	}
	shared, err := o.private.ECDH(eph) // fails on a low-order ephemeral key
	if err != nil {
		return nil, ErrOpen
	}
	var nonce [24]byte
	h, err := blake2b.New(len(nonce), nil)
	if err != nil {
		return nil, err
	}
	h.Write(sealed[:KeySize])
	h.Write(o.public[:])
	h.Sum(nonce[:0])
	var in, key [32]byte
	copy(in[:], shared)
	salsa.HSalsa20(&key, new([16]byte), &in, &salsa.Sigma)
	res, ok := box.OpenAfterPrecomputation(out, sealed[KeySize:], &nonce, &key)
	if !ok {
		return nil, ErrOpen
	}
	return res, nil
}
