package store

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// AuditEntry is one record of the append-only audit log. Details never hold
// personal data; subjects are registration ids. MAC chains each entry to the
// one before: HMAC-SHA256 under a key derived from the data key over the
// previous MAC and this entry, so an entry cannot be changed, removed from
// the middle, reordered or forged without the key.
type AuditEntry struct {
	Seq     uint64    `json:"seq"`
	At      time.Time `json:"at"`
	Kind    string    `json:"kind"`
	Subject string    `json:"subject,omitempty"`
	Detail  string    `json:"detail,omitempty"`
	Prev    string    `json:"prev"` // MAC of the previous entry, hex ("" for the first)
	MAC     string    `json:"mac"`
}

func (s *Store) auditMAC(e AuditEntry) string {
	e.MAC = ""
	b, _ := json.Marshal(e) // a struct of strings, times and ints always encodes
	m := hmac.New(sha256.New, s.seal.auditKey)
	m.Write(b)
	return hex.EncodeToString(m.Sum(nil))
}

func (s *Store) appendAudit(tx *bolt.Tx, now time.Time, kind, subject, detail string) error {
	b := tx.Bucket(bktAudit)
	e := AuditEntry{At: now, Kind: kind, Subject: subject, Detail: detail}
	if k, v := b.Cursor().Last(); k != nil {
		var last AuditEntry
		if err := json.Unmarshal(v, &last); err != nil {
			return fmt.Errorf("audit: last entry: %w", err)
		}
		e.Prev = last.MAC
	}
	seq, err := b.NextSequence()
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	e.Seq = seq
	e.MAC = s.auditMAC(e)
	v, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	if err := b.Put(u64(seq), v); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// Audit appends an entry for something the application did (staff login,
// export, sync now...). detail must not hold personal data.
func (s *Store) Audit(ctx context.Context, kind, subject, detail string) error {
	now := s.now().UTC()
	if err := s.update(ctx, func(tx *bolt.Tx) error { return s.appendAudit(tx, now, kind, subject, detail) }); err != nil {
		return fmt.Errorf("audit %s: %w", kind, err)
	}
	return nil
}

// AuditLog returns up to limit entries, newest first.
func (s *Store) AuditLog(ctx context.Context, limit int) ([]AuditEntry, error) {
	var out []AuditEntry
	err := s.view(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(bktAudit).Cursor()
		for k, v := c.Last(); k != nil && len(out) < limit; k, v = c.Prev() {
			var e AuditEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("audit entry %d: %w", binary.BigEndian.Uint64(k), err)
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	return out, nil
}

// VerifyAudit checks the whole chain and returns the number of entries.
func (s *Store) VerifyAudit(ctx context.Context) (int, error) {
	var n int
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var err error
		n, err = s.verifyAudit(tx)
		return err
	})
	return n, err
}

func (s *Store) verifyAudit(tx *bolt.Tx) (int, error) {
	b := tx.Bucket(bktAudit)
	prev, n := "", 0
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		n++
		var e AuditEntry
		if err := json.Unmarshal(v, &e); err != nil {
			return n, fmt.Errorf("verify audit: entry %d: %w", binary.BigEndian.Uint64(k), err)
		}
		if e.Seq != binary.BigEndian.Uint64(k) || e.Seq != uint64(n) {
			return n, fmt.Errorf("verify audit: entry at key %d claims seq %d, expected %d (entry missing or moved)", binary.BigEndian.Uint64(k), e.Seq, n)
		}
		if e.Prev != prev {
			return n, fmt.Errorf("verify audit: entry %d does not follow entry %d", e.Seq, e.Seq-1)
		}
		if !hmac.Equal([]byte(e.MAC), []byte(s.auditMAC(e))) {
			return n, fmt.Errorf("verify audit: entry %d was altered", e.Seq)
		}
		prev = e.MAC
	}
	if uint64(n) != b.Sequence() {
		return n, fmt.Errorf("verify audit: %d entries but %d were appended (tail removed)", n, b.Sequence())
	}
	return n, nil
}
