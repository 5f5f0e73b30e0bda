package store

import (
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"examkiosk/app/registration"
	"examkiosk/sync/wire"
)

// PullCursor returns the cursor saved by the last ApplyPull ("" at first).
func (s *Store) PullCursor(ctx context.Context) (string, error) {
	var cur string
	err := s.view(ctx, func(tx *bolt.Tx) error {
		cur = string(tx.Bucket(bktDevice).Get(keyCursor))
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("pull cursor: %w", err)
	}
	return cur, nil
}

// ApplyPull applies the central's status updates and, if newer than the
// stored one, its catalog, and saves the cursor, all in one transaction.
//
// Updates are idempotent: a repeated update changes nothing. An update for a
// registration this kiosk does not hold, for an older revision, or one that
// the lifecycle does not allow from the current status (it arrived out of
// order) is skipped and logged, never failing the pull. A decision that
// overtook the delivery acknowledgement (under_review while the kiosk still
// shows submitted) implies delivery: the registration passes through
// delivered and its outbox item is dropped.
func (s *Store) ApplyPull(ctx context.Context, p wire.Pull) error {
	now := s.now().UTC()
	err := s.update(ctx, func(tx *bolt.Tx) error {
		for _, u := range p.Updates {
			if err := s.applyUpdate(tx, u, now); err != nil {
				return err
			}
		}
		if p.Catalog != nil {
			cur, err := s.catalog(tx)
			if err != nil {
				return err
			}
			if cur == nil || p.Catalog.Version > cur.Version {
				if err := s.putCatalog(tx, *p.Catalog, now); err != nil {
					return err
				}
			}
		}
		return tx.Bucket(bktDevice).Put(keyCursor, []byte(p.Cursor))
	})
	if err != nil {
		return fmt.Errorf("apply pull: %w", err)
	}
	return nil
}

// centralStatuses are the statuses an Update may carry.
func centralStatus(s string) (registration.Status, bool) {
	switch st := registration.Status(s); st {
	case registration.StatusUnderReview, registration.StatusApproved, registration.StatusRejected,
		registration.StatusPaid, registration.StatusExpired:
		return st, true
	}
	return "", false
}

func (s *Store) applyUpdate(tx *bolt.Tx, u wire.Update, now time.Time) error {
	skip := func(why string) error {
		s.log.Warn("pulled update skipped", "id", u.RegistrationID, "revision", u.Revision, "status", u.Status, "why", why)
		return nil
	}
	to, ok := centralStatus(u.Status)
	if !ok {
		return skip("unknown status")
	}
	reg, err := s.getReg(tx, u.RegistrationID, false)
	if err != nil {
		return skip("registration not on this kiosk")
	}
	if u.Revision != reg.Revision {
		return skip(fmt.Sprintf("kiosk holds revision %d", reg.Revision))
	}
	if reg.Status == to {
		// Repeated update: refresh what it carries, nothing else.
		if to == registration.StatusRejected && reg.Reason != u.Reason ||
			to == registration.StatusApproved && (reg.PaymentURL != u.PaymentURL || !reg.PayBy.Equal(u.PayBy)) {
			reg.Reason, reg.PaymentURL, reg.PayBy = u.Reason, u.PaymentURL, u.PayBy
			return s.putReg(tx, reg, false)
		}
		if to == registration.StatusPaid && u.Ticket != nil && reg.Ticket == nil {
			// The admission ticket: issued once, kept as it came.
			reg.Ticket, reg.UpdatedAt = u.Ticket, now
			if err := s.putReg(tx, reg, false); err != nil {
				return err
			}
			// The ticket's photo is kept to print it until the exam is over.
			if err := tx.Bucket(bktPurgeDue).Put(purgeKey(u.Ticket.EndsAt, reg.ID), nil); err != nil {
				return err
			}
			return s.appendAudit(tx, now, "ticket", reg.ID, fmt.Sprintf("revision %d: admission ticket %s", reg.Revision, u.Ticket.Number))
		}
		return nil
	}
	path := registration.Path(reg.Status, to)
	if path == nil {
		return skip(fmt.Sprintf("not allowed from %s", reg.Status))
	}
	if reg.Status.Queued() {
		if err := s.dequeue(tx, reg.ID, reg.Revision); err != nil {
			return err
		}
	}
	switch to {
	case registration.StatusRejected:
		reg.Reason = u.Reason
	case registration.StatusApproved:
		reg.PaymentURL, reg.PayBy = u.PaymentURL, u.PayBy
	case registration.StatusPaid:
		if reg.Ticket = u.Ticket; u.Ticket != nil {
			if err := tx.Bucket(bktPurgeDue).Put(purgeKey(u.Ticket.EndsAt, reg.ID), nil); err != nil {
				return err
			}
		}
	}
	for _, st := range path {
		if err := s.advance(tx, &reg, st, now, "central "+u.At.UTC().Format(time.RFC3339)); err != nil {
			return err
		}
	}
	return nil
}
