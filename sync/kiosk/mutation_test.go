package kiosk_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"examkiosk/sync/kiosk"
	"examkiosk/sync/testbed"
	"examkiosk/sync/wire"
)

// Tests written for mutants that survived the rest of the suite (make
// mutation MUTATION_PKGS=sync/kiosk; docs/MUTATION.md).

// TestIdentityWithoutAnswerKey: a kiosk enrolled before protocol v2 has no
// answer key in its identity; sync.central_answer_key pins it instead, and
// the client works with it. Without either there is no client.
func TestIdentityWithoutAnswerKey(t *testing.T) {
	env := newEnv(t, smallCentral(), kiosk.Options{})
	old := env.id
	key := old.AnswerKey
	old.AnswerKey = nil
	cfg := testConfig(env.central.URL)
	if _, err := kiosk.New(cfg, old, env.outbox, env.sink, kiosk.Options{Logger: testbed.Quiet()}); err == nil {
		t.Fatal("New without any answer key succeeded")
	}
	cfg.CentralAnswerKey = base64.StdEncoding.EncodeToString(key)
	c, err := kiosk.New(cfg, old, env.outbox, env.sink, kiosk.Options{Logger: testbed.Quiet()})
	if err != nil {
		t.Fatalf("New with sync.central_answer_key: %v", err)
	}
	env.add(1, 1, nil)
	if err := c.Drain(t.Context()); err != nil {
		t.Fatalf("push verified with the configured key: %v", err)
	}
	if q, _, _ := env.outbox.Depth(t.Context()); q != 0 {
		t.Fatalf("%d still queued", q)
	}
}

// TestCentralAnswerKeyValidated: sync.central_answer_key must be a base64
// Ed25519 public key; anything else is refused with the key's name.
func TestCentralAnswerKeyValidated(t *testing.T) {
	for _, tt := range []struct {
		name, key string
		ok        bool
	}{
		{"unset", "", true},
		{"32 bytes", base64.StdEncoding.EncodeToString(make([]byte, 32)), true},
		{"32 bytes with spaces", " " + base64.StdEncoding.EncodeToString(make([]byte, 32)) + "\n", true},
		{"not base64", "not-a-key!", false},
		{"16 bytes", base64.StdEncoding.EncodeToString(make([]byte, 16)), false},
		{"33 bytes", base64.StdEncoding.EncodeToString(make([]byte, 33)), false},
	} {
		cfg := kiosk.DefaultConfig()
		cfg.CentralAnswerKey = tt.key
		err := cfg.Validate()
		if tt.ok != (err == nil) || err != nil && !strings.Contains(err.Error(), "sync.central_answer_key") {
			t.Errorf("%s: Validate() = %v, want ok %v (an error naming sync.central_answer_key)", tt.name, err, tt.ok)
		}
	}
}

// TestEnrolRefusalReported: a central that refuses an enrolment (a wrong
// one-time code) is reported as its refusal, with the central's code, even
// though a kiosk without sync.central_answer_key cannot verify the answer
// yet; it is not mistaken for an unsigned (forged) answer.
func TestEnrolRefusalReported(t *testing.T) {
	c := testbed.StartCentral(t, smallCentral())
	_, err := kiosk.Enroll(t.Context(), testConfig(c.URL), "WRONG-CODE-1234", "kiosk-01", "test", nil)
	var api *kiosk.APIError
	if !errors.As(err, &api) || api.HTTPStatus/100 != 4 || api.Code == "" {
		t.Fatalf("Enroll with a wrong code: %v; want the central's refusal (*kiosk.APIError, 4xx, a code)", err)
	}
	if errors.Is(err, kiosk.ErrUnsignedAnswer) {
		t.Fatalf("Enroll with a wrong code: %v; reported as an unsigned answer", err)
	}
}

// TestEnrolPastUnsignedOK: a node that answers the enrolment 200 with a
// body no central signed (a captive portal, a proxy's page) is passed over
// like an unreachable one, and the next node enrols the kiosk.
func TestEnrolPastUnsignedOK(t *testing.T) {
	portal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<html>Welcome: log in to use this network</html>"))
	}))
	defer portal.Close()
	c := testbed.StartCentral(t, smallCentral())
	cfg := testConfig(c.URL)
	cfg.CentralURL, cfg.CentralURLs = "", []string{portal.URL, c.URL}
	id, err := kiosk.Enroll(t.Context(), cfg, mustCode(t, c), "kiosk-01", "test", nil)
	if err != nil || id.DeviceID == "" {
		t.Fatalf("Enroll past a node answering an unsigned 200: %+v, %v; want enrolled by the next node", id, err)
	}
}

// TestNewWithoutLogger: Options without a Logger log to slog's default
// logger; the client works (fails over, pushes and logs) without one.
func TestNewWithoutLogger(t *testing.T) {
	env := newEnv(t, smallCentral(), kiosk.Options{})
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close() // a node that is down: the client logs its move to the next
	var logged bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logged, nil)))
	defer slog.SetDefault(prev)
	cfg := testConfig("")
	cfg.CentralURLs = []string{dead.URL, env.central.URL}
	c, err := kiosk.New(cfg, env.id, env.outbox, env.sink, kiosk.Options{})
	if err != nil {
		t.Fatal(err)
	}
	env.add(1, 1, nil)
	if err := c.Drain(t.Context()); err != nil {
		t.Fatalf("Drain: %v", err)
	}
	if q, _, _ := env.outbox.Depth(t.Context()); q != 0 {
		t.Fatalf("%d still queued", q)
	}
	if logged.Len() == 0 {
		t.Error("nothing logged to slog's default logger")
	}
}

// TestRevokedAfterFailover: the first nodes are down and the next refuses
// the revoked device: the refusal is what Drain reports (the kiosk shows
// "revoked", keeps the item), not only the failures of the nodes before.
func TestRevokedAfterFailover(t *testing.T) {
	env := newEnv(t, smallCentral(), kiosk.Options{})
	if err := env.central.Server().Revoke(env.id.DeviceID); err != nil {
		t.Fatal(err)
	}
	env.add(1, 1, nil)
	for down := 1; down <= 2; down++ {
		var urls []string
		for range down {
			dead := httptest.NewServer(http.NotFoundHandler())
			dead.Close()
			urls = append(urls, dead.URL)
		}
		cfg := testConfig("")
		cfg.CentralURLs = append(urls, env.central.URL)
		c, err := kiosk.New(cfg, env.id, env.outbox, env.sink, kiosk.Options{Logger: testbed.Quiet()})
		if err != nil {
			t.Fatal(err)
		}
		err = c.Drain(t.Context())
		if !kiosk.IsCode(err, wire.ErrCodeRevokedDevice) {
			t.Errorf("Drain after revoke, %d nodes down first: %v; want the next node's refusal", down, err)
		}
		if !c.State().Revoked {
			t.Errorf("%d nodes down first: state does not show revocation", down)
		}
		if q, _, _ := env.outbox.Depth(t.Context()); q != 1 {
			t.Errorf("%d nodes down first: queued %d, want the item kept", down, q)
		}
	}
}

// TestFailbackAfterLimitsInclusive: sync.failback_after accepts exactly 1s
// and exactly 24h, and refuses just outside them, naming the key.
func TestFailbackAfterLimitsInclusive(t *testing.T) {
	for d, ok := range map[time.Duration]bool{
		time.Second: true, 24 * time.Hour: true,
		time.Second - time.Millisecond: false, 24*time.Hour + time.Second: false,
	} {
		cfg := kiosk.DefaultConfig()
		cfg.FailbackAfter = d
		err := cfg.Validate()
		if ok != (err == nil) || err != nil && !strings.Contains(err.Error(), "sync.failback_after") {
			t.Errorf("failback_after %s: %v; want ok %v", d, err, ok)
		}
	}
}

// TestBatchResultCounts: the batch result counts each answer by its kind
// (accepted, already registered, rejected), and every answered item leaves
// the queue.
func TestBatchResultCounts(t *testing.T) {
	ob := newMemOutbox()
	acc, dup1, dup2, rej := testbed.RegID("acc"), testbed.RegID("dup1"), testbed.RegID("dup2"), testbed.RegID("rej")
	for _, id := range []string{acc, dup1, dup2, rej} {
		ob.Add(id, 1, id, []byte(`{}`))
	}
	a := &answering{answer: func(*http.Request, []byte) (int, any, string) {
		return 200, wire.PushResponse{Results: []wire.Result{
			{ID: acc, Revision: 1, Status: wire.StatusAccepted},
			{ID: dup1, Revision: 1, Status: wire.StatusDuplicate},
			{ID: dup2, Revision: 1, Status: wire.StatusDuplicate},
			{ID: rej, Revision: 1, Status: wire.StatusRejected, Reason: "bad photo"},
		}}, ""
	}}
	res, err := answeringClient(t, a, ob).PushBatch(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 1 || res.Duplicate != 2 || res.Rejected != 1 {
		t.Errorf("batch result %+v; want 1 accepted, 2 duplicate, 1 rejected", res)
	}
	if q, _, _ := ob.Depth(t.Context()); q != 0 {
		t.Errorf("%d still queued", q)
	}
}

// TestBatchLimitsInclusive: sync.batch_max_items accepts 1 and 500,
// sync.batch_max_bytes 65536 and 33554432; one past either end is refused,
// naming the key.
func TestBatchLimitsInclusive(t *testing.T) {
	for _, c := range []struct {
		key   string
		items int
		bytes int
		ok    bool
	}{
		{"sync.batch_max_items", 1, 1 << 20, true},
		{"sync.batch_max_items", 500, 1 << 20, true},
		{"sync.batch_max_items", 0, 1 << 20, false},
		{"sync.batch_max_items", 501, 1 << 20, false},
		{"sync.batch_max_bytes", 50, 64 << 10, true},
		{"sync.batch_max_bytes", 50, 32 << 20, true},
		{"sync.batch_max_bytes", 50, 64<<10 - 1, false},
		{"sync.batch_max_bytes", 50, 32<<20 + 1, false},
	} {
		cfg := kiosk.DefaultConfig()
		cfg.BatchMaxItems, cfg.BatchMaxBytes = c.items, c.bytes
		err := cfg.Validate()
		if c.ok != (err == nil) || err != nil && !strings.Contains(err.Error(), c.key) {
			t.Errorf("%s with items %d, bytes %d: %v; want ok %v", c.key, c.items, c.bytes, err, c.ok)
		}
	}
}

// TestTimingLimitsInclusive: every timing setting accepts its limit and
// refuses just past it, naming its key.
func TestTimingLimitsInclusive(t *testing.T) {
	ms := time.Millisecond
	for _, c := range []struct {
		key  string
		set  func(*kiosk.Config)
		ok   bool
		name string
	}{
		{"sync.request_timeout", func(c *kiosk.Config) { c.RequestTimeout = 100 * ms }, true, "100ms"},
		{"sync.request_timeout", func(c *kiosk.Config) { c.RequestTimeout = 99 * ms }, false, "99ms"},
		{"sync.pull_interval", func(c *kiosk.Config) { c.PullInterval = 10 * ms }, true, "10ms"},
		{"sync.pull_interval", func(c *kiosk.Config) { c.PullInterval = 9 * ms }, false, "9ms"},
		{"sync.heartbeat_interval", func(c *kiosk.Config) { c.HeartbeatInterval = 10 * ms }, true, "10ms"},
		{"sync.heartbeat_interval", func(c *kiosk.Config) { c.HeartbeatInterval = 9 * ms }, false, "9ms"},
		{"sync.backoff_base", func(c *kiosk.Config) { c.BackoffBase, c.BackoffCap = 1, 1 }, true, "base = cap = 1ns"},
		{"sync.backoff_base", func(c *kiosk.Config) { c.BackoffBase, c.BackoffCap = 0, time.Second }, false, "base 0"},
		{"sync.backoff_base", func(c *kiosk.Config) { c.BackoffBase, c.BackoffCap = 2*ms, ms }, false, "cap < base"},
		{"sync.qr_poll_wait", func(c *kiosk.Config) { c.QRPollWait = time.Second }, true, "1s"},
		{"sync.qr_poll_wait", func(c *kiosk.Config) { c.QRPollWait = 2 * time.Minute }, true, "2m"},
		{"sync.qr_poll_wait", func(c *kiosk.Config) { c.QRPollWait = time.Second - ms }, false, "999ms"},
		{"sync.qr_poll_wait", func(c *kiosk.Config) { c.QRPollWait = 2*time.Minute + ms }, false, "2m0.001s"},
	} {
		cfg := kiosk.DefaultConfig()
		c.set(&cfg)
		err := cfg.Validate()
		if c.ok != (err == nil) || err != nil && !strings.Contains(err.Error(), c.key) {
			t.Errorf("%s %s: %v; want ok %v", c.key, c.name, err, c.ok)
		}
	}
}

// slowFirstPush is a central played by the test whose first push answers
// after the kiosk's request timeout; it accepts every item and records
// each batch's size.
func slowFirstPush(t *testing.T, ob wire.Outbox, maxItems int) (*kiosk.Client, func() []int) {
	t.Helper()
	var sizes []int
	var mu sync.Mutex
	a := &answering{answer: func(r *http.Request, body []byte) (int, any, string) {
		var p wire.PushRequest
		if err := p.UnmarshalBinary(body); err != nil {
			return 400, wire.ErrorResponse{Code: wire.ErrCodeInternal, Message: err.Error()}, ""
		}
		mu.Lock()
		sizes = append(sizes, len(p.Items))
		first := len(sizes) == 1
		mu.Unlock()
		if first {
			time.Sleep(400 * time.Millisecond) // past the request timeout: the kiosk gives up
		}
		var res []wire.Result
		for _, it := range p.Items {
			res = append(res, wire.Result{ID: it.ID, Revision: it.Revision, Status: wire.StatusAccepted})
		}
		return 200, wire.PushResponse{Results: res}, ""
	}}
	c := answeringClient(t, a, ob, func(cfg *kiosk.Config) {
		cfg.RequestTimeout, cfg.BatchMaxItems = 200*time.Millisecond, maxItems
	})
	return c, func() []int {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(sizes)
	}
}

// queueEmpty queues n items with empty documents.
func queueEmpty(ob *memOutbox, prefix string, n int) {
	for i := range n {
		id := testbed.RegID(fmt.Sprintf("%s-%03d", prefix, i))
		ob.Add(id, 1, id, []byte(`{}`))
	}
}

// TestBatchGrowsBackAdditively: after a push times out the batch is halved,
// and each delivered batch then grows it by a tenth of
// sync.batch_max_items, up to that maximum (not back at once: the batch
// that failed would be sent again).
func TestBatchGrowsBackAdditively(t *testing.T) {
	ob := newMemOutbox()
	queueEmpty(ob, "grow", 120)
	c, sizes := slowFirstPush(t, ob, 20)
	if _, err := c.PushBatch(t.Context()); err == nil {
		t.Fatal("the first push did not time out")
	}
	for range 6 {
		if _, err := c.PushBatch(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := sizes(), []int{20, 10, 12, 14, 16, 18, 20}; !slices.Equal(got, want) {
		t.Errorf("batch sizes %v; want %v (halved after the timeout, then +2 a batch up to 20)", got, want)
	}
}

// TestSingleItemTimeoutKeepsBatch: a push of a single item that times out
// (a slow moment, nothing to halve) leaves the batch size as it was.
func TestSingleItemTimeoutKeepsBatch(t *testing.T) {
	ob := newMemOutbox()
	queueEmpty(ob, "one", 1)
	c, sizes := slowFirstPush(t, ob, 20)
	if _, err := c.PushBatch(t.Context()); err == nil {
		t.Fatal("the first push did not time out")
	}
	queueEmpty(ob, "more", 40)
	for range 2 {
		if _, err := c.PushBatch(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := sizes(), []int{1, 20, 20}; !slices.Equal(got, want) {
		t.Errorf("batch sizes %v; want %v", got, want)
	}
}

// TestDiskFreeMatchesDf: DiskFree agrees with df(1)'s available bytes for
// the same file system (within what other processes write meanwhile).
func TestDiskFreeMatchesDf(t *testing.T) {
	dir := t.TempDir()
	out, err := exec.Command("df", "-B1", "--output=avail", dir).Output()
	if err != nil {
		t.Skipf("df: %v", err)
	}
	fields := strings.Fields(string(out))
	want, err := strconv.ParseUint(fields[len(fields)-1], 10, 64)
	if err != nil {
		t.Skipf("df output %q: %v", out, err)
	}
	got, err := kiosk.DiskFree(dir)
	if err != nil {
		t.Fatal(err)
	}
	if diff := math.Abs(float64(got) - float64(want)); diff > 0.02*float64(want)+(256<<20) {
		t.Errorf("DiskFree(%s) = %d bytes, df says %d", dir, got, want)
	}
}

// TestFullJitterFirstAttemptsBound: the n-th attempt waits less than
// base·2^(n-1) (1s, 2s, 4s for a base of 1s), never the next power.
func TestFullJitterFirstAttemptsBound(t *testing.T) {
	for attempt := 1; attempt <= 3; attempt++ {
		bound := time.Second << (attempt - 1)
		for range 200 {
			if d := kiosk.FullJitter(time.Second, time.Hour, attempt); d < 0 || d >= bound {
				t.Fatalf("FullJitter(1s, 1h, %d) = %s; want in [0, %s)", attempt, d, bound)
			}
		}
	}
}
