package central

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"examkiosk/exam"
	"examkiosk/sync/central/store"
	"examkiosk/sync/seal"
	"examkiosk/sync/signing"
	"examkiosk/sync/wire"
)

var (
	bMeta     = []byte("meta")
	bCentres  = []byte("centres")
	bCodes    = []byte("enrolment_codes")
	bDevices  = []byte("devices")
	bNonces   = []byte("nonces")
	bRegs     = []byte("registrations")
	bRevs     = []byte("revisions")
	bUpdates  = []byte("updates") // nested: one bucket per device
	bOrders   = []byte("orders")
	bAccounts = []byte("accounts")
	// bCandidates maps a blind index of (ID number, exam) to the id of the
	// candidate's registration for that exam.
	bCandidates = []byte("candidates")

	kSealKey  = []byte("seal_key") // v1 kept the sealing key here; moved to seal.key
	kCatalog  = []byte("catalog")
	kKeyCheck = []byte("key_check")
)

// keyCheckMsg is sealed under the data key in meta, so that a wrong data
// key is refused at open instead of failing later, record by record.
var keyCheckMsg = []byte("examkiosk central data key check v1")

// regRecord is the central's view of a registration's current revision:
// what reviewers see, plus when it last changed. Registration is embedded,
// so the stored JSON keeps its flat shape.
type regRecord struct {
	Registration
	UpdatedAt time.Time `json:"updated_at"`
	// FaceSeq is the sequence of the current revision's face (faces.go):
	// only its search clears FaceSearchPending, not that of an earlier
	// revision's face still pending when the revision came.
	FaceSeq uint64 `json:"face_seq,omitempty"`
}

type codeRecord struct {
	Code         string    `json:"code"`
	CentreID     string    `json:"centre_id"`
	ExpiresAt    time.Time `json:"expires_at,omitzero"`
	UsedBy       string    `json:"used_by,omitempty"`
	LoopbackOnly bool      `json:"loopback_only,omitempty"`
}

type orderRecord struct {
	ID          string    `json:"id"`
	RegID       string    `json:"registration_id"`
	Revision    int       `json:"revision"`
	DeviceID    string    `json:"device_id"`
	AmountCents int       `json:"amount_cents"`
	PayBy       time.Time `json:"pay_by"`
	Status      string    `json:"status"` // unpaid, paid, expired
	CreatedAt   time.Time `json:"created_at"`
	PaidAt      time.Time `json:"paid_at,omitzero"`
	TradeNo     string    `json:"trade_no,omitempty"` // the provider's transaction
}

type accountRecord struct {
	IDNumber  string    `json:"id_number"`
	Name      string    `json:"name"`
	Hash      []byte    `json:"hash"`
	CreatedAt time.Time `json:"created_at"`
}

// Registration statuses held by the central (also sent in wire.Update).
const (
	StatusUnderReview = string(exam.StatusUnderReview)
	StatusApproved    = string(exam.StatusApproved)
	StatusRejected    = string(exam.StatusRejected)
	StatusPaid        = string(exam.StatusPaid)
	StatusExpired     = string(exam.StatusExpired)
)

var errNotFound = errors.New("not found")

// openDB opens the central's store (cfg.Database, else central.db in
// cfg.DataDir) with the keys in cfg.keyDir(), creating both on first use.
// A store of the first version (sealing key in the database, registrations
// in plain text) is upgraded in place: its sealing key moves to seal.key
// and every registration and revision is sealed.
func openDB(cfg Config) (store.DB, *keys, error) {
	db, err := openStore(cfg)
	if err != nil {
		return nil, nil, err
	}
	keyDir := cfg.keyDir()
	var k *keys
	migrated := false
	err = db.Update(func(tx store.Tx) error {
		migrated = false
		meta := tx.Bucket(bMeta)
		check := meta.Get(kKeyCheck)
		if err := finishRotation(keyDir, check); err != nil {
			return err
		}
		var err error
		if k, err = loadKeys(keyDir, check == nil, meta.Get(kSealKey)); err != nil {
			return err
		}
		if check != nil {
			if _, err := k.box.Open(bMeta, kKeyCheck, check); err != nil {
				return fmt.Errorf("data key in %s does not match this store (restore the key directory that belongs to it): %w", keyDir, err)
			}
			_, err := ensureRegIndex(tx, k)
			return err
		}
		// New store, or one written before sealing at rest: seal it now.
		for _, name := range [][]byte{bRegs, bRevs} {
			b := tx.Bucket(name)
			var plain [][2][]byte // a scan must not run while its bucket changes
			if err := b.ForEach(func(key, v []byte) error {
				plain = append(plain, [2][]byte{bytes.Clone(key), bytes.Clone(v)})
				return nil
			}); err != nil {
				return err
			}
			for _, kv := range plain {
				if err := b.Put(kv[0], k.box.Seal(name, kv[0], kv[1])); err != nil {
					return err
				}
				migrated = true
			}
		}
		// Accounts were keyed by ID number in plain text, throttles by keys
		// naming ID numbers: re-key them by blind index (and seal accounts).
		for _, name := range [][]byte{bAccounts, bThrottle} {
			b := tx.Bucket(name)
			var old [][2][]byte
			if err := b.ForEach(func(key, v []byte) error {
				old = append(old, [2][]byte{bytes.Clone(key), bytes.Clone(v)})
				return nil
			}); err != nil {
				return err
			}
			for _, kv := range old {
				if err := b.Delete(kv[0]); err != nil {
					return err
				}
				var nk, nv []byte
				if bytes.Equal(name, bAccounts) {
					nk = k.accountKey(string(kv[0]))
					nv = k.box.Seal(name, nk, kv[1])
				} else {
					nk, nv = []byte(k.throttleKey(string(kv[0]))), kv[1]
				}
				if err := b.Put(nk, nv); err != nil {
					return err
				}
				migrated = true
			}
		}
		if meta.Get(kSealKey) != nil {
			migrated = true
		}
		if err := meta.Delete(kSealKey); err != nil {
			return err
		}
		if _, err := ensureRegIndex(tx, k); err != nil {
			return err
		}
		return meta.Put(kKeyCheck, k.box.Seal(bMeta, kKeyCheck, keyCheckMsg))
	})
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("initialise central store: %w", err)
	}
	if migrated {
		// The plain text of a first-version store is still in freed pages
		// (or dead rows): rewrite the store without them.
		if err := db.Compact(); err != nil {
			db.Close()
			return nil, nil, err
		}
	}
	return db, k, nil
}

// ---- registrations and revisions: sealed at rest ----

// loadReg returns the current record of a registration (errNotFound).
func (s *Server) loadReg(tx store.Tx, id string) (regRecord, error) {
	v := tx.Bucket(bRegs).Get([]byte(id))
	if v == nil {
		return regRecord{}, errNotFound
	}
	return openReg(s.keys.box, []byte(id), v)
}

// storeReg writes the current record of a registration.
func (s *Server) storeReg(tx store.Tx, rec regRecord) error {
	data, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if err := tx.Bucket(bRegs).Put([]byte(rec.ID), s.keys.box.Seal(bRegs, []byte(rec.ID), data)); err != nil {
		return err
	}
	return indexReg(tx, rec) // regindex.go
}

// eachReg calls f with every registration record.
func (s *Server) eachReg(tx store.Tx, f func(regRecord) error) error {
	return eachRegWith(tx, s.keys.box, f)
}

// eachRegWith is eachReg with a given box (key rotation has two).
func eachRegWith(tx store.Tx, box *seal.Box, f func(regRecord) error) error {
	return tx.Bucket(bRegs).ForEach(func(k, v []byte) error {
		rec, err := openReg(box, k, v)
		if err != nil {
			return err
		}
		return f(rec)
	})
}

// openReg unseals and decodes the stored registration record v of key k.
func openReg(box *seal.Box, k, v []byte) (regRecord, error) {
	var rec regRecord
	plain, err := box.Open(bRegs, k, v)
	if err != nil {
		return rec, err
	}
	if err := json.Unmarshal(plain, &rec); err != nil {
		return rec, fmt.Errorf("registration %s: %w", k, err)
	}
	return rec, nil
}

// loadRevision returns the SHA-256 and the plaintext document of one
// stored revision (errNotFound).
func (s *Server) loadRevision(tx store.Tx, id string, rev int) ([32]byte, []byte, error) {
	var h [32]byte
	k := revKey(id, rev)
	v := tx.Bucket(bRevs).Get(k)
	if v == nil {
		return h, nil, errNotFound
	}
	plain, err := s.keys.box.Open(bRevs, k, v)
	if err != nil {
		return h, nil, err
	}
	if len(plain) < len(h) {
		return h, nil, fmt.Errorf("revision %s/%d: stored value too short", id, rev)
	}
	copy(h[:], plain)
	return h, plain[len(h):], nil
}

// storeRevision stores one revision: value is hash ‖ document.
func (s *Server) storeRevision(tx store.Tx, id string, rev int, value []byte) error {
	return s.putSealedRevision(tx, id, rev, s.sealRevision(id, rev, value))
}

// sealRevision seals a revision's value (hash ‖ document) for storage,
// which ingest does before its transaction.
func (s *Server) sealRevision(id string, rev int, value []byte) []byte {
	return s.keys.box.Seal(bRevs, revKey(id, rev), value)
}

// putSealedRevision stores a revision sealed by sealRevision.
func (s *Server) putSealedRevision(tx store.Tx, id string, rev int, sealed []byte) error {
	return tx.Bucket(bRevs).Put(revKey(id, rev), sealed)
}

// candidateReg returns the id of the candidate's registration for an exam
// ("" when none), found by a blind index that does not reveal the ID number.
func (s *Server) candidateReg(tx store.Tx, idNumber, examID string) string {
	return string(tx.Bucket(bCandidates).Get(s.keys.blind(idNumber, examID)))
}

// setCandidateReg records regID as the candidate's registration for an exam.
func (s *Server) setCandidateReg(tx store.Tx, idNumber, examID, regID string) error {
	return tx.Bucket(bCandidates).Put(s.keys.blind(idNumber, examID), []byte(regID))
}

// deleteKeys deletes keys from b (collected by a scan that must not change
// its bucket).
func deleteKeys(b store.Bucket, keys []string) error {
	for _, k := range keys {
		if err := b.Delete([]byte(k)); err != nil {
			return err
		}
	}
	return nil
}

func getJSON(b store.Bucket, key string, v any) error {
	data := b.Get([]byte(key))
	if data == nil {
		return errNotFound
	}
	return json.Unmarshal(data, v)
}

func putJSON(b store.Bucket, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put([]byte(key), data)
}

func revKey(id string, rev int) []byte {
	k := make([]byte, len(id)+5)
	copy(k, id)
	binary.BigEndian.PutUint32(k[len(id)+1:], uint32(rev))
	return k
}

// appendUpdate queues an update for the device that delivered the
// registration; the kiosk pulls it with its cursor.
func appendUpdate(tx store.Tx, deviceID string, u wire.Update) error {
	b := tx.Bucket(bUpdates, []byte(deviceID))
	seq, err := b.NextSequence()
	if err != nil {
		return err
	}
	data, err := json.Marshal(u)
	if err != nil {
		return err
	}
	return b.Put(binary.BigEndian.AppendUint64(nil, seq), data)
}

// deviceKey implements signing.KeyLookup.
func (s *Server) deviceKey(_ context.Context, id string) (signing.DeviceKey, error) {
	var d wire.Device
	err := s.db.View(func(tx store.Tx) error { return getJSON(tx.Bucket(bDevices), id, &d) })
	if errors.Is(err, errNotFound) {
		return signing.DeviceKey{}, signing.ErrUnknownDevice
	}
	if err != nil {
		return signing.DeviceKey{}, err
	}
	return signing.DeviceKey{Public: ed25519.PublicKey(d.PublicKey), Revoked: d.Revoked}, nil
}

// storeNonces is a signing.NonceStore persisted in the store, so that a restart
// of the central does not reopen the replay window.
type storeNonces struct {
	db  store.DB
	now func() time.Time
}

func (n *storeNonces) Use(_ context.Context, deviceID, nonce string, expires time.Time) (bool, error) {
	fresh := false
	now := n.now()
	// A Batch: every signed request records its nonce, so concurrent
	// requests share the commit.
	err := n.db.Batch(func(tx store.Tx) error {
		fresh = false
		b := tx.Bucket(bNonces)
		k := []byte(deviceID + "\x00" + nonce)
		if v := b.Get(k); len(v) == 8 && now.Unix() <= int64(binary.BigEndian.Uint64(v)) {
			return nil
		}
		fresh = true
		return b.Put(k, binary.BigEndian.AppendUint64(nil, uint64(expires.Unix())))
	})
	return fresh, err
}

// prune drops expired nonces.
func (n *storeNonces) prune() (int, error) {
	now := n.now().Unix()
	var gone []string
	err := n.db.Update(func(tx store.Tx) error {
		gone = gone[:0]
		b := tx.Bucket(bNonces)
		if err := b.ForEach(func(k, v []byte) error {
			if len(v) != 8 || int64(binary.BigEndian.Uint64(v)) < now {
				gone = append(gone, string(k))
			}
			return nil
		}); err != nil {
			return err
		}
		return deleteKeys(b, gone)
	})
	return len(gone), err
}

func parseCursor(c string) (seq uint64, catVersion int64, err error) {
	if c == "" {
		return 0, 0, nil
	}
	a, b, ok := strings.Cut(c, ".")
	if !ok {
		return 0, 0, fmt.Errorf("cursor %q: want <seq>.<catalog version>", c)
	}
	if seq, err = strconv.ParseUint(a, 10, 64); err != nil {
		return 0, 0, fmt.Errorf("cursor %q: %w", c, err)
	}
	if catVersion, err = strconv.ParseInt(b, 10, 64); err != nil {
		return 0, 0, fmt.Errorf("cursor %q: %w", c, err)
	}
	return seq, catVersion, nil
}

func formatCursor(seq uint64, catVersion int64) string {
	return strconv.FormatUint(seq, 10) + "." + strconv.FormatInt(catVersion, 10)
}

func loadCatalog(tx store.Tx) (*wire.Catalog, error) {
	data := tx.Bucket(bMeta).Get(kCatalog)
	if data == nil {
		return &wire.Catalog{}, nil
	}
	var c wire.Catalog
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("decode catalog: %w", err)
	}
	return &c, nil
}
