package store

import (
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"os"

	"examkiosk/sync/seal"
)

// sealer seals records with AES-256-GCM under the data key (seal.Box, the
// same at-rest format as the central's store) and derives the HMAC keys of
// blind indexes and of the audit chain from it.
type sealer struct {
	box      *seal.Box
	indexKey []byte // HMAC key for blind indexes (candidate lookups)
	auditKey []byte // HMAC key of the audit chain
}

func newSealer(dataKey []byte) (*sealer, error) {
	box, err := seal.NewBox(dataKey)
	if err != nil {
		return nil, err
	}
	derive := func(label string) []byte {
		m := hmac.New(sha256.New, dataKey)
		m.Write([]byte(label))
		return m.Sum(nil)
	}
	return &sealer{box: box, indexKey: derive("examkiosk store index v1"), auditKey: derive("examkiosk store audit v1")}, nil
}

// seal encrypts plain for bucket/key.
func (s *sealer) seal(bucket, key, plain []byte) []byte { return s.box.Seal(bucket, key, plain) }

// open decrypts and authenticates a value sealed for bucket/key.
func (s *sealer) open(bucket, key, sealed []byte) ([]byte, error) {
	return s.box.Open(bucket, key, sealed)
}

// blind returns a keyed hash of s, for indexes that must not reveal s.
func (s *sealer) blind(v string) []byte {
	m := hmac.New(sha256.New, s.indexKey)
	m.Write([]byte(v))
	return m.Sum(nil)[:16]
}

// loadKey reads the hex data key from path, checking its permissions. If the
// file does not exist and create is true it makes a new random key, written
// atomically with mode 0600.
func loadKey(path string, create bool) ([]byte, error) {
	key, err := seal.LoadKeyFile(path, create)
	if err != nil {
		return nil, fmt.Errorf("data key: %w", err)
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
