package central

import (
	"testing"
	"time"
)

// The login throttles' figures (PROTOCOL.md "Account login"): free
// failures, then a lockout that doubles per failure up to its cap, and one
// failure forgotten per leak period.
func TestThrottlePolicyFigures(t *testing.T) {
	for _, tt := range []struct {
		name       string
		p          throttlePolicy
		free       int
		leak, max_ time.Duration
	}{
		{"candidate account", idThrottle, 5, 6 * time.Hour, 24 * time.Hour},
		{"kiosk", deviceThrottle, 30, 2 * time.Minute, time.Hour},
		{"reviewer", staffThrottle, 5, time.Hour, time.Hour},
	} {
		if tt.p.Free != tt.free || tt.p.Leak != tt.leak || tt.p.Base != time.Minute || tt.p.Max != tt.max_ {
			t.Errorf("%s: %+v, want %d free, leak %s, base 1m, max %s", tt.name, tt.p, tt.free, tt.leak, tt.max_)
		}
	}
}

func TestThrottleLockoutGrows(t *testing.T) {
	p := throttlePolicy{Free: 2, Leak: time.Hour, Base: time.Minute, Max: 10 * time.Minute}
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	var r throttleRecord
	// Failures one second apart: none leaks away.
	want := []time.Duration{0, 0, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 10 * time.Minute, 10 * time.Minute}
	for i, w := range want {
		now := t0.Add(time.Duration(i) * time.Second)
		p.fail(&r, now)
		if r.Failures != i+1 || !r.LastFailure.Equal(now) {
			t.Fatalf("failure %d: record %+v", i+1, r)
		}
		if got := r.lockedFor(now); got != w {
			t.Errorf("after failure %d: locked for %s, want %s", i+1, got, w)
		}
	}
	// Locked until exactly LockedUntil, not after.
	end := r.LockedUntil
	if got := r.lockedFor(end.Add(-time.Nanosecond)); got != time.Nanosecond {
		t.Errorf("a nanosecond before the end: %s", got)
	}
	if got := r.lockedFor(end); got != 0 {
		t.Errorf("at the end: %s", got)
	}
	// A lockout beyond 30 doublings is the cap, not an overflow.
	big := throttlePolicy{Free: 0, Leak: 0, Base: time.Minute, Max: 24 * time.Hour}
	var b throttleRecord
	for i := range 40 {
		big.fail(&b, t0)
		if d := b.lockedFor(t0); d <= 0 || d > 24*time.Hour {
			t.Fatalf("failure %d: locked for %s", i+1, d)
		}
	}
	if d := b.lockedFor(t0); d != 24*time.Hour {
		t.Errorf("after 40 failures: %s, want the cap", d)
	}
	if b.Failures != 40 {
		t.Errorf("no leak period: %d failures kept, want 40", b.Failures)
	}
}

func TestThrottleLeak(t *testing.T) {
	p := throttlePolicy{Free: 5, Leak: time.Hour, Base: time.Minute, Max: time.Hour}
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	r := throttleRecord{Failures: 4, LastFailure: t0}
	// Less than a period: nothing leaks.
	p.leak(&r, t0.Add(59*time.Minute))
	if r.Failures != 4 || !r.LastFailure.Equal(t0) {
		t.Fatalf("within the first hour: %+v", r)
	}
	// One period and a half: one failure leaks; the clock of the next
	// leak keeps the half period.
	p.leak(&r, t0.Add(90*time.Minute))
	if r.Failures != 3 || !r.LastFailure.Equal(t0.Add(time.Hour)) {
		t.Fatalf("after 1.5 h: %+v, want 3 failures, last at +1h", r)
	}
	p.leak(&r, t0.Add(2*time.Hour))
	if r.Failures != 2 || !r.LastFailure.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("after 2 h: %+v", r)
	}
	// Exactly as many periods as failures: all leak.
	p.leak(&r, t0.Add(4*time.Hour))
	if r.Failures != 0 {
		t.Fatalf("after 4 h: %+v, want none", r)
	}
	// A failure after the leak counts from zero: no lockout.
	p.fail(&r, t0.Add(4*time.Hour))
	if r.Failures != 1 || r.lockedFor(t0.Add(4*time.Hour)) != 0 {
		t.Errorf("a failure after the leak: %+v", r)
	}
	// Many periods with few failures: nothing negative.
	r = throttleRecord{Failures: 2, LastFailure: t0}
	p.leak(&r, t0.Add(100*time.Hour))
	if r.Failures != 0 {
		t.Errorf("after 100 h: %+v", r)
	}
}

func TestRetryMinutes(t *testing.T) {
	for d, want := range map[time.Duration]int{0: 0, time.Second: 1, time.Minute: 1, time.Minute + time.Nanosecond: 2, 10 * time.Minute: 10} {
		if got := retryMinutes(d); got != want {
			t.Errorf("retryMinutes(%s) = %d, want %d", d, got, want)
		}
	}
	if tkID("x") == tkDevice("x") || tkID("x") == tkStaff("x") || tkDevice("x") == tkStaff("x") {
		t.Error("throttle keys of different kinds collide")
	}
}

func TestGigabytes(t *testing.T) {
	for b, want := range map[uint64]string{0: "0.0 GB", 12_345_678_901: "12.3 GB", 999_999_999: "1.0 GB"} {
		if got := gigabytes(b); got != want {
			t.Errorf("gigabytes(%d) = %q, want %q", b, got, want)
		}
	}
}
