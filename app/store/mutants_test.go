package store

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"examkiosk/app/registration"
	"examkiosk/sync/wire"
)

// Tests for mutants that survived the store's tests (docs/MUTATION.md).

// TestRepeatedDecisionRefreshes: the central sends a decision again with a
// corrected reason or new payment details; the kiosk shows the new ones.
func TestRepeatedDecisionRefreshes(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	apply := func(cursor string, u wire.Update) registration.Registration {
		t.Helper()
		if err := s.ApplyPull(ctx, wire.Pull{Updates: []wire.Update{u}, Cursor: cursor}); err != nil {
			t.Fatal(err)
		}
		g, err := s.Get(ctx, u.RegistrationID)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	rej, _ := s.Submit(ctx, newReg(t, 1, photo(t, 5<<10, 1)))
	u := wire.Update{RegistrationID: rej.ID, Revision: 1, Status: "rejected", Reason: "照片背景不符", At: t0}
	apply("1", u)
	u.Reason = "照片背景不符，请用白色背景重拍"
	if g := apply("2", u); g.Status != registration.StatusRejected || g.Reason != u.Reason {
		t.Errorf("repeated rejection: %s %q; want the corrected reason %q", g.Status, g.Reason, u.Reason)
	}

	ok, _ := s.Submit(ctx, newReg(t, 2, photo(t, 5<<10, 2)))
	a := wire.Update{RegistrationID: ok.ID, Revision: 1, Status: "approved", PaymentURL: "https://pay.example/1", PayBy: t0.AddDate(0, 0, 3), At: t0}
	apply("3", a)
	a.PaymentURL, a.PayBy = "https://pay.example/2", t0.AddDate(0, 0, 5)
	if g := apply("4", a); g.PaymentURL != a.PaymentURL || !g.PayBy.Equal(a.PayBy) {
		t.Errorf("repeated approval: %q %v; want %q %v", g.PaymentURL, g.PayBy, a.PaymentURL, a.PayBy)
	}
	a.PayBy = t0.AddDate(0, 0, 6) // only the deadline moves
	if g := apply("5", a); !g.PayBy.Equal(a.PayBy) {
		t.Errorf("repeated approval: pay by %v; want %v", g.PayBy, a.PayBy)
	}
}

// TestDeviceIDLength: device ids of 1 to 64 bytes are stored, 65 refused.
func TestDeviceIDLength(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	_, priv, _ := ed25519.GenerateKey(nil)
	for _, c := range []struct {
		id string
		ok bool
	}{{"k", true}, {strings.Repeat("k", 64), true}, {strings.Repeat("k", 65), false}, {"", false}} {
		err := s.PutIdentity(ctx, Identity{DeviceID: c.id, PrivateKey: priv})
		if (err == nil) != c.ok {
			t.Errorf("device id of %d bytes: %v; want ok=%v", len(c.id), err, c.ok)
		}
	}
}

// TestTruncatedSealedValue: a sealed value cut short anywhere is refused as
// malformed, never a panic (a damaged file must not crash the kiosk).
func TestTruncatedSealedValue(t *testing.T) {
	s := openTest(t)
	v := s.seal.seal(bktRegs, []byte("k"), []byte("plain text"))
	for n := 0; n < len(v); n++ {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("open of %d of %d bytes panicked: %v", n, len(v), r)
				}
			}()
			if _, err := s.seal.open(bktRegs, []byte("k"), v[:n]); err == nil {
				t.Fatalf("open of %d of %d bytes succeeded", n, len(v))
			}
		}()
	}
}

// TestAuditAppends: Store.Audit records what the application did (a staff
// login, an export) in the chained log, newest first in AuditLog, and the
// chain verifies; on a closed store it fails, naming the entry's kind.
func TestAuditAppends(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	if err := s.Audit(ctx, "staff_login", "staff-7", "from the kiosk"); err != nil {
		t.Fatalf("Audit: %v", err)
	}
	if err := s.Audit(ctx, "export", "", "12 registrations"); err != nil {
		t.Fatalf("Audit: %v", err)
	}
	log, err := s.AuditLog(ctx, 100)
	if err != nil || len(log) < 2 {
		t.Fatalf("AuditLog: %d entries, %v", len(log), err)
	}
	if e := log[0]; e.Kind != "export" || e.Detail != "12 registrations" {
		t.Errorf("newest entry %+v; want the export", e)
	}
	if e := log[1]; e.Kind != "staff_login" || e.Subject != "staff-7" || e.Detail != "from the kiosk" {
		t.Errorf("second entry %+v; want the staff login", e)
	}
	if n, err := s.VerifyAudit(ctx); err != nil || n != len(log) {
		t.Errorf("VerifyAudit: %d, %v; want %d entries verified", n, err, len(log))
	}
	s.Close()
	if err := s.Audit(ctx, "staff_logout", "staff-7", ""); err == nil || !strings.Contains(err.Error(), "staff_logout") {
		t.Errorf("Audit on a closed store: %v; want an error naming the kind", err)
	}
}

// TestAuditBrokenChainNamed: an entry whose link to the one before was
// changed (its own MAC made with the real key, as by someone holding it
// who rewrote one entry) is refused, and the error names both entries so
// the auditor knows where the chain breaks.
func TestAuditBrokenChainNamed(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	for _, kind := range []string{"staff_login", "export", "staff_logout"} {
		if err := s.Audit(ctx, kind, "", ""); err != nil {
			t.Fatal(err)
		}
	}
	var verr error
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bktAudit)
		var e AuditEntry
		if err := json.Unmarshal(b.Get(u64(2)), &e); err != nil {
			return err
		}
		e.Prev = strings.Repeat("0", len(e.Prev))
		e.MAC = s.auditMAC(e)
		j, _ := json.Marshal(e)
		if err := b.Put(u64(2), j); err != nil {
			return err
		}
		_, verr = s.verifyAudit(tx)
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatal(err)
	}
	if verr == nil || !strings.Contains(verr.Error(), "entry 2 does not follow entry 1") {
		t.Fatalf("verifyAudit with entry 2 relinked: %v; want it to name entry 2 and entry 1", verr)
	}
}

// TestAckShortUnknownIDs: acknowledgements for ids the store never queued,
// however short (an empty id, one character), change nothing and crash
// nothing; the queued registration stays queued.
func TestAckShortUnknownIDs(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	r, err := s.Submit(ctx, newReg(t, 1, photo(t, 5<<10, 1)))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"", "x", "abcd"} {
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Errorf("Ack of id %q: panic %v", id, p)
				}
			}()
			s.Ack(ctx, []wire.Result{{ID: id, Revision: 1, Status: wire.StatusAccepted}})
		}()
	}
	if st, err := s.Stats(ctx); err != nil || st.Queued != 1 {
		t.Errorf("after the unknown acknowledgements: %+v, %v; want %s still queued", st, err, r.ID)
	}
}

// TestPendingByteLimitInclusive: a batch whose documents add up to exactly
// maxBytes is sent whole; one byte less leaves the last item for the next.
func TestPendingByteLimitInclusive(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	ph := photo(t, 30<<10, 4)
	for i := range 3 {
		if _, err := s.Submit(ctx, newReg(t, 200+i, ph)); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.Pending(ctx, 10, 1<<30)
	if err != nil || len(all) != 3 {
		t.Fatalf("Pending: %d items, %v", len(all), err)
	}
	two := len(all[0].Doc) + len(all[1].Doc)
	for maxBytes, want := range map[int]int{two: 2, two - 1: 1} {
		items, err := s.Pending(ctx, 10, maxBytes)
		if err != nil || len(items) != want {
			t.Errorf("Pending(10, %d) with two documents of %d bytes together: %d items, %v; want %d", maxBytes, two, len(items), err, want)
		}
	}
}
