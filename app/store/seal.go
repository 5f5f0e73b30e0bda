package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// sealVersion prefixes every sealed value so the format can evolve.
const sealVersion = 1

// sealer seals records with AES-256-GCM under the data key. The additional
// data binds each sealed value to its bucket and key, so a value copied to
// another record or bucket does not open.
type sealer struct {
	aead     cipher.AEAD
	indexKey []byte // HMAC key for blind indexes (candidate lookups)
	auditKey []byte // HMAC key of the audit chain
}

func newSealer(dataKey []byte) (*sealer, error) {
	if len(dataKey) != 32 {
		return nil, fmt.Errorf("data key has %d bytes: expected 32", len(dataKey))
	}
	block, err := aes.NewCipher(dataKey)
	if err != nil {
		return nil, fmt.Errorf("data key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("data key: %w", err)
	}
	derive := func(label string) []byte {
		m := hmac.New(sha256.New, dataKey)
		m.Write([]byte(label))
		return m.Sum(nil)
	}
	return &sealer{aead: aead, indexKey: derive("examkiosk store index v1"), auditKey: derive("examkiosk store audit v1")}, nil
}

func aad(bucket, key []byte) []byte {
	a := make([]byte, 0, 16+len(bucket)+len(key))
	a = append(a, "examkiosk\x00"...)
	a = append(a, bucket...)
	a = append(a, 0)
	return append(a, key...)
}

// seal encrypts plain for bucket/key: version byte, nonce, ciphertext+tag.
func (s *sealer) seal(bucket, key, plain []byte) []byte {
	ns := s.aead.NonceSize()
	out := make([]byte, 1+ns, 1+ns+len(plain)+s.aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1 : 1+ns]); err != nil {
		panic("crypto/rand failed: " + err.Error()) // rand.Read never fails on Linux
	}
	return s.aead.Seal(out, out[1:1+ns], plain, aad(bucket, key))
}

// open decrypts and authenticates a value sealed for bucket/key.
func (s *sealer) open(bucket, key, sealed []byte) ([]byte, error) {
	ns := s.aead.NonceSize()
	if len(sealed) < 1+ns+s.aead.Overhead() || sealed[0] != sealVersion {
		return nil, fmt.Errorf("%s/%s: sealed value malformed", bucket, printable(key))
	}
	plain, err := s.aead.Open(nil, sealed[1:1+ns], sealed[1+ns:], aad(bucket, key))
	if err != nil {
		return nil, fmt.Errorf("%s/%s: does not verify (tampered, moved or wrong key): %w", bucket, printable(key), err)
	}
	return plain, nil
}

// blind returns a keyed hash of s, for indexes that must not reveal s.
func (s *sealer) blind(v string) []byte {
	m := hmac.New(sha256.New, s.indexKey)
	m.Write([]byte(v))
	return m.Sum(nil)[:16]
}

func printable(key []byte) string {
	for _, c := range key {
		if c < 0x20 || c > 0x7e {
			return hex.EncodeToString(key)
		}
	}
	return string(key)
}

// loadKey reads the hex data key from path, checking its permissions. If the
// file does not exist and create is true it makes a new random key, written
// atomically with mode 0600.
func loadKey(path string, create bool) ([]byte, error) {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && create:
		return createKey(path)
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("data key %s is missing but the store holds sealed data: restore the key file from its backup", path)
	case err != nil:
		return nil, fmt.Errorf("data key: %w", err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("data key %s has mode %04o: expected 0600 (run: chmod 600 %s)", path, fi.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("data key: %w", err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("data key %s is malformed: expected 64 hex digits", path)
	}
	return key, nil
}

func createKey(path string) ([]byte, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("new data key: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("new data key: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".key-*")
	if err != nil {
		return nil, fmt.Errorf("new data key: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if err := tmp.Chmod(0o600); err == nil {
		_, err = tmp.WriteString(hex.EncodeToString(key) + "\n")
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
			err = syncDir(dir)
		}
		if err != nil {
			return nil, fmt.Errorf("new data key %s: %w", path, err)
		}
	} else {
		tmp.Close()
		return nil, fmt.Errorf("new data key: %w", err)
	}
	return key, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
