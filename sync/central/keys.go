package central

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/crypto/curve25519"

	"examkiosk/sync/seal"
)

// Key files in the key directory (Config.KeyDir), each 64 hex digits, mode
// 0600.
const (
	dataKeyFile   = "data.key"   // AES-256: personal fields and photos in central.db
	sealKeyFile   = "seal.key"   // X25519 private key: opens what kiosks seal
	answerKeyFile = "answer.key" // Ed25519 seed: signs answers, pinned by kiosks
)

// keys are the central's secrets, kept apart from central.db.
type keys struct {
	box      *seal.Box
	indexKey []byte // HMAC key of blind indexes
	seal     seal.KeyPair
	answer   ed25519.PrivateKey
}

// loadKeys reads the key directory. With create (a store that holds nothing
// sealed yet) missing keys are made; legacySeal, the sealing private key a
// first-version store kept in the database, becomes seal.key.
func loadKeys(dir string, create bool, legacySeal []byte) (*keys, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("key directory %s: %w", dir, err)
	}
	data, err := seal.LoadKeyFile(filepath.Join(dir, dataKeyFile), create)
	if err != nil {
		return nil, err
	}
	box, err := seal.NewBox(data)
	if err != nil {
		return nil, err
	}
	k := &keys{box: box}
	m := hmac.New(sha256.New, data)
	m.Write([]byte("examkiosk central index v1"))
	k.indexKey = m.Sum(nil)

	sealPath := filepath.Join(dir, sealKeyFile)
	if len(legacySeal) == 2*seal.KeySize {
		if _, err := os.Stat(sealPath); errors.Is(err, fs.ErrNotExist) {
			if err := seal.WriteKeyFile(sealPath, legacySeal[seal.KeySize:]); err != nil {
				return nil, err
			}
		}
	}
	priv, err := seal.LoadKeyFile(sealPath, create)
	if err != nil {
		return nil, err
	}
	pub, err := curve25519.X25519(priv, curve25519.Basepoint)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", sealPath, err)
	}
	copy(k.seal.Private[:], priv)
	copy(k.seal.Public[:], pub)

	// The answer key is new in protocol v2: an upgraded store makes one.
	seed, err := seal.LoadKeyFile(filepath.Join(dir, answerKeyFile), true)
	if err != nil {
		return nil, err
	}
	k.answer = ed25519.NewKeyFromSeed(seed)
	return k, nil
}

// blind returns a keyed hash of a candidate's ID number and an exam id.
func (k *keys) blind(idNumber, examID string) []byte {
	m := hmac.New(sha256.New, k.indexKey)
	m.Write([]byte(idNumber))
	m.Write([]byte{0})
	m.Write([]byte(examID))
	return m.Sum(nil)
}

// AnswerPublicKey returns the Ed25519 key the central signs its answers
// with; kiosks pin it at enrolment (or from sync.central_answer_key).
func (s *Server) AnswerPublicKey() ed25519.PublicKey {
	return s.keys.answer.Public().(ed25519.PublicKey)
}
