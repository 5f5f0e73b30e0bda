package central

import (
	"context"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"examkiosk/exam"
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

	kSealKey = []byte("seal_key")
	kCatalog = []byte("catalog")
)

// regRecord is the central's view of a registration's current revision:
// what reviewers see, plus when it last changed. Registration is embedded,
// so the stored JSON keeps its flat shape.
type regRecord struct {
	Registration
	UpdatedAt time.Time `json:"updated_at"`
}

type codeRecord struct {
	Code         string    `json:"code"`
	CentreID     string    `json:"centre_id"`
	ExpiresAt    time.Time `json:"expires_at,omitzero"`
	UsedBy       string    `json:"used_by,omitempty"`
	Reusable     bool      `json:"reusable,omitempty"`
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

func openDB(dir string) (*bolt.DB, seal.KeyPair, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, seal.KeyPair{}, fmt.Errorf("create data dir %s: %w", dir, err)
	}
	path := filepath.Join(dir, "central.db")
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, seal.KeyPair{}, fmt.Errorf("open central store %s: %w", path, err)
	}
	var kp seal.KeyPair
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bMeta, bCentres, bCodes, bDevices, bNonces, bRegs, bRevs, bUpdates, bOrders, bAccounts} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bMeta)
		if v := meta.Get(kSealKey); len(v) == 2*seal.KeySize {
			copy(kp.Public[:], v[:seal.KeySize])
			copy(kp.Private[:], v[seal.KeySize:])
			return nil
		}
		var err error
		if kp, err = seal.GenerateKey(); err != nil {
			return err
		}
		return meta.Put(kSealKey, append(kp.Public[:], kp.Private[:]...))
	})
	if err != nil {
		db.Close()
		return nil, seal.KeyPair{}, fmt.Errorf("initialise central store %s: %w", path, err)
	}
	return db, kp, nil
}

func getJSON(b *bolt.Bucket, key string, v any) error {
	data := b.Get([]byte(key))
	if data == nil {
		return errNotFound
	}
	return json.Unmarshal(data, v)
}

func putJSON(b *bolt.Bucket, key string, v any) error {
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
func appendUpdate(tx *bolt.Tx, deviceID string, u wire.Update) error {
	b, err := tx.Bucket(bUpdates).CreateBucketIfNotExists([]byte(deviceID))
	if err != nil {
		return err
	}
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
func (s *Server) deviceKey(_ context.Context, id string) (ed25519.PublicKey, error) {
	var d wire.Device
	err := s.db.View(func(tx *bolt.Tx) error { return getJSON(tx.Bucket(bDevices), id, &d) })
	if errors.Is(err, errNotFound) {
		return nil, &signing.Error{Code: wire.ErrCodeUnknownDevice, Msg: "device " + id + " is not enrolled"}
	}
	if err != nil {
		return nil, err
	}
	if d.Revoked {
		return nil, &signing.Error{Code: wire.ErrCodeRevokedDevice, Msg: "device " + id + " was revoked"}
	}
	return ed25519.PublicKey(d.PublicKey), nil
}

// boltNonces is a signing.NonceStore persisted in bbolt, so that a restart
// of the central does not reopen the replay window.
type boltNonces struct {
	db  *bolt.DB
	now func() time.Time
}

func (n *boltNonces) Use(_ context.Context, deviceID, nonce string, expires time.Time) (bool, error) {
	fresh := false
	now := n.now()
	err := n.db.Update(func(tx *bolt.Tx) error {
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
func (n *boltNonces) prune() (int, error) {
	now := n.now().Unix()
	dropped := 0
	err := n.db.Update(func(tx *bolt.Tx) error {
		c := tx.Bucket(bNonces).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if len(v) != 8 || int64(binary.BigEndian.Uint64(v)) < now {
				if err := c.Delete(); err != nil {
					return err
				}
				dropped++
			}
		}
		return nil
	})
	return dropped, err
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

func loadCatalog(tx *bolt.Tx) (*wire.Catalog, error) {
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
