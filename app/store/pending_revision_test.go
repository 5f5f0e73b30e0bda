package store

import (
	"context"
	"testing"

	"examkiosk/app/registration"
	"examkiosk/sync/wire"
)

// A revision is "not yet delivered" (the kiosk's pending flag: DeliveredAt
// zero, the outbox holding it) until the central acknowledges that very
// revision or decides on it: answers and updates about the revision before
// it, arriving late, leave it pending.
func TestRevisionPendingUntilItsOwnAck(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	r, err := s.Submit(ctx, newReg(t, 1, photo(t, 10<<10, 11)))
	if err != nil {
		t.Fatal(err)
	}
	ack := func(rev int, status string) {
		t.Helper()
		if err := s.Ack(ctx, []wire.Result{{ID: r.ID, Revision: rev, Status: status}}); err != nil {
			t.Fatal(err)
		}
	}
	pull := func(cursor string, ups ...wire.Update) {
		t.Helper()
		if err := s.ApplyPull(ctx, wire.Pull{Updates: ups, Cursor: cursor}); err != nil {
			t.Fatal(err)
		}
	}
	pending := func(when string) {
		t.Helper()
		g, err := s.Get(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		q, _, _ := s.Depth(ctx)
		if g.Revision != 2 || g.Status != registration.StatusResubmitted || !g.DeliveredAt.IsZero() || q != 1 {
			t.Fatalf("%s: revision %d %s delivered at %v, %d queued; want revision 2 still pending", when, g.Revision, g.Status, g.DeliveredAt, q)
		}
	}
	ack(1, wire.StatusAccepted)
	pull("c1", wire.Update{RegistrationID: r.ID, Revision: 1, Status: "rejected", Reason: "照片不符合要求", At: t0})
	re := newReg(t, 1, photo(t, 10<<10, 12))
	re.ID = r.ID
	if _, err := s.Resubmit(ctx, re); err != nil {
		t.Fatal(err)
	}
	pending("after the resubmission")
	ack(1, wire.StatusDuplicate) // revision 1 delivered again by a retry
	pending("after a late answer for revision 1")
	pull("c2", wire.Update{RegistrationID: r.ID, Revision: 1, Status: "under_review", At: t0},
		wire.Update{RegistrationID: r.ID, Revision: 1, Status: "rejected", Reason: "照片不符合要求", At: t0})
	pending("after updates for revision 1")
	ack(2, wire.StatusAccepted)
	if g, _ := s.Get(ctx, r.ID); g.Status != registration.StatusDelivered || g.DeliveredAt.IsZero() {
		t.Fatalf("revision 2 acknowledged: %s delivered at %v", g.Status, g.DeliveredAt)
	}
	if q, _, _ := s.Depth(ctx); q != 0 {
		t.Fatalf("%d still queued after revision 2's acknowledgement", q)
	}
}
