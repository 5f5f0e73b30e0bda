package central

import (
	"errors"
	"testing"
	"time"

	"examkiosk/sync/central/store"
	"examkiosk/sync/wire"
)

// Maintenance prunes what has expired and keeps what has not: reviewer
// sessions past their end, throttles quiet for a day and no longer locked,
// password tickets, QR sessions (with their token index) and attempt
// windows past their expiry. A live session, a recent or still-locked
// throttle and an unexpired ticket or QR session stay.
func TestPruneAuthState(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	s := quietOpen(t, cfg)
	defer s.Close()
	now := time.Now() // every record is dated relative to the real clock
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.putSession("live", sessionRecord{Reviewer: "a", ExpiresAt: now.Add(time.Hour)}))
	must(s.putSession("ended", sessionRecord{Reviewer: "b", ExpiresAt: now.Add(-time.Second)}))
	must(s.throttleUpdate(func(k string, r *throttleRecord) {
		switch k {
		case "quiet":
			r.Failures, r.LastFailure = 3, now.Add(-25*time.Hour)
		case "recent":
			r.Failures, r.LastFailure = 3, now.Add(-23*time.Hour)
		case "locked":
			r.Failures, r.LastFailure, r.LockedUntil = 40, now.Add(-25*time.Hour), now.Add(time.Hour)
		}
	}, "quiet", "recent", "locked"))
	id := wire.Identity{Name: "张三", IDNumber: "11010519491231002X", Source: "alipay_qr"}
	oldTicket := s.newTicket(id, "dev", now.Add(-passwordTicketTTL-time.Second))
	newTicket := s.newTicket(id, "dev", now)
	must(s.db.Update(func(tx store.Tx) error {
		if err := s.saveQR(tx, qrSession{ID: "q-old", Token: "tok-old", Device: "dev", State: wire.QRWaiting, Expires: now.Add(-11 * time.Minute)}); err != nil {
			return err
		}
		// Expired five minutes ago: kept ten minutes past its expiry, so
		// that a kiosk's last poll still learns it expired.
		if err := s.saveQR(tx, qrSession{ID: "q-grace", Token: "tok-grace", Device: "dev", State: wire.QRWaiting, Expires: now.Add(-5 * time.Minute)}); err != nil {
			return err
		}
		return s.saveQR(tx, qrSession{ID: "q-new", Token: "tok-new", Device: "dev", State: wire.QRWaiting, Expires: now.Add(time.Minute)})
	}))
	a := &attempts{window: time.Minute, max: 3}
	if ok, err := s.allowAttempt(a, "k-old", now.Add(-2*time.Minute)); !ok || err != nil {
		t.Fatalf("attempt: %v %v", ok, err)
	}
	if ok, err := s.allowAttempt(a, "k-new", now); !ok || err != nil {
		t.Fatalf("attempt: %v %v", ok, err)
	}

	n, err := s.pruneAuthState()
	if err != nil {
		t.Fatal(err)
	}
	// ended session, quiet throttle, old ticket, old QR session, old window.
	if n != 5 {
		t.Errorf("pruned %d, want 5", n)
	}
	if _, err := s.getSession("live"); err != nil {
		t.Errorf("live session: %v", err)
	}
	if _, err := s.getSession("ended"); !errors.Is(err, errNotFound) {
		t.Errorf("ended session: %v, want gone", err)
	}
	recs, err := s.throttleState("quiet", "recent", "locked")
	if err != nil {
		t.Fatal(err)
	}
	if recs[0].Failures != 0 || recs[1].Failures != 3 || recs[2].Failures != 40 {
		t.Errorf("throttles after pruning: %+v", recs)
	}
	if _, ok := s.takeTicket(oldTicket, "dev"); ok {
		t.Error("an expired ticket survived")
	}
	if _, ok := s.takeTicket(newTicket, "dev"); !ok {
		t.Error("a valid ticket was pruned")
	}
	must(s.db.View(func(tx store.Tx) error {
		if _, err := s.qrByToken(tx, "tok-old"); !errors.Is(err, errNotFound) || tx.Bucket(bQRTokens).Get(qrTokenKey("tok-old")) != nil {
			t.Errorf("expired QR session or its token index kept: %v", err)
		}
		if q, err := s.qrByToken(tx, "tok-new"); err != nil || q.ID != "q-new" {
			t.Errorf("live QR session: %+v %v", q, err)
		}
		if q, err := s.qrByToken(tx, "tok-grace"); err != nil || q.effectiveState(now) != wire.QRExpired {
			t.Errorf("QR session within ten minutes of its expiry: %+v %v, want kept and expired", q, err)
		}
		return nil
	}))
	if n, err := s.pruneAuthState(); err != nil || n != 0 {
		t.Errorf("pruning again: %d (%v), want 0", n, err)
	}
}
