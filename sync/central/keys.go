package central

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/crypto/curve25519"

	"examkiosk/sync/central/store"
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
	opener   *seal.Opener // opens what kiosks seal to seal.Public
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
	k := &keys{box: box, indexKey: indexKeyOf(data)}

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
	if k.opener, err = k.seal.Opener(); err != nil {
		return nil, fmt.Errorf("key %s: %w", sealPath, err)
	}

	// The answer key is new in protocol v2: an upgraded store makes one.
	seed, err := seal.LoadKeyFile(filepath.Join(dir, answerKeyFile), true)
	if err != nil {
		return nil, err
	}
	k.answer = ed25519.NewKeyFromSeed(seed)
	return k, nil
}

// indexKeyOf derives the HMAC key of blind indexes from the data key.
func indexKeyOf(dataKey []byte) []byte {
	m := hmac.New(sha256.New, dataKey)
	m.Write([]byte("examkiosk central index v1"))
	return m.Sum(nil)
}

// blind returns a keyed hash of a candidate's ID number and an exam id.
func (k *keys) blind(idNumber, examID string) []byte {
	m := hmac.New(sha256.New, k.indexKey)
	m.Write([]byte(idNumber))
	m.Write([]byte{0})
	m.Write([]byte(examID))
	return m.Sum(nil)
}

// accountKey is the stored key of the candidate account of an ID number.
func (k *keys) accountKey(idn string) []byte {
	return []byte(hex.EncodeToString(k.blind(idn, "\x00account")))
}

// throttleKey is the stored key of a login throttle key (they name ID
// numbers).
func (k *keys) throttleKey(key string) string {
	return hex.EncodeToString(k.blind(key, "\x00throttle"))
}

// AnswerPublicKey returns the Ed25519 key the central signs its answers
// with; kiosks pin it at enrolment (or from sync.central_answer_key).
func (s *Server) AnswerPublicKey() ed25519.PublicKey {
	return s.keys.answer.Public().(ed25519.PublicKey)
}

// newDataKeyFile holds the next data key while RotateDataKey re-seals.
const newDataKeyFile = "data.key.new"

// finishRotation completes or abandons a data key rotation that stopped
// between re-sealing the store and renaming the key files: if data.key.new
// opens the store's key check, the re-seal was committed and it becomes
// data.key (the old key is kept as data.key.old); otherwise it is removed.
func finishRotation(dir string, check []byte) error {
	next := filepath.Join(dir, newDataKeyFile)
	if !fileExists(next) {
		return nil
	}
	key, err := seal.LoadKeyFile(next, false)
	if err != nil {
		return err
	}
	box, err := seal.NewBox(key)
	if err != nil {
		return err
	}
	if check != nil {
		if _, err := box.Open(bMeta, kKeyCheck, check); err == nil {
			return swapDataKey(dir)
		}
	}
	return os.Remove(next)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// swapDataKey makes data.key.new the data key, keeping the old one as
// data.key.old (for backups that still need it: delete it once the new key
// is backed up).
func swapDataKey(dir string) error {
	cur, next, old := filepath.Join(dir, dataKeyFile), filepath.Join(dir, newDataKeyFile), filepath.Join(dir, dataKeyFile+".old")
	if err := os.Rename(cur, old); err != nil {
		return fmt.Errorf("rotate data key: %w", err)
	}
	if err := os.Rename(next, cur); err != nil {
		return fmt.Errorf("rotate data key: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("rotate data key: %w", err)
	}
	defer d.Close()
	return d.Sync()
}

// RotateDataKey re-seals everything sealed at rest under a new data key, in
// one transaction, with the central stopped. The old key is kept as
// data.key.old until the operator has backed up the new one. A rotation
// cut short is completed or undone at the next start. It returns how many
// values it re-sealed.
func RotateDataKey(cfg Config) (int, error) {
	db, k, err := openDB(cfg)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	dir := cfg.keyDir()
	next := filepath.Join(dir, newDataKeyFile)
	os.Remove(next) // a rotation that never committed
	key, err := seal.LoadKeyFile(next, true)
	if err != nil {
		return 0, err
	}
	box, err := seal.NewBox(key)
	if err != nil {
		return 0, err
	}
	n := 0
	err = db.Update(func(tx store.Tx) error {
		// The blind index is keyed by the data key too.
		cands := tx.Bucket(bCandidates)
		nk := &keys{indexKey: indexKeyOf(key)}
		var rebuilt [][2][]byte
		if err := eachRegWith(tx, k.box, func(rec regRecord) error {
			if bytes.Equal(cands.Get(k.blind(rec.IDNumber, rec.ExamID)), []byte(rec.ID)) {
				rebuilt = append(rebuilt, [2][]byte{nk.blind(rec.IDNumber, rec.ExamID), []byte(rec.ID)})
			}
			return nil
		}); err != nil {
			return err
		}
		for _, name := range [][]byte{bRegs, bRevs, bFaces} {
			b := tx.Bucket(name)
			var resealed [][2][]byte
			if err := b.ForEach(func(key, v []byte) error {
				plain, err := k.box.Open(name, key, v)
				if err != nil {
					return err
				}
				resealed = append(resealed, [2][]byte{bytes.Clone(key), box.Seal(name, key, plain)})
				return nil
			}); err != nil {
				return err
			}
			for _, kv := range resealed {
				if err := b.Put(kv[0], kv[1]); err != nil {
					return err
				}
			}
			n += len(resealed)
		}
		// Accounts are keyed by a blind index too; throttles (lockouts of at
		// most a day, keyed one-way) start afresh.
		var accounts [][2][]byte
		if err := tx.Bucket(bAccounts).ForEach(func(key, v []byte) error {
			plain, err := k.box.Open(bAccounts, key, v)
			if err != nil {
				return err
			}
			var acc accountRecord
			if err := json.Unmarshal(plain, &acc); err != nil {
				return fmt.Errorf("account %s: %w", key, err)
			}
			ak := nk.accountKey(acc.IDNumber)
			accounts = append(accounts, [2][]byte{ak, box.Seal(bAccounts, ak, plain)})
			return nil
		}); err != nil {
			return err
		}
		// Captchas, password tickets, QR sessions and attempt windows
		// (minutes long) are dropped too.
		for _, name := range [][]byte{bAccounts, bThrottle, bCaptchas, bTickets, bQR, bQRTokens, bAttempts} {
			if err := tx.DeleteBucket(name); err != nil {
				return err
			}
		}
		for _, kv := range accounts {
			if err := tx.Bucket(bAccounts).Put(kv[0], kv[1]); err != nil {
				return err
			}
		}
		n += len(accounts)
		if err := tx.DeleteBucket(bCandidates); err != nil {
			return err
		}
		cands = tx.Bucket(bCandidates)
		for _, kv := range rebuilt {
			if err := cands.Put(kv[0], kv[1]); err != nil {
				return err
			}
		}
		return tx.Bucket(bMeta).Put(kKeyCheck, box.Seal(bMeta, kKeyCheck, keyCheckMsg))
	})
	if err != nil {
		os.Remove(next)
		return 0, fmt.Errorf("rotate data key: re-seal: %w", err)
	}
	return n, swapDataKey(dir)
}
