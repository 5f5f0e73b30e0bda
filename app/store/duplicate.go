package store

import (
	"context"
	"errors"
	"fmt"
	"sort"

	bolt "go.etcd.io/bbolt"

	"examkiosk/app/registration"
)

// ErrNotSuspected is returned by ReviewDuplicate for a registration that
// carries no "duplicate suspected" mark.
var ErrNotSuspected = errors.New("registration is not marked duplicate suspected")

// DuplicateSuspects returns the registrations marked "duplicate suspected"
// (a live face that matched a registration under another ID number), with
// their photos, newest first; pending limits it to those staff have not
// decided yet.
func (s *Store) DuplicateSuspects(ctx context.Context, pending bool) ([]registration.Registration, error) {
	var out []registration.Registration
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bktRegs).ForEach(func(k, _ []byte) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			r, err := s.getReg(tx, string(k), false)
			if err != nil {
				return err
			}
			if r.Duplicate == nil || (pending && r.DuplicateReview != "") {
				return nil
			}
			if r, err = s.getReg(tx, string(k), true); err != nil {
				return err
			}
			out = append(out, r)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("duplicate suspects: %w", err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID > out[j].ID })
	return out, nil
}

// ReviewDuplicate records a member of staff's decision on the duplicate
// mark of registration id: registration.DuplicateCleared (two different
// people) or registration.DuplicateConfirmed (one person under two ID
// numbers). The decision
// and its audit entry are written in one transaction; a decided mark may
// be decided again (the audit log keeps both).
func (s *Store) ReviewDuplicate(ctx context.Context, id, decision string) (registration.Registration, error) {
	if decision != registration.DuplicateCleared && decision != registration.DuplicateConfirmed {
		return registration.Registration{}, fmt.Errorf("review duplicate %s: decision %q, want %q or %q", id, decision, registration.DuplicateCleared, registration.DuplicateConfirmed)
	}
	now := s.now().UTC()
	var r registration.Registration
	err := s.update(ctx, func(tx *bolt.Tx) error {
		var err error
		if r, err = s.getReg(tx, id, false); err != nil {
			return err
		}
		if r.Duplicate == nil {
			return fmt.Errorf("registration %s: %w", id, ErrNotSuspected)
		}
		r.DuplicateReview, r.DuplicateReviewedAt, r.UpdatedAt = decision, now, now
		if err := s.putReg(tx, r, false); err != nil {
			return err
		}
		return s.appendAudit(tx, now, "duplicate_"+decision, id, "matched "+r.Duplicate.RegistrationID)
	})
	if err != nil {
		return r, fmt.Errorf("review duplicate: %w", err)
	}
	return r, nil
}
