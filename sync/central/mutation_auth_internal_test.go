package central

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

// The concurrency caps' table keeps only what is in flight: a kiosk's
// entry is gone when its last request ends (a central that serves
// thousands of kiosks does not keep one entry each), and slots freed are
// taken again up to the same caps.
func TestSlotsKeepOnlyWhatIsInFlight(t *testing.T) {
	l := newSlots(3, 2)
	for round := range 2 {
		for _, dev := range []string{"", "", "", "k1", "k1", "k2"} {
			if !l.acquire(dev) {
				t.Fatalf("round %d: %q refused below its cap", round, dev)
			}
		}
		if l.acquire("") || l.acquire("k1") {
			t.Fatalf("round %d: a slot past the cap", round)
		}
		if !l.acquire("k2") {
			t.Fatalf("round %d: k2's second slot refused", round)
		}
		for _, dev := range []string{"", "", "", "k1", "k1", "k2", "k2"} {
			l.release(dev)
		}
		if l.total != 0 || len(l.perDevice) != 0 {
			t.Fatalf("round %d: after every request ended: %d in flight, table %v", round, l.total, l.perDevice)
		}
	}
}

// A device id in the log is cut after 64 bytes, marked by an ellipsis; one
// of exactly 64 is logged whole.
func TestTruncateLoggedDevice(t *testing.T) {
	id := strings.Repeat("k", 64)
	if got := truncate(id, 64); got != id {
		t.Errorf("64 bytes: %q", got)
	}
	if got := truncate(id+"x", 64); got != id+"…" {
		t.Errorf("65 bytes: %q", got)
	}
}

// A provider's assertion is fresh within the clock skew either way, its
// ends included: exactly clock_skew old or ahead is taken, a nanosecond
// more is not.
func TestProviderTimeWithinSkewInclusive(t *testing.T) {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	s, err := Open(cfg, WithLogger(slog.New(slog.DiscardHandler)), WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	skew := cfg.ClockSkew
	for _, tt := range []struct {
		at   time.Time
		want bool
	}{
		{now, true},
		{now.Add(-skew), true},
		{now.Add(skew), true},
		{now.Add(-skew - time.Nanosecond), false},
		{now.Add(skew + time.Nanosecond), false},
	} {
		if got := s.freshProviderTime(tt.at); got != tt.want {
			t.Errorf("assertion at now%+v: fresh %v, want %v", tt.at.Sub(now), got, tt.want)
		}
	}
}
