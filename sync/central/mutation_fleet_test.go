package central_test

import (
	"slices"
	"testing"
	"time"

	"examkiosk/sync/central"
	"examkiosk/sync/wire"
)

// TestFleetAlertLimits: each alert of the fleet view at its limit and just
// past it, as the staff and a monitoring system see it: no heartbeat for
// exactly the limit, a queue exactly as old as the limit, exactly the low
// disk figure free, the fleet's version itself, are no alert; a nanosecond,
// a byte or a version more is.
func TestFleetAlertLimits(t *testing.T) {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	p := central.FleetPolicy{HeartbeatMissing: 10 * time.Minute, QueueAge: time.Hour, LowDiskBytes: 1 << 30, CurrentVersion: "1.4.0"}
	healthy := func() wire.Health {
		return wire.Health{Camera: "ok", DiskFreeBytes: 8 << 30, Version: "1.4.0"}
	}
	for _, tc := range []struct {
		name   string
		last   time.Duration // heartbeat this long before now
		health func(h *wire.Health)
		want   []string
	}{
		{"all well", time.Minute, nil, nil},
		{"heartbeat exactly at the limit", 10 * time.Minute, nil, nil},
		{"heartbeat just past the limit", 10*time.Minute + time.Nanosecond, nil, []string{central.AlertNoHeartbeat}},
		{"queue exactly at the limit", time.Minute, func(h *wire.Health) { h.QueueDepth, h.OldestQueued = 3, now.Add(-time.Hour) }, nil},
		{"queue just past the limit", time.Minute, func(h *wire.Health) { h.QueueDepth, h.OldestQueued = 3, now.Add(-time.Hour-time.Nanosecond) }, []string{central.AlertQueueOld}},
		{"one item queued too long", time.Minute, func(h *wire.Health) { h.QueueDepth, h.OldestQueued = 1, now.Add(-2*time.Hour) }, []string{central.AlertQueueOld}},
		{"an old time but an empty queue", time.Minute, func(h *wire.Health) { h.QueueDepth, h.OldestQueued = 0, now.Add(-2*time.Hour) }, nil},
		{"disk exactly at the limit", time.Minute, func(h *wire.Health) { h.DiskFreeBytes = 1 << 30 }, nil},
		{"disk a byte under the limit", time.Minute, func(h *wire.Health) { h.DiskFreeBytes = 1<<30 - 1 }, []string{central.AlertLowDisk}},
		{"disk one byte free", time.Minute, func(h *wire.Health) { h.DiskFreeBytes = 1 }, []string{central.AlertLowDisk}},
		{"disk not measured", time.Minute, func(h *wire.Health) { h.DiskFreeBytes = 0 }, nil},
		{"the current version", time.Minute, func(h *wire.Health) { h.Version = "1.4.0" }, nil},
		{"a version behind", time.Minute, func(h *wire.Health) { h.Version = "1.3.9" }, []string{central.AlertVersionBehind}},
		{"a version ahead", time.Minute, func(h *wire.Health) { h.Version = "1.4.1" }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := healthy()
			if tc.health != nil {
				tc.health(&h)
			}
			d := wire.Device{ID: "k1", CentreID: "C1", CentreName: "一中心", EnrolledAt: now.Add(-24 * time.Hour),
				LastHeartbeat: now.Add(-tc.last), Health: &h}
			var got []string
			for _, a := range central.BuildFleet([]wire.Device{d}, now, p).Alerts {
				got = append(got, a.Kind)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("alerts %v, want %v", got, tc.want)
			}
		})
	}
}

// TestFleetCurrentVersionFromActiveKiosks: without a configured version the
// fleet's current one is the newest any active kiosk reports; a revoked
// kiosk's newer version does not count, and a kiosk on the newest raises no
// version alert.
func TestFleetCurrentVersionFromActiveKiosks(t *testing.T) {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	dev := func(id, version string, revoked bool) wire.Device {
		return wire.Device{ID: id, CentreID: "C1", EnrolledAt: now.Add(-time.Hour), LastHeartbeat: now.Add(-time.Minute),
			Revoked: revoked, Health: &wire.Health{Camera: "ok", Version: version}}
	}
	f := central.BuildFleet([]wire.Device{dev("a", "1.9.0", false), dev("b", "1.10.0", false), dev("c", "1.10.0", false), dev("r", "2.0.0", true)},
		now, central.FleetPolicy{HeartbeatMissing: 10 * time.Minute, QueueAge: time.Hour})
	if f.CurrentVersion != "1.10.0" {
		t.Errorf("current version %q, want 1.10.0 (the newest of the active kiosks, compared as numbers)", f.CurrentVersion)
	}
	var behind []string
	for _, a := range f.Alerts {
		if a.Kind == central.AlertVersionBehind {
			behind = append(behind, a.Device)
		}
	}
	if !slices.Equal(behind, []string{"a"}) {
		t.Errorf("version alerts for %v, want [a]", behind)
	}
}
