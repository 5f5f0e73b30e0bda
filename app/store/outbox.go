package store

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"

	"examkiosk/app/registration"
	"examkiosk/sync/wire"
)

// QueueEntry describes one outbox item without its document, for the staff
// console. It holds no personal data.
type QueueEntry struct {
	Seq          uint64    `json:"seq"`
	ID           string    `json:"id"`
	Revision     int       `json:"revision"`
	CandidateKey string    `json:"candidate_key"`
	Bytes        int       `json:"bytes"`
	EnqueuedAt   time.Time `json:"enqueued_at"`
	Reason       string    `json:"reason,omitempty"` // why the central refused it (quarantine only)
}

func idRevKey(id string, rev int) []byte {
	k := make([]byte, 0, len(id)+5)
	k = append(k, id...)
	k = append(k, 0)
	return binary.BigEndian.AppendUint32(k, uint32(rev))
}

// enqueue adds the outbox item for the current revision of reg. The item
// holds no copy of the document: a registration has at most one revision in
// the outbox (a new revision needs a rejection, which needs delivery), so
// Pending builds the document from the sealed record when it is sent.
func (s *Store) enqueue(tx *bolt.Tx, reg registration.Registration, now time.Time) error {
	size, err := docSize(reg)
	if err != nil {
		return fmt.Errorf("outbox: encode %s: %w", reg.ID, err)
	}
	ob := tx.Bucket(bktOutbox)
	seq, err := ob.NextSequence()
	if err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	key := u64(seq)
	meta, err := json.Marshal(QueueEntry{Seq: seq, ID: reg.ID, Revision: reg.Revision,
		CandidateKey: s.candidateKey(reg.IDNumber), Bytes: size, EnqueuedAt: now})
	if err != nil {
		return err
	}
	if err := ob.Put(key, meta); err != nil {
		return fmt.Errorf("outbox: %w", err)
	}
	return tx.Bucket(bktOutboxIDs).Put(idRevKey(reg.ID, reg.Revision), key)
}

// docSize returns the exact length of the JSON of reg.Wire() without
// encoding the photo: encoding/json writes a []byte as a quoted standard
// base64 string (nothing in it needs escaping) and a nil one as null.
func docSize(reg registration.Registration) (int, error) {
	w := reg.Wire()
	photo := w.Photo
	w.Photo = nil
	b, err := json.Marshal(w)
	if err != nil {
		return 0, err
	}
	if photo == nil {
		return len(b), nil
	}
	return len(b) - len("null") + 2 + base64.StdEncoding.EncodedLen(len(photo)), nil
}

// doc builds the wire document of an outbox item from its registration.
func (s *Store) doc(tx *bolt.Tx, m QueueEntry) ([]byte, error) {
	reg, err := s.getReg(tx, m.ID, true)
	if err != nil {
		return nil, fmt.Errorf("outbox item %d: %w", m.Seq, err)
	}
	if reg.Revision != m.Revision || len(reg.Photo) == 0 {
		return nil, fmt.Errorf("outbox item %d: registration %s holds revision %d (%d photo bytes), expected revision %d with its photo",
			m.Seq, m.ID, reg.Revision, len(reg.Photo), m.Revision)
	}
	doc, err := json.Marshal(reg.Wire())
	if err != nil {
		return nil, fmt.Errorf("outbox item %d: encode: %w", m.Seq, err)
	}
	return doc, nil
}

// dequeue removes the item of id/rev from the outbox or quarantine, if any.
func (s *Store) dequeue(tx *bolt.Tx, id string, rev int) error {
	ids := tx.Bucket(bktOutboxIDs)
	k := idRevKey(id, rev)
	seq := ids.Get(k)
	if seq == nil {
		return nil
	}
	seq = append([]byte(nil), seq...)
	for _, b := range [][]byte{bktOutbox, bktQuarantine} {
		if err := tx.Bucket(b).Delete(seq); err != nil {
			return fmt.Errorf("outbox: %w", err)
		}
	}
	return ids.Delete(k)
}

// Pending returns up to limit queued items, oldest first, whose documents
// add up to at most maxBytes (always at least one if any is queued).
// Quarantined items are not returned.
func (s *Store) Pending(ctx context.Context, limit, maxBytes int) ([]wire.OutboxItem, error) {
	var out []wire.OutboxItem
	err := s.view(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(bktOutbox).Cursor()
		total := 0
		for k, v := c.First(); k != nil && len(out) < limit; k, v = c.Next() {
			var m QueueEntry
			if err := json.Unmarshal(v, &m); err != nil {
				return fmt.Errorf("outbox item %d: decode: %w", binary.BigEndian.Uint64(k), err)
			}
			if len(out) > 0 && total+m.Bytes > maxBytes {
				break
			}
			doc, err := s.doc(tx, m)
			if err != nil {
				return err
			}
			total += len(doc)
			out = append(out, wire.OutboxItem{Seq: m.Seq, ID: m.ID, Revision: m.Revision, CandidateKey: m.CandidateKey, Doc: doc})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("outbox pending: %w", err)
	}
	return out, nil
}

// Ack records the central's answers in one transaction: accepted and
// duplicate items are marked delivered and leave the outbox; rejected items
// are quarantined with their reason for staff. Answers for items no longer
// queued (a repeated acknowledgement) are ignored; an unknown status fails
// the whole call and changes nothing.
func (s *Store) Ack(ctx context.Context, results []wire.Result) error {
	now := s.now().UTC()
	err := s.update(ctx, func(tx *bolt.Tx) error {
		for _, r := range results {
			switch r.Status {
			case wire.StatusAccepted, wire.StatusDuplicate:
				if err := s.dequeue(tx, r.ID, r.Revision); err != nil {
					return err
				}
				if err := s.markDelivered(tx, r.ID, r.Revision, now); err != nil {
					return err
				}
			case wire.StatusRejected:
				if err := s.quarantine(tx, r, now); err != nil {
					return err
				}
			default:
				return fmt.Errorf("result for %s revision %d: unknown status %q", r.ID, r.Revision, r.Status)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("outbox ack: %w", err)
	}
	return nil
}

// markDelivered moves a queued registration revision to delivered and
// schedules the purge of its photo. Anything else is left alone.
func (s *Store) markDelivered(tx *bolt.Tx, id string, rev int, now time.Time) error {
	reg, err := s.getReg(tx, id, false)
	if err != nil {
		s.log.Warn("acknowledged registration not found", "id", id, "revision", rev)
		return nil
	}
	if reg.Revision != rev || !reg.Status.Queued() {
		return nil
	}
	return s.advance(tx, &reg, registration.StatusDelivered, now, "central acknowledged")
}

// advance applies one allowed transition to reg, with its side effects, and
// stores it.
func (s *Store) advance(tx *bolt.Tx, reg *registration.Registration, to registration.Status, now time.Time, why string) error {
	if err := registration.Transition(reg.Status, to); err != nil {
		return err
	}
	from := reg.Status
	reg.Status, reg.UpdatedAt = to, now
	if to == registration.StatusDelivered {
		reg.DeliveredAt, reg.Quarantine = now, ""
		if reg.PurgedAt.IsZero() {
			if err := tx.Bucket(bktPurgeDue).Put(purgeKey(now, reg.ID), nil); err != nil {
				return err
			}
		}
	}
	if err := s.putReg(tx, *reg, false); err != nil {
		return err
	}
	return s.appendAudit(tx, now, "status", reg.ID, fmt.Sprintf("revision %d %s → %s: %s", reg.Revision, from, to, why))
}

func (s *Store) quarantine(tx *bolt.Tx, r wire.Result, now time.Time) error {
	seq := tx.Bucket(bktOutboxIDs).Get(idRevKey(r.ID, r.Revision))
	if seq == nil {
		return nil
	}
	ob, qb := tx.Bucket(bktOutbox), tx.Bucket(bktQuarantine)
	v := ob.Get(seq)
	if v == nil {
		return nil // already quarantined
	}
	var m QueueEntry
	if err := json.Unmarshal(v, &m); err != nil {
		return fmt.Errorf("outbox item %d: decode: %w", m.Seq, err)
	}
	m.Reason = r.Reason
	if m.Reason == "" {
		m.Reason = "rejected by the central without a reason"
	}
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	seq = append([]byte(nil), seq...)
	if err := qb.Put(seq, b); err != nil {
		return err
	}
	if err := ob.Delete(seq); err != nil {
		return err
	}
	if reg, err := s.getReg(tx, r.ID, false); err == nil && reg.Revision == r.Revision {
		reg.Quarantine, reg.UpdatedAt = m.Reason, now
		if err := s.putReg(tx, reg, false); err != nil {
			return err
		}
	}
	return s.appendAudit(tx, now, "quarantine", r.ID, fmt.Sprintf("revision %d: %s", r.Revision, clipReason(m.Reason)))
}

func clipReason(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

// Depth reports how many items are queued and how many are quarantined.
func (s *Store) Depth(ctx context.Context) (queued, quarantined int, err error) {
	err = s.view(ctx, func(tx *bolt.Tx) error {
		queued = tx.Bucket(bktOutbox).Stats().KeyN
		quarantined = tx.Bucket(bktQuarantine).Stats().KeyN
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("outbox depth: %w", err)
	}
	return queued, quarantined, nil
}

// Queue lists up to limit queued items (oldest first) without their
// documents, for the staff console.
func (s *Store) Queue(ctx context.Context, limit int) ([]QueueEntry, error) {
	return s.list(ctx, bktOutbox, limit)
}

// Quarantined lists up to limit quarantined items with the central's reasons.
func (s *Store) Quarantined(ctx context.Context, limit int) ([]QueueEntry, error) {
	return s.list(ctx, bktQuarantine, limit)
}

func (s *Store) list(ctx context.Context, bucket []byte, limit int) ([]QueueEntry, error) {
	var out []QueueEntry
	err := s.view(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(bucket).Cursor()
		for k, v := c.First(); k != nil && len(out) < limit; k, v = c.Next() {
			var m QueueEntry
			if err := json.Unmarshal(v, &m); err != nil {
				return fmt.Errorf("%s item %d: decode: %w", bucket, binary.BigEndian.Uint64(k), err)
			}
			out = append(out, m)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", bucket, err)
	}
	return out, nil
}

// Requeue puts a quarantined item back at the end of the queue (after staff
// fixed the cause, e.g. a catalog mismatch).
func (s *Store) Requeue(ctx context.Context, seq uint64) error {
	now := s.now().UTC()
	err := s.update(ctx, func(tx *bolt.Tx) error {
		qb, ob := tx.Bucket(bktQuarantine), tx.Bucket(bktOutbox)
		old := u64(seq)
		v := qb.Get(old)
		if v == nil {
			return fmt.Errorf("quarantined item %d: %w", seq, ErrNotFound)
		}
		var m QueueEntry
		if err := json.Unmarshal(v, &m); err != nil {
			return err
		}
		next, err := ob.NextSequence()
		if err != nil {
			return err
		}
		key := u64(next)
		m.Seq, m.Reason, m.EnqueuedAt = next, "", now
		b, err := json.Marshal(m)
		if err != nil {
			return err
		}
		for _, e := range []error{qb.Delete(old), ob.Put(key, b), tx.Bucket(bktOutboxIDs).Put(idRevKey(m.ID, m.Revision), key)} {
			if e != nil {
				return e
			}
		}
		if reg, err := s.getReg(tx, m.ID, false); err == nil && reg.Revision == m.Revision {
			reg.Quarantine, reg.UpdatedAt = "", now
			if err := s.putReg(tx, reg, false); err != nil {
				return err
			}
		}
		return s.appendAudit(tx, now, "requeue", m.ID, "revision "+strconv.Itoa(m.Revision))
	})
	if err != nil {
		return fmt.Errorf("requeue: %w", err)
	}
	return nil
}
