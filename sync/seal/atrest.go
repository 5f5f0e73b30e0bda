package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// boxVersion prefixes every value sealed at rest so the format can evolve.
const boxVersion = 1

// DataKeySize is the size of a data key (AES-256).
const DataKeySize = 32

// Box seals stored values at rest with AES-256-GCM under a data key: both
// the kiosk's store (app/store) and the central's store use it. The
// additional data binds each sealed value to its bucket and key, so a value
// copied to another record or bucket does not open. A sealed value is a
// version byte, the 12-byte nonce and the ciphertext with its tag.
type Box struct {
	aead cipher.AEAD
}

// NewBox returns a Box for a 32-byte data key.
func NewBox(dataKey []byte) (*Box, error) {
	if len(dataKey) != DataKeySize {
		return nil, fmt.Errorf("data key has %d bytes: expected %d", len(dataKey), DataKeySize)
	}
	block, err := aes.NewCipher(dataKey)
	if err != nil {
		return nil, fmt.Errorf("data key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("data key: %w", err)
	}
	return &Box{aead: aead}, nil
}

func boxAAD(bucket, key []byte) []byte {
	a := make([]byte, 0, 16+len(bucket)+len(key))
	a = append(a, "examkiosk\x00"...)
	a = append(a, bucket...)
	a = append(a, 0)
	return append(a, key...)
}

// Seal encrypts plain for bucket/key.
func (b *Box) Seal(bucket, key, plain []byte) []byte {
	ns := b.aead.NonceSize()
	out := make([]byte, 1+ns, 1+ns+len(plain)+b.aead.Overhead())
	out[0] = boxVersion
	if _, err := rand.Read(out[1 : 1+ns]); err != nil {
		panic("crypto/rand failed: " + err.Error()) // rand.Read never fails on Linux
	}
	return b.aead.Seal(out, out[1:1+ns], plain, boxAAD(bucket, key))
}

// Open decrypts and authenticates a value sealed for bucket/key.
func (b *Box) Open(bucket, key, sealed []byte) ([]byte, error) {
	ns := b.aead.NonceSize()
	if len(sealed) < 1+ns+b.aead.Overhead() || sealed[0] != boxVersion {
		return nil, fmt.Errorf("%s/%s: sealed value malformed", bucket, printable(key))
	}
	plain, err := b.aead.Open(nil, sealed[1:1+ns], sealed[1+ns:], boxAAD(bucket, key))
	if err != nil {
		return nil, fmt.Errorf("%s/%s: does not verify (tampered, moved or wrong key): %w", bucket, printable(key), err)
	}
	return plain, nil
}

func printable(key []byte) string {
	for _, c := range key {
		if c < 0x20 || c > 0x7e {
			return hex.EncodeToString(key)
		}
	}
	return string(key)
}

// LoadKeyFile reads a 32-byte key stored as hex in its own file, refusing a
// file that others may read. If the file does not exist and create is true
// it makes a new random key, written atomically with mode 0600 (never
// replacing a key another process created meanwhile).
func LoadKeyFile(path string, create bool) ([]byte, error) {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && create:
		return createKeyFile(path)
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("key %s is missing but the store holds data sealed with it: restore the key file from its backup", path)
	case err != nil:
		return nil, fmt.Errorf("key %s: %w", path, err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("key %s has mode %04o: expected 0600 (run: chmod 600 %s)", path, fi.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", path, err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) != DataKeySize {
		return nil, fmt.Errorf("key %s is malformed: expected 64 hex digits", path)
	}
	return key, nil
}

func createKeyFile(path string) ([]byte, error) {
	key := make([]byte, DataKeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("new key: %w", err)
	}
	if err := WriteKeyFile(path, key); err != nil {
		return nil, err
	}
	return key, nil
}

// WriteKeyFile stores a 32-byte key as hex in a new file of mode 0600,
// atomically; it fails if the file exists.
func WriteKeyFile(path string, key []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("new key %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, ".key-*")
	if err != nil {
		return fmt.Errorf("new key %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // no-op after the link
	err = tmp.Chmod(0o600)
	if err == nil {
		_, err = tmp.WriteString(hex.EncodeToString(key) + "\n")
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		// Link, unlike rename, refuses to replace a key another process
		// created meanwhile.
		err = os.Link(tmp.Name(), path)
	}
	if err == nil {
		var d *os.File
		if d, err = os.Open(dir); err == nil {
			err = d.Sync()
			d.Close()
		}
	}
	if err != nil {
		return fmt.Errorf("new key %s: %w", path, err)
	}
	return nil
}
