package store

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"examkiosk/app/registration"
	"examkiosk/sync/wire"
)

// TestDuplicateSuspectsAndReview: the store lists the registrations marked
// "duplicate suspected" (with their photos, newest first), pending ones
// until staff decide, and keeps the decision with its audit entry. Written
// for the mutants of duplicate.go that app/store's own tests did not reach
// (docs/MUTATION.md; the app's TestDuplicate* exercise it from above).
func TestDuplicateSuspectsAndReview(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	ph := photo(t, 40<<10, 1)
	a, err := s.Submit(ctx, newReg(t, 1, ph))
	if err != nil {
		t.Fatal(err)
	}
	var marked []registration.Registration
	for n := 2; n <= 3; n++ {
		r := newReg(t, n, ph)
		r.Duplicate = &wire.DuplicateSuspect{RegistrationID: a.ID, Distance: 0.2, Threshold: 0.4, Model: "mobilefacenet.onnx"}
		got, err := s.Submit(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		marked = append(marked, got)
	}
	ids := func(rs []registration.Registration) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return out
	}
	newest := []string{max(marked[0].ID, marked[1].ID), min(marked[0].ID, marked[1].ID)}
	for _, pending := range []bool{false, true} {
		got, err := s.DuplicateSuspects(ctx, pending)
		if err != nil {
			t.Fatal(err)
		}
		if g := ids(got); len(g) != 2 || g[0] != newest[0] || g[1] != newest[1] {
			t.Fatalf("suspects (pending %v) = %v, want %v (newest first, the unmarked one left out)", pending, g, newest)
		}
		for _, r := range got {
			if !bytes.Equal(r.Photo, ph) || r.Duplicate == nil || r.Duplicate.RegistrationID != a.ID {
				t.Errorf("suspect %s without its photo or mark", r.ID)
			}
		}
	}

	if _, err := s.ReviewDuplicate(ctx, marked[0].ID, "maybe"); err == nil {
		t.Error("a decision other than cleared or confirmed was kept")
	}
	if _, err := s.ReviewDuplicate(ctx, a.ID, registration.DuplicateCleared); !errors.Is(err, ErrNotSuspected) {
		t.Errorf("review of an unmarked registration: %v, want ErrNotSuspected", err)
	}
	if _, err := s.ReviewDuplicate(ctx, "no-such-id", registration.DuplicateCleared); err == nil {
		t.Error("review of an unknown registration succeeded")
	}
	r, err := s.ReviewDuplicate(ctx, marked[0].ID, registration.DuplicateConfirmed)
	if err != nil || r.DuplicateReview != registration.DuplicateConfirmed || !r.DuplicateReviewedAt.Equal(t0) || !r.UpdatedAt.Equal(t0) {
		t.Fatalf("ReviewDuplicate = %+v, %v", r.DuplicateReview, err)
	}
	back, err := s.Get(ctx, marked[0].ID)
	if err != nil || back.DuplicateReview != registration.DuplicateConfirmed || back.Duplicate == nil {
		t.Errorf("the decision was not stored: %q, %v", back.DuplicateReview, err)
	}
	if got, _ := s.DuplicateSuspects(ctx, true); len(got) != 1 || got[0].ID != marked[1].ID {
		t.Errorf("pending after one decision: %v, want [%s]", ids(got), marked[1].ID)
	}
	if got, _ := s.DuplicateSuspects(ctx, false); len(got) != 2 {
		t.Errorf("all suspects after one decision: %v, want both", ids(got))
	}
	log, err := s.AuditLog(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range log {
		if e.Kind == "duplicate_confirmed" && e.Subject == marked[0].ID && e.Detail == "matched "+a.ID {
			found = true
		}
	}
	if !found {
		t.Errorf("no audit entry for the decision in %+v", log)
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.DuplicateSuspects(cctx, false); err == nil {
		t.Error("DuplicateSuspects with a cancelled context succeeded")
	}
}
