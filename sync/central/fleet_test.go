package central_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"examkiosk/sync/central"
	"examkiosk/sync/central/store/storetest"
	"examkiosk/sync/kiosk"
	"examkiosk/sync/testbed"
	"examkiosk/sync/wire"
)

// fleetClock is the time of the central and of the simulated kiosks (they
// sign with it, so it must move for both).
type fleetClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fleetClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fleetClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// fixedOutbox is a simulated kiosk's outbox: only its depth matters to a
// heartbeat.
type fixedOutbox struct{ queued int }

func (o fixedOutbox) Pending(context.Context, int, int) ([]wire.OutboxItem, error) { return nil, nil }
func (o fixedOutbox) Ack(context.Context, []wire.Result) error                     { return nil }
func (o fixedOutbox) Depth(context.Context) (int, int, error)                      { return o.queued, 0, nil }

type nopSink struct{}

func (nopSink) PullCursor(context.Context) (string, error) { return "", nil }
func (nopSink) ApplyPull(context.Context, wire.Pull) error { return nil }

// simKiosk is an enrolled kiosk that sends real signed heartbeats with the
// health it is given.
type simKiosk struct {
	id     kiosk.Identity
	client *kiosk.Client
	health *wire.Health
}

// newSimKiosk enrols a kiosk at c; it syncs with c, or with the nodes
// given, in that order of preference (sync.central_urls).
func newSimKiosk(t *testing.T, c *testbed.Central, clk *fleetClock, code, host string, queued int, h wire.Health, nodes ...string) *simKiosk {
	t.Helper()
	cfg := kiosk.DefaultConfig()
	cfg.CentralURL = c.URL
	id, err := kiosk.Enroll(t.Context(), cfg, code, host, h.Version, nil)
	if err != nil {
		t.Fatalf("enrol %s: %v", host, err)
	}
	if len(nodes) > 0 {
		cfg.CentralURL, cfg.CentralURLs = "", nodes
	}
	k := &simKiosk{id: id, health: &h}
	k.client, err = kiosk.New(cfg, id, fixedOutbox{queued}, nopSink{}, kiosk.Options{
		Logger: testbed.Quiet(), Now: clk.Now,
		Health: func(context.Context) wire.Health { return *k.health },
	})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func (k *simKiosk) beat(t *testing.T) {
	t.Helper()
	if err := k.client.Heartbeat(t.Context()); err != nil {
		t.Fatalf("heartbeat of %s: %v", k.id.DeviceID, err)
	}
}

func getBody(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return string(b)
}

type alertFeed struct {
	At             time.Time       `json:"at"`
	CurrentVersion string          `json:"current_version"`
	Alerts         []central.Alert `json:"alerts"`
}

func feed(t *testing.T, c *testbed.Central) alertFeed {
	t.Helper()
	var f alertFeed
	if err := json.Unmarshal([]byte(getBody(t, c.URL+"/fleet/alerts")), &f); err != nil {
		t.Fatal(err)
	}
	return f
}

// kinds maps device id → alert kinds in the feed.
func kinds(f alertFeed) map[string][]string {
	m := map[string][]string{}
	for _, a := range f.Alerts {
		m[a.Device] = append(m[a.Device], a.Kind)
	}
	return m
}

// TestFleetAlerts: simulated kiosks in two centres send real heartbeats;
// one stops, one reports a queue older than an hour, one a disconnected
// camera and little disk and an old version. The alerts appear in the page,
// the JSON feed and /metrics, and go away when the condition does.
func TestFleetAlerts(t *testing.T) {
	clk := &fleetClock{now: time.Now().UTC()}
	c := testbed.StartCentral(t, central.DefaultConfig(), central.WithClock(clk.Now))
	srv := c.Server()
	if err := srv.AddCentre(wire.Centre{ID: "C2", Name: "第二考点"}); err != nil {
		t.Fatal(err)
	}
	codeFor := func(centre string) string {
		code, _, err := srv.NewEnrolmentCode(centre)
		if err != nil {
			t.Fatal(err)
		}
		return code
	}
	healthy := wire.Health{Camera: "ok", DiskFreeBytes: 50 << 30, Version: "0.1.0+60.g1a2b3c4", Model: "dlib_face_recognition_resnet_model_v1.dat"}
	quiet := newSimKiosk(t, c, clk, codeFor(central.DemoCentreID), "quiet", 0, healthy)
	backlog := healthy
	backlog.OldestQueued = clk.Now().Add(-90 * time.Minute)
	queued := newSimKiosk(t, c, clk, codeFor(central.DemoCentreID), "queued", 7, backlog)
	worn := healthy
	worn.Camera, worn.DiskFreeBytes, worn.Version = "disconnected", 300<<20, "0.1.0+9.g0000001"
	broken := newSimKiosk(t, c, clk, codeFor("C2"), "broken", 0, worn)
	fine := newSimKiosk(t, c, clk, codeFor("C2"), "fine", 0, healthy)
	for _, k := range []*simKiosk{quiet, queued, broken, fine} {
		k.beat(t)
	}

	f := feed(t, c)
	got := kinds(f)
	if f.CurrentVersion != healthy.Version {
		t.Errorf("current version %q, want the newest reported %q", f.CurrentVersion, healthy.Version)
	}
	if len(got[quiet.id.DeviceID]) != 0 || len(got[fine.id.DeviceID]) != 0 {
		t.Errorf("healthy kiosks raised alerts: %v", got)
	}
	if g := strings.Join(got[queued.id.DeviceID], ","); g != central.AlertQueueOld {
		t.Errorf("queued kiosk: alerts %q, want %s", g, central.AlertQueueOld)
	}
	if g := strings.Join(got[broken.id.DeviceID], ","); g != "camera_disconnected,low_disk,version_behind" {
		t.Errorf("broken kiosk: alerts %q", g)
	}

	// Eleven minutes later only three kiosks have sent a heartbeat.
	clk.Add(11 * time.Minute)
	queued.health.OldestQueued = time.Time{} // delivered meanwhile
	for _, k := range []*simKiosk{queued, broken, fine} {
		k.beat(t)
	}
	got = kinds(feed(t, c))
	if g := strings.Join(got[quiet.id.DeviceID], ","); g != central.AlertNoHeartbeat {
		t.Errorf("silent kiosk: alerts %q, want %s", g, central.AlertNoHeartbeat)
	}
	if len(got[queued.id.DeviceID]) != 0 {
		t.Errorf("the queue was delivered, alerts remain: %v", got[queued.id.DeviceID])
	}

	page := getBody(t, c.URL+"/fleet")
	for _, want := range []string{"第二考点", "无心跳", `data-kind="no_heartbeat" data-device="` + quiet.id.DeviceID + `"`,
		`data-kind="camera_disconnected" data-device="` + broken.id.DeviceID + `"`, "0.1.0&#43;9.g0000001 &lt; 0.1.0&#43;60.g1a2b3c4"} {
		if !strings.Contains(page, want) {
			t.Errorf("fleet page lacks %q", want)
		}
	}
	metrics := getBody(t, c.URL+"/metrics")
	for _, want := range []string{
		`examkiosk_fleet_alert{centre="` + quiet.id.Centre.ID + `",device="` + quiet.id.DeviceID + `",kind="no_heartbeat"} 1`,
		`examkiosk_kiosk_camera_ok{centre="C2",device="` + broken.id.DeviceID + `"} 0`,
		`examkiosk_fleet_kiosks{centre="C2"} 2`,
		"# TYPE examkiosk_kiosk_queue_depth gauge",
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, metrics)
		}
	}

	// A revoked kiosk raises nothing.
	if err := srv.Revoke(quiet.id.DeviceID); err != nil {
		t.Fatal(err)
	}
	if a := kinds(feed(t, c))[quiet.id.DeviceID]; len(a) != 0 {
		t.Errorf("revoked kiosk still alerts: %v", a)
	}
}

func TestFleetNeedsAdmin(t *testing.T) {
	cfg := central.DefaultConfig()
	cfg.AdminToken = "s3cret"
	c := testbed.StartCentral(t, cfg)
	for _, p := range []string{"/fleet", "/fleet/alerts", "/metrics"} {
		resp, err := http.Get(c.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s without the admin token: %d, want 401", p, resp.StatusCode)
		}
	}
}

func TestCompareVersions(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{
		{"0.1.0+57.g3d86f2f", "0.1.0+60.g1a2b3c4", -1},
		{"1.10.0", "1.9.9", 1},
		{"v1.2.3", "1.2.3", 0},
		{"1.2", "1.2.1", -1},
		{"1.02", "1.2", 0},
		{"2.0", "10.0", -1},
	} {
		if got := central.CompareVersions(tt.a, tt.b); got != tt.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := central.CompareVersions(tt.b, tt.a); got != -tt.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tt.b, tt.a, got, -tt.want)
		}
	}
}

// The fleet page shows the central node each kiosk uses. Two nodes on one
// PostgreSQL; one kiosk lists node a, the other a node that is down first
// and node b after it: once it has moved to b its heartbeats say so, and
// every node's page shows each kiosk's node in its row.
func TestFleetShowsEachKiosksNode(t *testing.T) {
	cfg := central.DefaultConfig()
	testbed.UseStore(t, &cfg, storetest.Postgres)
	a := testbed.StartCentral(t, cfg)
	b := testbed.StartCentral(t, cfg)
	clk := &fleetClock{now: time.Now().UTC()}
	code := func() string {
		code, _, err := a.Server().NewEnrolmentCode(central.DemoCentreID)
		if err != nil {
			t.Fatal(err)
		}
		return code
	}
	onA := newSimKiosk(t, a, clk, code(), "on-a", 0, wire.Health{Camera: "ok"})
	down := testbed.StartCentral(t, cfg) // a node that stops: its URL refuses connections
	down.Stop()
	moved := newSimKiosk(t, a, clk, code(), "moved", 0, wire.Health{Camera: "ok"}, down.URL, b.URL)
	onA.beat(t)
	moved.beat(t) // fails over from the stopped node to b
	moved.beat(t) // and reports b
	row := func(page, dev string) string {
		for _, r := range strings.Split(page, "<tr>") {
			if strings.Contains(r, dev) {
				return r
			}
		}
		t.Fatalf("fleet page has no row of %s", dev)
		return ""
	}
	for _, n := range []*testbed.Central{a, b} {
		page := getBody(t, n.URL+"/fleet")
		if r := row(page, onA.id.DeviceID); !strings.Contains(r, `<td class="node">`+a.URL+`</td>`) {
			t.Errorf("%s: the row of the kiosk on node a does not name it (%s): %s", n.URL, a.URL, r)
		}
		if r := row(page, moved.id.DeviceID); !strings.Contains(r, `<td class="node">`+b.URL+`</td>`) {
			t.Errorf("%s: the row of the kiosk that moved to node b does not name it (%s): %s", n.URL, b.URL, r)
		}
	}
}
