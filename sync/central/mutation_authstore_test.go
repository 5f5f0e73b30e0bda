package central

import (
	"testing"
	"time"

	"examkiosk/sync/wire"
)

// The access state at its limits (authstore.go): what the audit log says
// of a password set and of one reset, and a login throttle kept for
// exactly a day of quiet.

// A first password is audited as set, a second one (the forgotten
// password of a verified identity) as reset: staff tell an account taken
// over by its reset from a new one.
func TestPasswordSetThenResetAudited(t *testing.T) {
	s, _, errs := acctServer(t)
	id := wire.Identity{Name: "赵六", IDNumber: "11010519491231002X", Source: "alipay_qr"}
	for _, actor := range []string{"device:k1", "device:k2"} {
		if err := s.setAccountPassword(id, []byte("$2a$10$hash"), actor); err != nil {
			t.Fatal(err)
		}
	}
	es, err := s.Audit(10)
	if err != nil {
		t.Fatal(err)
	}
	want := []AuditEntry{ // newest first
		{Actor: "device:k2", Action: "password_reset", Target: "110105**********2X", Detail: "verified by alipay_qr"},
		{Actor: "device:k1", Action: "password_set", Target: "110105**********2X", Detail: "verified by alipay_qr"},
	}
	if len(es) != len(want) {
		t.Fatalf("audit %+v, want %+v", es, want)
	}
	for i, e := range es {
		e.At = time.Time{}
		if e != want[i] {
			t.Errorf("audit entry %d: %+v, want %+v", i, e, want[i])
		}
	}
	errs.none(t)
}

// A login throttle is forgotten after more than a day without a failure
// (and not while locked): exactly a day of quiet keeps it.
func TestThrottleKeptForExactlyADay(t *testing.T) {
	s, clk, _ := acctServer(t)
	now := clk.now()
	if err := s.throttleUpdate(func(k string, r *throttleRecord) {
		switch k {
		case "day":
			r.Failures, r.LastFailure = 2, now.Add(-24*time.Hour)
		case "day+1ns":
			r.Failures, r.LastFailure = 2, now.Add(-24*time.Hour-time.Nanosecond)
		}
	}, "day", "day+1ns"); err != nil {
		t.Fatal(err)
	}
	if n, err := s.pruneAuthState(); err != nil || n != 1 {
		t.Fatalf("pruned %d (%v), want 1", n, err)
	}
	recs, err := s.throttleState("day", "day+1ns")
	if err != nil {
		t.Fatal(err)
	}
	if recs[0].Failures != 2 || recs[1].Failures != 0 {
		t.Errorf("after pruning: %+v, want the day-old throttle kept, the older one gone", recs)
	}
}
