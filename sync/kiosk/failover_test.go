package kiosk_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
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

// hostCounter counts the requests a transport sends to each host.
type hostCounter struct {
	base http.RoundTripper
	mu   sync.Mutex
	n    map[string]int
}

func newHostCounter(base http.RoundTripper) *hostCounter {
	if base == nil {
		base = &http.Transport{}
	}
	return &hostCounter{base: base, n: map[string]int{}}
}

func (h *hostCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	h.mu.Lock()
	h.n[r.URL.Host]++
	h.mu.Unlock()
	return h.base.RoundTrip(r)
}

func (h *hostCounter) count(url string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n[strings.TrimPrefix(url, "http://")]
}

// twoNodes starts two central nodes on one fresh PostgreSQL database (as
// `central serve` twice with the same --db and key directory).
func twoNodes(t *testing.T) (a, b *testbed.Central) {
	t.Helper()
	cfg := smallCentral()
	testbed.UseStore(t, &cfg, storetest.Postgres)
	return testbed.StartCentral(t, cfg), testbed.StartCentral(t, cfg)
}

// deadURL returns the URL of a loopback port nothing listens on.
func deadURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + ln.Addr().String()
	ln.Close()
	return u
}

func queue(ob *memOutbox, device string, photo []byte, from, n int) {
	for i := from; i < from+n; i++ {
		rid := testbed.RegNum(i)
		ob.Add(rid, 1, testbed.IDNumber(i), testbed.Doc(testbed.Registration(rid, 1, device, testbed.IDNumber(i), photo)))
	}
}

// A kiosk listing two nodes of one central: it uses the first, moves to the
// second when the first goes down, stays there after the first is back,
// and returns to the first after failback_after. Every registration is
// delivered once, and the node in use shows in State and in the health the
// central records.
func TestFailoverMovesOnSticksAndFailsBack(t *testing.T) {
	a, b := twoNodes(t)
	cfg := testConfig(a.URL)
	cfg.CentralURLs = []string{a.URL, b.URL}
	cfg.FailbackAfter = time.Second
	cfg.BatchMaxItems = 10
	id, err := kiosk.Enroll(t.Context(), cfg, mustCode(t, a), "failover", "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	ob := newMemOutbox()
	queue(ob, id.DeviceID, testbed.Photo(300, 420, 60, 1), 0, 60)
	hc := newHostCounter(nil)
	client, err := kiosk.New(cfg, id, ob, nil, kiosk.Options{HTTPClient: &http.Client{Transport: hc}, Logger: testbed.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	push := func(step string) {
		t.Helper()
		if res, err := client.PushBatch(t.Context()); err != nil || res.Accepted != 10 {
			t.Fatalf("%s: push %+v: %v", step, res, err)
		}
	}
	push("both up")
	if hc.count(a.URL) != 1 || hc.count(b.URL) != 0 || client.State().Central != a.URL {
		t.Fatalf("both up: A %d, B %d requests, in use %s; want the first node", hc.count(a.URL), hc.count(b.URL), client.State().Central)
	}

	a.Stop()
	push("A down")
	if hc.count(b.URL) != 1 || client.State().Central != b.URL {
		t.Fatalf("A down: B got %d requests, in use %s", hc.count(b.URL), client.State().Central)
	}
	if err := client.Heartbeat(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := healthCentral(t, b, id.DeviceID); got != b.URL {
		t.Fatalf("the central recorded node %q in use, want %s", got, b.URL)
	}

	if err := a.Restart(); err != nil {
		t.Fatal(err)
	}
	aBefore := hc.count(a.URL)
	push("A back, within failback_after")
	if hc.count(a.URL) != aBefore || client.State().Central != b.URL {
		t.Fatalf("the client left node B before failback_after: A %d→%d requests, in use %s", aBefore, hc.count(a.URL), client.State().Central)
	}

	time.Sleep(cfg.FailbackAfter + 100*time.Millisecond)
	bBefore := hc.count(b.URL)
	push("after failback_after")
	if hc.count(a.URL) != aBefore+1 || hc.count(b.URL) != bBefore || client.State().Central != a.URL {
		t.Fatalf("after failback_after: A %d→%d, B %d→%d requests, in use %s; want the first node again",
			aBefore, hc.count(a.URL), bBefore, hc.count(b.URL), client.State().Central)
	}
	if err := client.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	assertDeliveredOnce(t, ob, a, 60)
}

// Enrolment and requests pass over a node that refuses connections, one
// that accepts and never answers (request_timeout), and a load balancer's
// unsigned 502 page, to the node that answers.
func TestFailoverPastDeadHungAndProxyError(t *testing.T) {
	c := testbed.StartCentral(t, smallCentral())
	hung, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hung.Close()
	var held []net.Conn
	var heldMu sync.Mutex
	go func() {
		for {
			conn, err := hung.Accept()
			if err != nil {
				return
			}
			heldMu.Lock()
			held = append(held, conn) // read nothing, answer nothing
			heldMu.Unlock()
		}
	}()
	t.Cleanup(func() {
		heldMu.Lock()
		defer heldMu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "<html>502 Bad Gateway</html>", http.StatusBadGateway)
	}))
	defer proxy.Close()

	cfg := testConfig(c.URL)
	cfg.RequestTimeout = 300 * time.Millisecond
	cfg.CentralURLs = []string{deadURL(t), "http://" + hung.Addr().String(), proxy.URL, c.URL}
	cfg.CentralURL = ""
	code := mustCode(t, c)
	id, err := kiosk.Enroll(t.Context(), cfg, code, "failover", "test", nil)
	if err != nil {
		t.Fatalf("enrol past three failing nodes: %v", err)
	}
	ob := newMemOutbox()
	queue(ob, id.DeviceID, testbed.Photo(300, 420, 60, 2), 0, 5)
	client, err := kiosk.New(cfg, id, ob, nil, kiosk.Options{Logger: testbed.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := client.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < cfg.RequestTimeout {
		t.Fatalf("the drain took %s: the hung node was not tried", took)
	}
	if s := client.State(); s.Central != c.URL || !s.Online {
		t.Fatalf("state %+v, want online on %s", s, c.URL)
	}
	assertDeliveredOnce(t, ob, c, 5)

	// Every node failing: one error naming each.
	c.Stop()
	queue(ob, id.DeviceID, testbed.Photo(300, 420, 60, 2), 5, 1)
	_, err = client.PushBatch(t.Context())
	if err == nil || !strings.Contains(err.Error(), "no central node answered") {
		t.Fatalf("push with every node down: %v", err)
	}
	for _, u := range cfg.CentralURLs {
		if !strings.Contains(err.Error(), u) {
			t.Errorf("the error does not name %s: %v", u, err)
		}
	}
	if client.State().Online {
		t.Error("state online with every node down")
	}
}

// A refusal the central signed (4xx) is final: the next node shares the
// store and would refuse too, so it is not asked.
func TestFailoverNotOnRefusal(t *testing.T) {
	c := testbed.StartCentral(t, smallCentral())
	var other int
	var mu sync.Mutex
	second := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		other++
		mu.Unlock()
		http.Error(w, "not the central", http.StatusServiceUnavailable)
	}))
	defer second.Close()
	cfg := testConfig(c.URL)
	cfg.CentralURLs = []string{c.URL, second.URL}
	id, err := c.Enroll(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ob := newMemOutbox()
	queue(ob, id.DeviceID, testbed.Photo(300, 420, 60, 3), 0, 3)
	client, err := kiosk.New(cfg, id, ob, nil, kiosk.Options{Logger: testbed.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Server().Revoke(id.DeviceID); err != nil {
		t.Fatal(err)
	}
	_, err = client.PushBatch(t.Context())
	if !kiosk.IsCode(err, wire.ErrCodeRevokedDevice) {
		t.Fatalf("push from a revoked kiosk: %v, want %s", err, wire.ErrCodeRevokedDevice)
	}
	if !client.State().Revoked || client.State().Central != c.URL {
		t.Fatalf("state %+v", client.State())
	}
	mu.Lock()
	defer mu.Unlock()
	if other != 0 {
		t.Fatalf("a refusal was sent on to the next node (%d requests)", other)
	}
}

// The fault proxy of TestDeliveryUnderFaults between a kiosk and two nodes
// on one PostgreSQL, the first node restarted every 8 requests: every
// revision arrives exactly once, whichever node took it.
func TestDeliveryUnderFaultsTwoNodes(t *testing.T) {
	n := 1000
	if testing.Short() {
		n = 300
	}
	a, b := twoNodes(t)
	cfg := testConfig(a.URL)
	cfg.CentralURLs = []string{a.URL, b.URL}
	cfg.FailbackAfter = time.Second
	cfg.RequestTimeout = time.Second
	cfg.BatchMaxItems = 25
	id, err := a.Enroll(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ob, sink := newMemOutbox(), &memSink{}
	queue(ob, id.DeviceID, testbed.Photo(300, 420, 60, 4), 0, n)
	faults := testbed.DefaultFaults
	faults.RestartEvery = 8 // node A restarts several times even in a short run
	ft := testbed.NewFaultTransport(7, faults, a)
	hc := newHostCounter(ft)
	client, err := kiosk.New(cfg, id, ob, sink, kiosk.Options{HTTPClient: &http.Client{Transport: hc}, Logger: testbed.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- client.Run(ctx) }()
	waitDrained(t, ctx, client, ob, ft)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
	ft.Wait()
	st := ft.Stats()
	t.Logf("%d registrations through faults %+v; requests to A %d, to B %d", n, st, hc.count(a.URL), hc.count(b.URL))
	if st.Restarts == 0 || hc.count(b.URL) == 0 || hc.count(a.URL) == 0 {
		t.Errorf("the test did not exercise failover: restarts %d, requests A %d, B %d", st.Restarts, hc.count(a.URL), hc.count(b.URL))
	}
	assertDeliveredOnce(t, ob, b, n)
	// Each revision ingested once: one under_review update each.
	clean, err := kiosk.New(cfg, id, ob, sink, kiosk.Options{Logger: testbed.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	if err := clean.Pull(t.Context()); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, u := range sink.updates {
		if u.Status == central.StatusUnderReview {
			seen[u.RegistrationID]++
		}
	}
	if len(seen) != n {
		t.Fatalf("%d distinct under_review updates, want %d", len(seen), n)
	}
	for k, times := range seen {
		if times != 1 {
			t.Fatalf("%s ingested %d times", k, times)
		}
	}
}

func mustCode(t *testing.T, c *testbed.Central) string {
	t.Helper()
	code, _, err := c.Server().NewEnrolmentCode(central.DemoCentreID)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func healthCentral(t *testing.T, c *testbed.Central, device string) string {
	t.Helper()
	ds, err := c.Server().Devices()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range ds {
		if d.ID == device && d.Health != nil {
			return d.Health.Central
		}
	}
	return ""
}

// assertDeliveredOnce checks that the kiosk recorded each of n
// registrations delivered once and that the central holds n revisions.
func assertDeliveredOnce(t *testing.T, ob *memOutbox, c *testbed.Central, n int) {
	t.Helper()
	ob.mu.Lock()
	defer ob.mu.Unlock()
	if len(ob.delivered) != n {
		t.Fatalf("kiosk marked %d delivered, want %d", len(ob.delivered), n)
	}
	for k, times := range ob.delivered {
		if times != 1 {
			t.Fatalf("%v acknowledged %d times", k, times)
		}
	}
	var got int
	if err := c.With(func(s *central.Server) (err error) { got, err = s.RevisionCount(); return err }); err != nil || got != n {
		t.Fatalf("central holds %d revisions (%v), want %d", got, err, n)
	}
}
