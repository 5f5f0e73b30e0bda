package central

import (
	"errors"
	"testing"
	"time"

	"examkiosk/sync/central/store"
	"examkiosk/sync/provider"
	"examkiosk/sync/wire"
)

// The long polls of a session share one wake-up; a change wakes them all,
// and the session's entry is dropped when its last poll ends (a central
// serving many logins keeps none for sessions nobody waits on).
func TestQRWaitersForgotten(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	s := quietOpen(t, cfg)
	defer s.Close()
	ch1, done1 := s.qrWaiter("q1")
	ch2, done2 := s.qrWaiter("q1")
	if ch1 != ch2 {
		t.Fatal("two polls of one session wait on different wake-ups")
	}
	s.qrChanged("q1")
	for i, ch := range []<-chan struct{}{ch1, ch2} {
		select {
		case <-ch:
		default:
			t.Errorf("poll %d not woken by the change", i+1)
		}
	}
	done1()
	if _, ok := s.qrWake["q1"]; !ok {
		t.Fatal("the entry dropped while a poll still waits")
	}
	ch3, done3 := s.qrWaiter("q1")
	select {
	case <-ch3:
		t.Error("a poll after the change is woken by it")
	default:
	}
	done2()
	done3()
	if len(s.qrWake) != 0 {
		t.Errorf("after every poll ended: %d entries", len(s.qrWake))
	}
}

// A session the store cannot open (its sealed record damaged) is the
// central's failure, not an unknown code: the provider is answered with
// an error, not "qr.invalid" as if its user had scanned a wrong code.
func TestQRDamagedSessionIsAnError(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.Demo = true
	s := quietOpen(t, cfg)
	defer s.Close()
	q := qrSession{ID: "q-damaged", Token: "tok-damaged", Device: "dev", Channel: wire.ChannelAlipay,
		State: wire.QRWaiting, Expires: time.Now().Add(time.Minute)}
	if err := s.db.Update(func(tx store.Tx) error {
		if err := s.saveQR(tx, q); err != nil {
			return err
		}
		return tx.Bucket(bQR).Put([]byte(q.ID), []byte("not a sealed record"))
	}); err != nil {
		t.Fatal(err)
	}
	scan, err := s.DemoProvider(wire.ChannelAlipay).Assertion(provider.MethodScan, q.Token, "", "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.applyAssertion(wire.ChannelAlipay, scan)
	var ae *assertionError
	if err == nil || errors.As(err, &ae) {
		t.Errorf("scan of a damaged session: %v, want the store's error", err)
	}
}
