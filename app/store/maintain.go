package store

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

func purgeKey(base time.Time, id string) []byte {
	return append(u64(uint64(base.Unix())), id...)
}

// Purge removes the photos and face descriptors of registrations delivered
// (or withdrawn) at least the configured retention days before now, leaving
// the rest of the record as a receipt. It returns how many were purged.
func (s *Store) Purge(ctx context.Context, now time.Time) (int, error) {
	cutoff := now.AddDate(0, 0, -s.cfg.RetentionDays)
	limit := u64(uint64(cutoff.Unix()) + 1)
	n := 0
	err := s.update(ctx, func(tx *bolt.Tx) error {
		due := tx.Bucket(bktPurgeDue)
		var keys [][]byte
		c := due.Cursor()
		for k, _ := c.First(); k != nil && bytes.Compare(k[:8], limit) < 0; k, _ = c.Next() {
			keys = append(keys, append([]byte(nil), k...))
		}
		for _, k := range keys {
			id := string(k[8:])
			if err := due.Delete(k); err != nil {
				return err
			}
			reg, err := s.getReg(tx, id, false)
			if errors.Is(err, ErrNotFound) {
				continue
			} else if err != nil {
				return err
			}
			if err := deleteBlob(tx, []byte(id)); err != nil {
				return err
			}
			if t := reg.Ticket; t != nil && cutoff.After(t.EndsAt) {
				t.Photo = nil // the exam is over: the ticket's photo goes too
			}
			reg.PurgedAt = now.UTC()
			if err := s.putReg(tx, reg, false); err != nil {
				return err
			}
			n++
		}
		if n > 0 {
			return s.appendAudit(tx, now.UTC(), "purge", "", fmt.Sprintf("%d photos and descriptors older than %d days removed", n, s.cfg.RetentionDays))
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("purge: %w", err)
	}
	return n, nil
}

// PurgeEvery runs Purge at once and then every interval until ctx ends,
// logging what it removed and any failure. It returns ctx's error. The app
// runs it in a goroutine for the life of the store.
func (s *Store) PurgeEvery(ctx context.Context, every time.Duration) error {
	if every <= 0 {
		return fmt.Errorf("purge every %v: expected a positive interval", every)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		switch n, err := s.Purge(ctx, s.now()); {
		case err != nil && ctx.Err() == nil:
			s.log.Error("purge failed", "err", err)
		case n > 0:
			s.log.Info("purged photos and face descriptors", "registrations", n, "retention_days", s.cfg.RetentionDays)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Stats is what the status strip shows.
type Stats struct {
	Registrations  int       `json:"registrations"`
	Queued         int       `json:"queued"`
	Quarantined    int       `json:"quarantined"`
	OldestQueued   time.Time `json:"oldest_queued,omitzero"`
	CatalogVersion int64     `json:"catalog_version"`
	DBBytes        int64     `json:"db_bytes"`
}

// Stats counts registrations and outbox items and reports the file size.
func (s *Store) Stats(ctx context.Context) (Stats, error) {
	var st Stats
	err := s.view(ctx, func(tx *bolt.Tx) error {
		st.Registrations = tx.Bucket(bktRegs).Stats().KeyN
		st.Queued = tx.Bucket(bktOutbox).Stats().KeyN
		st.Quarantined = tx.Bucket(bktQuarantine).Stats().KeyN
		st.DBBytes = tx.Size()
		if _, v := tx.Bucket(bktOutbox).Cursor().First(); v != nil {
			var m QueueEntry
			if err := json.Unmarshal(v, &m); err == nil {
				st.OldestQueued = m.EnqueuedAt
			}
		}
		if c, err := s.catalog(tx); err == nil && c != nil {
			st.CatalogVersion = c.Version
		}
		return nil
	})
	if err != nil {
		return Stats{}, fmt.Errorf("stats: %w", err)
	}
	return st, nil
}

// VerifyReport says what Verify checked.
type VerifyReport struct {
	Registrations int `json:"registrations"`
	Photos        int `json:"photos"`
	OutboxItems   int `json:"outbox_items"`
	AuditEntries  int `json:"audit_entries"`
}

// Verify checks the whole database: bbolt's page consistency, that every
// sealed record opens under the data key, that the indexes and the outbox
// agree with the registrations, and the audit chain. It reads everything;
// run it from the staff console or at start-up after a crash, not per request.
func (s *Store) Verify(ctx context.Context) (VerifyReport, error) {
	var rep VerifyReport
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var err error
		rep, err = s.verifyTx(ctx, tx)
		return err
	})
	if err != nil {
		return rep, fmt.Errorf("verify store %s: %w", s.cfg.Path, err)
	}
	return rep, nil
}

func (s *Store) verifyTx(ctx context.Context, tx *bolt.Tx) (VerifyReport, error) {
	var rep VerifyReport
	err := func() error {
		var errs []error
		for err := range tx.Check() { // drain: the checker blocks until read
			errs = append(errs, err)
		}
		if len(errs) > 0 {
			return fmt.Errorf("bbolt consistency: %w", errors.Join(errs...))
		}
		regs := map[string]int{} // id → revision
		err := tx.Bucket(bktRegs).ForEach(func(k, _ []byte) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			r, err := s.getReg(tx, string(k), true)
			if err != nil {
				return err
			}
			if r.ID != string(k) {
				return fmt.Errorf("registration at %s claims id %s", k, r.ID)
			}
			if len(r.Photo) > 0 {
				rep.Photos++
			} else if r.PurgedAt.IsZero() {
				return fmt.Errorf("registration %s: photo missing but never purged", r.ID)
			}
			if tx.Bucket(bktCandidates).Get(append(s.candidatePrefix(r.IDNumber, r.ExamID), r.ID...)) == nil {
				return fmt.Errorf("registration %s: missing from the candidate index", r.ID)
			}
			if r.Status.Queued() {
				seq := tx.Bucket(bktOutboxIDs).Get(idRevKey(r.ID, r.Revision))
				if seq == nil || (tx.Bucket(bktOutbox).Get(seq) == nil && tx.Bucket(bktQuarantine).Get(seq) == nil) {
					return fmt.Errorf("registration %s revision %d: %s but not in the outbox", r.ID, r.Revision, r.Status)
				}
			}
			regs[r.ID] = r.Revision
			rep.Registrations++
			return nil
		})
		if err != nil {
			return err
		}
		for _, bkt := range [][]byte{bktOutbox, bktQuarantine} {
			err := tx.Bucket(bkt).ForEach(func(k, v []byte) error {
				var m QueueEntry
				if err := json.Unmarshal(v, &m); err != nil {
					return fmt.Errorf("%s item %d: %w", bkt, binary.BigEndian.Uint64(k), err)
				}
				doc, err := s.doc(tx, m)
				if err != nil {
					return err
				}
				if len(doc) != m.Bytes {
					return fmt.Errorf("%s item %d: document has %d bytes, expected %d", bkt, m.Seq, len(doc), m.Bytes)
				}
				if _, ok := regs[m.ID]; !ok {
					return fmt.Errorf("%s item %d: registration %s missing", bkt, m.Seq, m.ID)
				}
				rep.OutboxItems++
				return nil
			})
			if err != nil {
				return err
			}
		}
		if sealed := tx.Bucket(bktDevice).Get(keyPrivate); sealed != nil {
			if _, err := s.seal.open(bktDevice, keyPrivate, sealed); err != nil {
				return err
			}
		}
		rep.AuditEntries, err = s.verifyAudit(tx)
		return err
	}()
	return rep, err
}
