package central

import (
	"time"
)

// throttlePolicy is a leaky bucket of failures with a growing lockout: Free
// failures cost nothing, one failure leaks away every Leak, and each failure
// beyond Free locks the key for Base doubled per further failure, up to Max.
type throttlePolicy struct {
	Free      int
	Leak      time.Duration
	Base, Max time.Duration
}

// The throttles of password logins (see PROTOCOL.md "Account login" for the
// figures behind them).
var (
	// idThrottle guards one candidate account (also an unknown ID number, so
	// that a lockout tells nothing about which accounts exist).
	idThrottle = throttlePolicy{Free: 5, Leak: 6 * time.Hour, Base: time.Minute, Max: 24 * time.Hour}
	// deviceThrottle guards all account logins through one kiosk: a busy
	// centre's typos (30 an hour) never lock it, a script does.
	deviceThrottle = throttlePolicy{Free: 30, Leak: 2 * time.Minute, Base: time.Minute, Max: time.Hour}
	// staffThrottle guards one reviewer name.
	staffThrottle = throttlePolicy{Free: 5, Leak: time.Hour, Base: time.Minute, Max: time.Hour}
)

// leak forgets the failures that leaked away since the last one.
func (p throttlePolicy) leak(r *throttleRecord, now time.Time) {
	if r.Failures > 0 && p.Leak > 0 {
		gone := int(now.Sub(r.LastFailure) / p.Leak)
		if gone >= r.Failures {
			r.Failures = 0
		} else if gone > 0 {
			r.Failures -= gone
			r.LastFailure = r.LastFailure.Add(time.Duration(gone) * p.Leak)
		}
	}
}

// fail records a failure at now.
func (p throttlePolicy) fail(r *throttleRecord, now time.Time) {
	p.leak(r, now)
	r.Failures++
	r.LastFailure = now
	if excess := r.Failures - p.Free; excess > 0 {
		// Base doubled excess-1 times, if that stays within Max (compared
		// as Max halved, so that the doubling never overflows).
		d := p.Max
		if k := excess - 1; k < 63 && p.Base <= p.Max>>k {
			d = p.Base << k
		}
		r.LockedUntil = now.Add(d)
	}
}

// lockedFor is how long the key stays locked at now (0: not locked).
func (r throttleRecord) lockedFor(now time.Time) time.Duration {
	if now.Before(r.LockedUntil) {
		return r.LockedUntil.Sub(now)
	}
	return 0
}

// throttled returns how long the longest lock among keys lasts (0: none).
func (s *Server) throttled(keys ...string) (time.Duration, error) {
	recs, err := s.throttleState(keys...)
	if err != nil {
		return 0, err
	}
	now := s.now()
	var wait time.Duration
	for _, r := range recs {
		wait = max(wait, r.lockedFor(now))
	}
	return wait, nil
}

// throttleFailed records a failure on each key under its policy.
func (s *Server) throttleFailed(keys map[string]throttlePolicy) error {
	now := s.now()
	names := make([]string, 0, len(keys))
	for k := range keys {
		names = append(names, k)
	}
	return s.throttleUpdate(func(k string, r *throttleRecord) { keys[k].fail(r, now) }, names...)
}

// throttleClear forgets the failures of keys (after a success or a fresh
// proof of identity).
func (s *Server) throttleClear(keys ...string) error {
	return s.throttleUpdate(func(_ string, r *throttleRecord) { *r = throttleRecord{} }, keys...)
}

func tkID(idn string) string     { return "id:" + idn }
func tkDevice(dev string) string { return "device:" + dev }
func tkStaff(name string) string { return "staff:" + name }

// retryMinutes rounds a lockout up to whole minutes for people.
func retryMinutes(d time.Duration) int { return int((d + time.Minute - 1) / time.Minute) }
