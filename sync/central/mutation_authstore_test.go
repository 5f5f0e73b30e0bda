package central

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"examkiosk/sync/central/store"
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

// Audit returns the newest entries, at most the limit asked for.
func TestAuditLimit(t *testing.T) {
	s, clk, _ := acctServer(t)
	for _, a := range []string{"one", "two", "three"} {
		clk.add(time.Second)
		if err := s.auditNow(auditEntry{Actor: "admin-token", Action: a}); err != nil {
			t.Fatal(err)
		}
	}
	for limit, want := range map[int]string{0: "", 1: "three", 2: "three two", 3: "three two one", 4: "three two one"} {
		es, err := s.Audit(limit)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range es {
			got = append(got, e.Action)
		}
		if strings.Join(got, " ") != want {
			t.Errorf("Audit(%d) = %q, want %q", limit, got, want)
		}
	}
}

// The key of the anonymous form tokens is made once and kept: a form
// opened before a restart is still accepted after it.
func TestFormSecretKeptAcrossRestarts(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	var keys [][]byte
	for range 2 {
		s, err := Open(cfg, WithLogger(slog.New(slog.DiscardHandler)))
		if err != nil {
			t.Fatal(err)
		}
		k, err := s.formSecret()
		s.Close()
		if err != nil || len(k) != 32 || !bytes.Equal(k, s.formKey) {
			t.Fatalf("form key %x (%v), opened with %x", k, err, s.formKey)
		}
		keys = append(keys, k)
	}
	if !bytes.Equal(keys[0], keys[1]) {
		t.Errorf("form key changed across a restart: %x, then %x", keys[0], keys[1])
	}
}

// throttleClear forgets every key it is given (a success clears the
// account's and, when a caller asks, the kiosk's failures alike), and a
// cleared throttle leaves no record behind.
func TestThrottleClearEveryKey(t *testing.T) {
	s, _, _ := acctServer(t)
	keys := []string{tkID("11010519491231002X"), tkDevice("k1"), tkStaff("wang")}
	if err := s.throttleFailed(map[string]throttlePolicy{keys[0]: idThrottle, keys[1]: deviceThrottle, keys[2]: staffThrottle}); err != nil {
		t.Fatal(err)
	}
	if err := s.throttleClear(keys[0], keys[1]); err != nil {
		t.Fatal(err)
	}
	recs, err := s.throttleState(keys...)
	if err != nil {
		t.Fatal(err)
	}
	if recs[0] != (throttleRecord{}) || recs[1] != (throttleRecord{}) || recs[2].Failures != 1 {
		t.Errorf("after clearing the first two: %+v", recs)
	}
	n := 0
	if err := s.db.View(func(tx store.Tx) error {
		return tx.Bucket(bThrottle).ForEach(func(_, _ []byte) error { n++; return nil })
	}); err != nil || n != 1 {
		t.Errorf("%d throttle records stored (%v), want 1", n, err)
	}
}
