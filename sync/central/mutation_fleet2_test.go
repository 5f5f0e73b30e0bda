package central_test

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"examkiosk/sync/central"
	"examkiosk/sync/testbed"
	"examkiosk/sync/wire"
)

// The fleet's current version is the newest an active kiosk reports,
// whatever order the kiosks are listed in; a kiosk on the same version
// written another way ("v1.10.0", "1.010.0") is not behind and does not
// rename it (a monitoring system keys on the name).
func TestFleetCurrentVersionNewestInAnyOrder(t *testing.T) {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	dev := func(id, version string) wire.Device {
		return wire.Device{ID: id, CentreID: "C1", EnrolledAt: now.Add(-time.Hour), LastHeartbeat: now.Add(-time.Minute),
			Health: &wire.Health{Camera: "ok", Version: version}}
	}
	p := central.FleetPolicy{HeartbeatMissing: 10 * time.Minute, QueueAge: time.Hour}
	for _, devs := range [][]wire.Device{
		{dev("a", "1.10.0"), dev("b", "1.9.0"), dev("c", "v1.10.0"), dev("d", "1.010.0"), dev("e", "1.2.0")},
		{dev("e", "1.2.0"), dev("a", "1.10.0"), dev("b", "1.9.0"), dev("c", "v1.10.0"), dev("d", "1.010.0")},
	} {
		var order []string
		for _, d := range devs {
			order = append(order, d.ID)
		}
		f := central.BuildFleet(devs, now, p)
		if f.CurrentVersion != "1.10.0" {
			t.Errorf("kiosks %v: current version %q, want 1.10.0 (the first newest reported)", order, f.CurrentVersion)
		}
		var behind []string
		for _, a := range f.Alerts {
			if a.Kind == central.AlertVersionBehind {
				behind = append(behind, a.Device)
			}
		}
		slices.Sort(behind)
		if !slices.Equal(behind, []string{"b", "e"}) {
			t.Errorf("kiosks %v: version alerts for %v, want [b e]", order, behind)
		}
	}
}

// Nines are digits like any other: 1.9 is newer than 1.8, 1.19 than 1.18,
// 9 than 8, and 1.9 is older than 1.10. (Equal versions come last: a
// comparison that does not end would hide the others' answers.)
func TestCompareVersionsNines(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"1.9", "1.8", 1}, {"1.8", "1.9", -1}, {"1.19", "1.18", 1}, {"9", "8", 1}, {"0.9.1", "0.8.9", 1},
		{"1.9", "1.10", -1}, {"1.99", "1.100", -1}, {"9", "10", -1},
		{"1.9", "1.9", 0}, {"v9.9.9", "9.9.9", 0}, {"1.09", "1.9", 0},
	} {
		if got := central.CompareVersions(tc.a, tc.b); got != tc.want {
			t.Fatalf("CompareVersions(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

// The fleet page words each alert's figure as staff read it (hours and
// minutes without a heartbeat, GiB free) and the disk column in GiB;
// /metrics gives each figure exactly (the free bytes, the heartbeat's Unix
// time, the oldest queued item's age, 0 when the queue is empty whatever
// time the kiosk still reports). Serving them logs no error.
func TestFleetFiguresExact(t *testing.T) {
	clk := &fleetClock{now: time.Date(2026, 3, 2, 8, 30, 0, 0, time.UTC)}
	var logs syncBuffer
	c := testbed.StartCentral(t, central.DefaultConfig(), central.WithClock(clk.Now), central.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	code := func() string {
		code, _, err := c.Server().NewEnrolmentCode(central.DemoCentreID)
		if err != nil {
			t.Fatal(err)
		}
		return code
	}
	healthy := wire.Health{Camera: "ok", DiskFreeBytes: 50 << 30, Version: "1.4.0", Model: "m"}
	backlog := healthy
	backlog.OldestQueued = clk.Now().Add(-90 * time.Minute)
	queued := newSimKiosk(t, c, clk, code(), "queued", 7, backlog)
	stale := newSimKiosk(t, c, clk, code(), "stale", 0, backlog) // delivered; the time is left over
	low := healthy
	low.DiskFreeBytes = 300 << 20
	full := newSimKiosk(t, c, clk, code(), "full", 0, low)
	quiet := newSimKiosk(t, c, clk, code(), "quiet", 0, healthy)
	for _, k := range []*simKiosk{queued, stale, full, quiet} {
		k.beat(t)
	}
	beat := clk.Now()
	metric := func(metrics, name string, k *simKiosk) float64 {
		t.Helper()
		prefix := name + `{centre="` + k.id.Centre.ID + `",device="` + k.id.DeviceID + `"} `
		for _, line := range strings.Split(metrics, "\n") {
			if v, ok := strings.CutPrefix(line, prefix); ok {
				f, err := strconv.ParseFloat(v, 64)
				if err != nil {
					t.Fatalf("%s: %v", line, err)
				}
				return f
			}
		}
		t.Fatalf("/metrics has no %s…:\n%s", prefix, metrics)
		return 0
	}
	m := getBody(t, c.URL+"/metrics")
	for _, tc := range []struct {
		name string
		k    *simKiosk
		want float64
	}{
		{"examkiosk_kiosk_disk_free_bytes", queued, 50 << 30},
		{"examkiosk_kiosk_disk_free_bytes", full, 300 << 20},
		{"examkiosk_kiosk_last_heartbeat_timestamp_seconds", quiet, float64(beat.Unix())},
		{"examkiosk_kiosk_queue_oldest_age_seconds", queued, 5400},
		{"examkiosk_kiosk_queue_oldest_age_seconds", stale, 0},
		{"examkiosk_kiosk_queue_depth", queued, 7},
	} {
		if got := metric(m, tc.name, tc.k); got != tc.want {
			t.Errorf("%s of %s: %v, want %v", tc.name, tc.k.id.DeviceID, got, tc.want)
		}
	}

	clk.Add(11*time.Minute + 30*time.Second)
	for _, k := range []*simKiosk{queued, stale, full} {
		k.beat(t)
	}
	page := getBody(t, c.URL+"/fleet")
	alertRow := func(kind string, k *simKiosk) string {
		t.Helper()
		_, row, ok := strings.Cut(page, `<tr class="alert" data-kind="`+kind+`" data-device="`+k.id.DeviceID+`">`)
		if !ok {
			t.Fatalf("fleet page has no %s alert for %s", kind, k.id.DeviceID)
		}
		row, _, _ = strings.Cut(row, "</tr>")
		return row
	}
	if row := alertRow(central.AlertNoHeartbeat, quiet); !strings.HasSuffix(row, "<td>11m30s</td>") {
		t.Errorf("no-heartbeat alert row %q: want 11m30s", row)
	}
	if row := alertRow(central.AlertLowDisk, full); !strings.HasSuffix(row, "<td>0.29 GiB</td>") {
		t.Errorf("low-disk alert row %q: want 0.29 GiB", row)
	}
	for _, want := range []string{"<td>0.3 GiB</td>", "<td>50.0 GiB</td>"} {
		if !strings.Contains(page, want) {
			t.Errorf("fleet page lacks the disk column %q", want)
		}
	}
	getBody(t, c.URL+"/fleet/alerts")
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("errors logged for pages served well:\n%s", logs.String())
	}
}

// When the central cannot read its device records the fleet page, the
// alert feed and /metrics fail with the reason: an empty fleet would read
// as "no alerts" to staff and to a monitoring system.
func TestFleetStoreFailure(t *testing.T) {
	cfg := central.DefaultConfig()
	cfg.DataDir, cfg.Demo = t.TempDir(), true
	s, err := central.Open(cfg, central.WithLogger(testbed.Quiet()))
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	defer hs.Close()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/fleet", "/fleet/alerts", "/metrics"} {
		resp, err := http.Get(hs.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		buf := make([]byte, 512)
		n, _ := resp.Body.Read(buf)
		b.Write(buf[:n])
		resp.Body.Close()
		if resp.StatusCode != 500 || !strings.HasPrefix(b.String(), "fleet: ") {
			t.Errorf("GET %s with the store closed: %d %q, want 500 and the reason", path, resp.StatusCode, b.String())
		}
	}
}
