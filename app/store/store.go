// Package store keeps the kiosk's data in one bbolt file: registrations,
// the sync outbox (FIFO by sequence), the exam catalog, the device identity
// and settings, and an append-only, hash-chained audit log.
//
// Personal data is sealed at rest with AES-256-GCM under a data key kept in a
// 0600 key file beside the database; each sealed value is bound to its bucket
// and key. Candidate lookups go through a keyed blind index, so the file
// holds no name, ID number or phone in the clear. Every write is one bbolt
// transaction, on disk (fdatasync) before the call returns.
//
// Store implements wire.Outbox and wire.Sink for the sync code.
package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"examkiosk/app/registration"
	"examkiosk/sync/wire"
)

// Bucket names.
var (
	bktRegs       = []byte("registrations") // id → sealed record (no photo)
	bktBlobs      = []byte("blobs")         // id → bucket{"v" → sealed photo and descriptors (binary, see encodeBlob)}
	bktCandidates = []byte("candidates")    // blind(id number) | exam id | 0 | reg id → ""
	bktOutbox     = []byte("outbox")        // seq → outboxMeta (JSON, no personal data)
	bktOutboxIDs  = []byte("outbox_ids")    // reg id | 0 | revision → seq
	bktQuarantine = []byte("quarantine")    // seq → outboxMeta with reason
	bktPurgeDue   = []byte("purge_due")     // unix seconds | reg id → ""
	bktCatalog    = []byte("catalog")       // "current" → wire.Catalog JSON
	bktDevice     = []byte("device")        // identity, keys (sealed), settings (sealed), pull cursor
	bktAudit      = []byte("audit")         // seq → auditEntry JSON
	bktMeta       = []byte("meta")          // schema, key check
)

var allBuckets = [][]byte{bktRegs, bktBlobs, bktCandidates, bktOutbox, bktOutboxIDs,
	bktQuarantine, bktPurgeDue, bktCatalog, bktDevice, bktAudit, bktMeta}

const schemaVersion = 1

var (
	keySchema   = []byte("schema")
	keyKeyCheck = []byte("key_check")
	keyCatalog  = []byte("current")
	keyDeviceID = []byte("device_id")
	keyPrivate  = []byte("ed25519_private")
	keyCursor   = []byte("pull_cursor")
	keyCheckMsg = []byte("examkiosk data key check")
)

// ErrNotFound is returned when a registration, catalog or identity does not exist.
var ErrNotFound = errors.New("not found")

// Store is an open kiosk database. Its methods are safe for concurrent use.
type Store struct {
	db   *bolt.DB
	seal *sealer
	cfg  Config
	log  *slog.Logger
	now  func() time.Time
}

var (
	_ wire.Outbox = (*Store)(nil)
	_ wire.Sink   = (*Store)(nil)
)

// Open opens (creating if needed) the database at cfg.Path and its data key.
// A new data key is made only for a new, empty database; a database holding
// sealed data refuses to open without the key it was sealed with.
func Open(cfg Config) (*Store, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(cfg.Path), 0o700); err != nil {
		return nil, fmt.Errorf("open store %s: %w", cfg.Path, err)
	}
	_, statErr := os.Stat(cfg.Path)
	db, err := bolt.Open(cfg.Path, 0o600, &bolt.Options{
		Timeout:      time.Duration(cfg.LockTimeoutSeconds) * time.Second,
		FreelistType: bolt.FreelistMapType,
		// Map 1 GiB of address space up front so the file can grow without
		// remapping (a remap waits for every reader and stalls a Submit).
		InitialMmapSize: 1 << 30,
	})
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", cfg.Path, err)
	}
	if errors.Is(statErr, fs.ErrNotExist) {
		// bbolt syncs the new file's contents, not its directory entry.
		if err := syncDir(filepath.Dir(cfg.Path)); err != nil {
			db.Close()
			return nil, fmt.Errorf("open store %s: %w", cfg.Path, err)
		}
	}
	if fi, err := os.Stat(cfg.Path); err == nil && fi.Mode().Perm() != 0o600 {
		if err := os.Chmod(cfg.Path, 0o600); err != nil {
			db.Close()
			return nil, fmt.Errorf("open store %s: %w", cfg.Path, err)
		}
	}
	s := &Store{db: db, cfg: cfg, log: slog.Default().With("component", "store"), now: time.Now}
	if err := s.init(); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: %w", cfg.Path, err)
	}
	return s, nil
}

func (s *Store) init() error {
	var hasCheck, complete bool
	var check []byte
	if err := s.db.View(func(tx *bolt.Tx) error {
		complete = true
		for _, name := range allBuckets {
			complete = complete && tx.Bucket(name) != nil
		}
		if b := tx.Bucket(bktMeta); b != nil {
			if v := b.Get(keySchema); v != nil && binary.BigEndian.Uint64(v) != schemaVersion {
				return fmt.Errorf("schema version %d: this build reads version %d", binary.BigEndian.Uint64(v), schemaVersion)
			}
			check = append([]byte(nil), b.Get(keyKeyCheck)...)
			hasCheck = b.Get(keyKeyCheck) != nil
		}
		return nil
	}); err != nil {
		return err
	}
	key, err := loadKey(s.cfg.keyFile(), !hasCheck)
	if err != nil {
		return err
	}
	if s.seal, err = newSealer(key); err != nil {
		return err
	}
	if complete && hasCheck {
		// The usual case: nothing to write, so no write transaction (and
		// no fsync) at start-up.
		if _, err := s.seal.open(bktMeta, keyKeyCheck, check); err != nil {
			return fmt.Errorf("data key %s does not match this database: %w", s.cfg.keyFile(), err)
		}
		return nil
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		meta := tx.Bucket(bktMeta)
		if v := meta.Get(keySchema); v == nil {
			if err := meta.Put(keySchema, u64(schemaVersion)); err != nil {
				return err
			}
		} else if binary.BigEndian.Uint64(v) != schemaVersion {
			return fmt.Errorf("schema version %d: this build reads version %d", binary.BigEndian.Uint64(v), schemaVersion)
		}
		if v := meta.Get(keyKeyCheck); v != nil {
			if _, err := s.seal.open(bktMeta, keyKeyCheck, v); err != nil {
				return fmt.Errorf("data key %s does not match this database: %w", s.cfg.keyFile(), err)
			}
			return nil
		}
		return meta.Put(keyKeyCheck, s.seal.seal(bktMeta, keyKeyCheck, keyCheckMsg))
	})
}

// Close closes the database.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close store %s: %w", s.cfg.Path, err)
	}
	return nil
}

// Path returns the database file path.
func (s *Store) Path() string { return s.cfg.Path }

// encodeBlob lays out the photo and descriptors compactly (no base64):
// version byte, uvarint descriptor count, per descriptor a uvarint length and
// little-endian float32s, then the JPEG to the end.
func encodeBlob(photo []byte, desc [][]float32) []byte {
	n := 1 + binary.MaxVarintLen64 + len(photo)
	for _, d := range desc {
		n += binary.MaxVarintLen64 + 4*len(d)
	}
	b := make([]byte, 0, n)
	b = append(b, 1)
	b = binary.AppendUvarint(b, uint64(len(desc)))
	for _, d := range desc {
		b = binary.AppendUvarint(b, uint64(len(d)))
		for _, f := range d {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(f))
		}
	}
	return append(b, photo...)
}

func decodeBlob(b []byte) (photo []byte, desc [][]float32, err error) {
	bad := errors.New("photo record malformed")
	if len(b) < 1 || b[0] != 1 {
		return nil, nil, bad
	}
	b = b[1:]
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)) {
		return nil, nil, bad
	}
	b = b[k:]
	for range n {
		l, k := binary.Uvarint(b)
		if k <= 0 || l > uint64(len(b)-k)/4 {
			return nil, nil, bad
		}
		b = b[k:]
		d := make([]float32, l)
		for i := range d {
			d[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
		desc = append(desc, d)
		b = b[4*l:]
	}
	return b, desc, nil
}

func u64(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

// update runs fn in a write transaction after checking ctx.
func (s *Store) update(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.Update(fn)
}

func (s *Store) view(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(fn)
}

// getReg loads a registration; withBlob also loads photo and descriptors.
func (s *Store) getReg(tx *bolt.Tx, id string, withBlob bool) (registration.Registration, error) {
	var r registration.Registration
	v := tx.Bucket(bktRegs).Get([]byte(id))
	if v == nil {
		return r, fmt.Errorf("registration %s: %w", id, ErrNotFound)
	}
	plain, err := s.seal.open(bktRegs, []byte(id), v)
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(plain, &r); err != nil {
		return r, fmt.Errorf("registration %s: decode: %w", id, err)
	}
	if withBlob {
		if v := getBlob(tx, []byte(id)); v != nil {
			plain, err := s.seal.open(bktBlobs, []byte(id), v)
			if err != nil {
				return r, err
			}
			if r.Photo, r.Descriptors, err = decodeBlob(plain); err != nil {
				return r, fmt.Errorf("registration %s: %w", id, err)
			}
		}
	}
	return r, nil
}

// Each photo lives in a bucket of its own under blobs. A large value stored
// directly would share the last leaf with the photo before it, and bbolt
// rewrites a whole leaf when a key is added: every Submit would write the
// previous photo again. The parent leaf of a nested bucket holds only a small
// header, so a Submit writes its own photo and little else.
var blobValue = []byte("v")

func getBlob(tx *bolt.Tx, key []byte) []byte {
	if b := tx.Bucket(bktBlobs).Bucket(key); b != nil {
		return b.Get(blobValue)
	}
	return nil
}

func putBlob(tx *bolt.Tx, key, sealed []byte) error {
	b, err := tx.Bucket(bktBlobs).CreateBucketIfNotExists(key)
	if err != nil {
		return err
	}
	return b.Put(blobValue, sealed)
}

func deleteBlob(tx *bolt.Tx, key []byte) error {
	err := tx.Bucket(bktBlobs).DeleteBucket(key)
	if errors.Is(err, bolterrors.ErrBucketNotFound) {
		return nil
	}
	return err
}

// putReg stores r; if writeBlob, also its photo and descriptors.
func (s *Store) putReg(tx *bolt.Tx, r registration.Registration, writeBlob bool) error {
	key := []byte(r.ID)
	if writeBlob {
		b := encodeBlob(r.Photo, r.Descriptors)
		if err := putBlob(tx, key, s.seal.seal(bktBlobs, key, b)); err != nil {
			return fmt.Errorf("registration %s: %w", r.ID, err)
		}
	}
	r.Photo, r.Descriptors = nil, nil
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("registration %s: encode: %w", r.ID, err)
	}
	if err := tx.Bucket(bktRegs).Put(key, s.seal.seal(bktRegs, key, b)); err != nil {
		return fmt.Errorf("registration %s: %w", r.ID, err)
	}
	return nil
}

// candidatePrefix is the blind index prefix of a candidate, optionally
// narrowed to one exam.
func (s *Store) candidatePrefix(idNumber, examID string) []byte {
	p := s.seal.blind(idNumber)
	if examID != "" {
		p = append(p, examID...)
		p = append(p, 0)
	}
	return p
}

// candidateKey is the outbox CandidateKey: a blind hash, not the ID number.
func (s *Store) candidateKey(idNumber string) string {
	return fmt.Sprintf("%x", s.seal.blind(idNumber))
}

func (s *Store) catalog(tx *bolt.Tx) (*wire.Catalog, error) {
	v := tx.Bucket(bktCatalog).Get(keyCatalog)
	if v == nil {
		return nil, nil
	}
	var c wire.Catalog
	if err := json.Unmarshal(v, &c); err != nil {
		return nil, fmt.Errorf("catalog: decode: %w", err)
	}
	return &c, nil
}

// Submit validates reg, assigns its id (UUIDv7), revision 1 and status
// submitted, and stores it sealed together with its outbox item and an audit
// entry in one transaction that is on disk when Submit returns. A second
// active registration of the same candidate for the same exam is refused
// (errors.Is(err, registration.ErrDuplicate)); a registration that was
// withdrawn or expired does not count. Validation refusals are
// *registration.ValidationError; nothing is written then.
func (s *Store) Submit(ctx context.Context, reg registration.Registration) (registration.Registration, error) {
	now := s.now().UTC()
	if err := prepareNew(&reg, now); err != nil {
		return reg, fmt.Errorf("submit: %w", err)
	}
	err := s.update(ctx, func(tx *bolt.Tx) error { return s.submitTx(tx, reg, now) })
	if err != nil {
		return reg, fmt.Errorf("submit: %w", err)
	}
	return reg, nil
}

// prepareNew normalizes a new registration and sets what the store assigns.
func prepareNew(reg *registration.Registration, now time.Time) error {
	reg.Normalize()
	id, err := uuid.NewV7()
	if err != nil {
		return fmt.Errorf("new id: %w", err)
	}
	reg.ID, reg.Revision, reg.Status = id.String(), 1, registration.StatusSubmitted
	reg.CreatedAt, reg.SubmittedAt, reg.UpdatedAt = now, now, now
	reg.Reason, reg.PaymentURL, reg.PayBy, reg.DeliveredAt, reg.PurgedAt, reg.Quarantine = "", "", time.Time{}, time.Time{}, time.Time{}, ""
	return nil
}

func (s *Store) submitTx(tx *bolt.Tx, reg registration.Registration, now time.Time) error {
	cat, err := s.catalog(tx)
	if err != nil {
		return err
	}
	if err := reg.Validate(now, cat, s.cfg.Limits); err != nil {
		return err
	}
	prefix := s.candidatePrefix(reg.IDNumber, reg.ExamID)
	c := tx.Bucket(bktCandidates).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		other, err := s.getReg(tx, string(k[len(prefix):]), false)
		if err != nil {
			return err
		}
		if other.Status != registration.StatusWithdrawn && other.Status != registration.StatusExpired {
			return registration.Refuse(registration.FieldExamID, registration.CodeDuplicate, "")
		}
	}
	if err := tx.Bucket(bktCandidates).Put(append(prefix, reg.ID...), nil); err != nil {
		return err
	}
	if err := s.putReg(tx, reg, true); err != nil {
		return err
	}
	if err := s.enqueue(tx, reg, now); err != nil {
		return err
	}
	return s.appendAudit(tx, now, "submit", reg.ID, fmt.Sprintf("revision 1 exam %s position %s", reg.ExamID, reg.PositionID))
}

// Resubmit stores a new revision of a rejected registration: same id, same
// candidate and exam, revision+1, status resubmitted, queued for delivery in
// one transaction. The position and the other fields may change.
func (s *Store) Resubmit(ctx context.Context, reg registration.Registration) (registration.Registration, error) {
	reg.Normalize()
	now := s.now().UTC()
	var out registration.Registration
	err := s.update(ctx, func(tx *bolt.Tx) error {
		cur, err := s.getReg(tx, reg.ID, false)
		if err != nil {
			return err
		}
		if err := registration.Transition(cur.Status, registration.StatusResubmitted); err != nil {
			return &registration.ValidationError{Fields: []*registration.FieldError{err.(*registration.FieldError)}}
		}
		var mismatch []*registration.FieldError
		if reg.IDNumber != cur.IDNumber {
			mismatch = append(mismatch, &registration.FieldError{Field: registration.FieldIDNumber, Code: registration.CodeMismatch})
		}
		if reg.ExamID != cur.ExamID {
			mismatch = append(mismatch, &registration.FieldError{Field: registration.FieldExamID, Code: registration.CodeMismatch})
		}
		if mismatch != nil {
			return &registration.ValidationError{Fields: mismatch}
		}
		cat, err := s.catalog(tx)
		if err != nil {
			return err
		}
		if err := reg.Validate(now, cat, s.cfg.Limits); err != nil {
			return err
		}
		if !cur.DeliveredAt.IsZero() {
			if err := tx.Bucket(bktPurgeDue).Delete(purgeKey(cur.DeliveredAt, cur.ID)); err != nil {
				return err
			}
		}
		reg.Revision, reg.Status = cur.Revision+1, registration.StatusResubmitted
		reg.CreatedAt, reg.SubmittedAt, reg.UpdatedAt = cur.CreatedAt, now, now
		reg.Reason, reg.PaymentURL, reg.PayBy, reg.DeliveredAt, reg.PurgedAt, reg.Quarantine = "", "", time.Time{}, time.Time{}, time.Time{}, ""
		if err := s.putReg(tx, reg, true); err != nil {
			return err
		}
		if err := s.enqueue(tx, reg, now); err != nil {
			return err
		}
		out = reg
		return s.appendAudit(tx, now, "resubmit", reg.ID, fmt.Sprintf("revision %d position %s", reg.Revision, reg.PositionID))
	})
	if err != nil {
		return reg, fmt.Errorf("resubmit %s: %w", reg.ID, err)
	}
	return out, nil
}

// Withdraw marks a registration withdrawn by the candidate. A revision not
// yet delivered leaves the outbox (the central never sees it). Photos are
// purged after the retention period.
func (s *Store) Withdraw(ctx context.Context, id string) error {
	now := s.now().UTC()
	err := s.update(ctx, func(tx *bolt.Tx) error {
		r, err := s.getReg(tx, id, false)
		if err != nil {
			return err
		}
		if err := registration.Transition(r.Status, registration.StatusWithdrawn); err != nil {
			return err
		}
		if r.Status.Queued() {
			if err := s.dequeue(tx, r.ID, r.Revision); err != nil {
				return err
			}
		}
		if r.DeliveredAt.IsZero() && r.PurgedAt.IsZero() {
			if err := tx.Bucket(bktPurgeDue).Put(purgeKey(now, r.ID), nil); err != nil {
				return err
			}
		}
		r.Status, r.UpdatedAt = registration.StatusWithdrawn, now
		if err := s.putReg(tx, r, false); err != nil {
			return err
		}
		return s.appendAudit(tx, now, "withdraw", r.ID, fmt.Sprintf("revision %d", r.Revision))
	})
	if err != nil {
		return fmt.Errorf("withdraw %s: %w", id, err)
	}
	return nil
}

// Get returns a registration with its photo and descriptors (unless purged).
func (s *Store) Get(ctx context.Context, id string) (registration.Registration, error) {
	var r registration.Registration
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var err error
		r, err = s.getReg(tx, id, true)
		return err
	})
	if err != nil {
		return r, fmt.Errorf("get: %w", err)
	}
	return r, nil
}

// ListByCandidate returns a candidate's registrations, oldest first, without
// photos and descriptors.
func (s *Store) ListByCandidate(ctx context.Context, idNumber string) ([]registration.Registration, error) {
	var out []registration.Registration
	prefix := s.candidatePrefix(idNumber, "")
	err := s.view(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(bktCandidates).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			i := bytes.IndexByte(k[len(prefix):], 0)
			if i < 0 {
				return fmt.Errorf("candidate index key malformed")
			}
			r, err := s.getReg(tx, string(k[len(prefix)+i+1:]), false)
			if err != nil {
				return err
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list by candidate: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Catalog returns the stored catalog, or ErrNotFound before the first one.
func (s *Store) Catalog(ctx context.Context) (wire.Catalog, error) {
	var c *wire.Catalog
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var err error
		c, err = s.catalog(tx)
		return err
	})
	if err != nil {
		return wire.Catalog{}, fmt.Errorf("catalog: %w", err)
	}
	if c == nil {
		return wire.Catalog{}, fmt.Errorf("catalog: %w", ErrNotFound)
	}
	return *c, nil
}

// PutCatalog replaces the catalog (normally it arrives through ApplyPull).
func (s *Store) PutCatalog(ctx context.Context, c wire.Catalog) error {
	now := s.now().UTC()
	err := s.update(ctx, func(tx *bolt.Tx) error { return s.putCatalog(tx, c, now) })
	if err != nil {
		return fmt.Errorf("put catalog: %w", err)
	}
	return nil
}

func (s *Store) putCatalog(tx *bolt.Tx, c wire.Catalog, now time.Time) error {
	exams := map[string]bool{}
	for _, e := range c.Exams {
		if e.ID == "" || exams[e.ID] {
			return fmt.Errorf("catalog version %d: exam id %q empty or repeated", c.Version, e.ID)
		}
		exams[e.ID] = true
		pos := map[string]bool{}
		for _, p := range e.Positions {
			if p.ID == "" || pos[p.ID] {
				return fmt.Errorf("catalog version %d: exam %s: position id %q empty or repeated", c.Version, e.ID, p.ID)
			}
			pos[p.ID] = true
		}
	}
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	if err := tx.Bucket(bktCatalog).Put(keyCatalog, b); err != nil {
		return err
	}
	return s.appendAudit(tx, now, "catalog", "", fmt.Sprintf("version %d, %d exams", c.Version, len(c.Exams)))
}

// FaceRecord is the live-face data of one registration that still holds it
// (retention purges it some days after delivery).
type FaceRecord struct {
	ID          string
	IDNumber    string
	Descriptors [][]float32
	// Model is the recognition model that made Descriptors ("" for dlib's
	// ResNet, see registration.Registration.DescriptorModel).
	Model string
}

// FaceRecords returns the face descriptors of every registration that
// still holds them, for the check that one face does not register under a
// second identity.
func (s *Store) FaceRecords(ctx context.Context) ([]FaceRecord, error) {
	var out []FaceRecord
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bktBlobs).ForEachBucket(func(k []byte) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			r, err := s.getReg(tx, string(k), true)
			if err != nil {
				return err
			}
			if len(r.Descriptors) > 0 {
				out = append(out, FaceRecord{ID: r.ID, IDNumber: r.IDNumber, Descriptors: r.Descriptors, Model: r.DescriptorModel})
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("face records: %w", err)
	}
	return out, nil
}
