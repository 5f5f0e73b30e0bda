// Package testbed runs a reference central on 127.0.0.1 for tests and
// benchmarks and injects network faults between it and a kiosk: dropped
// requests, responses lost after the central committed, 500s, timeouts,
// duplicated and reordered requests, and central restarts mid-batch. It also
// makes valid registration documents. Tests of sync/kiosk and of the app's
// store use it; it is not linked into the kiosk or the central binary.
package testbed

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"examkiosk/sync/central"
	"examkiosk/sync/central/store"
	"examkiosk/sync/central/store/storetest"
	"examkiosk/sync/kiosk"
	"examkiosk/sync/provider"
	"examkiosk/sync/provider/sim"
	"examkiosk/sync/wire"
)

// Central is a reference central serving on a fixed loopback address that
// survives restarts.
type Central struct {
	Cfg  central.Config
	Addr string
	URL  string

	mu   sync.Mutex
	s    *central.Server
	srv  *http.Server
	opts []central.Option

	Restarts atomic.Int32
}

// UseStore points cfg at a fresh store of kind: central.db in a new
// cfg.DataDir, or a new PostgreSQL database (with cfg.DataDir, when empty
// or default, a new folder for the keys).
func UseStore(tb testing.TB, cfg *central.Config, kind storetest.Kind) {
	tb.Helper()
	if kind == storetest.Bolt || cfg.DataDir == "" || cfg.DataDir == central.DefaultConfig().DataDir {
		cfg.DataDir = tb.TempDir()
	}
	cfg.Database = ""
	if kind == storetest.Postgres {
		cfg.Database = storetest.FreshDatabase(tb)
	}
}

// EachStore runs f as a subtest on each store kind, with cfg (the default
// config) pointed at a fresh store of that kind.
func EachStore(t *testing.T, f func(t *testing.T, cfg central.Config)) {
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			cfg := central.DefaultConfig()
			UseStore(t, &cfg, kind)
			f(t, cfg)
		})
	}
}

// StartCentral opens a central in a temporary directory (cfg.DataDir is
// replaced when empty or default) with demo data and serves it on
// 127.0.0.1 until the test ends. A test that names no store (neither
// cfg.DataDir nor cfg.Database) gets storetest.Default()
// ($EXAMKIOSK_CENTRAL_STORE).
func StartCentral(tb testing.TB, cfg central.Config, opts ...central.Option) *Central {
	tb.Helper()
	if cfg.DataDir == "" || cfg.DataDir == central.DefaultConfig().DataDir {
		if cfg.Database == "" {
			UseStore(tb, &cfg, storetest.Default())
		} else {
			cfg.DataDir = tb.TempDir()
		}
	}
	cfg.Demo = true
	if cfg.EnrolAttempts == central.DefaultConfig().EnrolAttempts {
		// Tests enrol many kiosks from 127.0.0.1; the limit has its own test.
		cfg.EnrolAttempts = 10000
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	opts = append([]central.Option{central.WithLogger(Quiet())}, opts...)
	c := &Central{Cfg: cfg, Addr: ln.Addr().String(), opts: opts}
	c.URL = "http://" + c.Addr
	c.Cfg.PublicURL = c.URL
	if err := c.start(ln); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(c.Stop)
	return c
}

func (c *Central) start(ln net.Listener) error {
	s, err := central.Open(c.Cfg, c.opts...)
	if err != nil {
		ln.Close()
		return err
	}
	srv := c.Cfg.NewHTTPServer(s.Handler())
	c.mu.Lock()
	c.s, c.srv = s, srv
	c.mu.Unlock()
	go srv.Serve(ln)
	return nil
}

// Server returns the current central (it changes on Restart), waiting up
// to 10 s for a restart in progress.
func (c *Central) Server() *central.Server {
	for range 1000 {
		c.mu.Lock()
		s := c.s
		c.mu.Unlock()
		if s != nil {
			return s
		}
		time.Sleep(10 * time.Millisecond)
	}
	return nil
}

// With calls f with the current central, again with the new one when a
// concurrent Restart closed the store under it.
func (c *Central) With(f func(*central.Server) error) error {
	var err error
	for range 500 {
		if err = f(c.Server()); !errors.Is(err, store.ErrClosed) {
			return err
		}
		time.Sleep(10 * time.Millisecond)
	}
	return err
}

// Stop closes connections abruptly and closes the store.
func (c *Central) Stop() {
	c.mu.Lock()
	srv, s := c.srv, c.s
	c.srv, c.s = nil, nil
	c.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
	if s != nil {
		s.Close()
	}
}

// Restart stops the central as abruptly as a crash allows (connections
// dropped, in-flight requests lose their answers) and starts it again on the
// same address and data.
func (c *Central) Restart() error {
	c.Stop()
	var ln net.Listener
	var err error
	for range 100 {
		if ln, err = net.Listen("tcp", c.Addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("relisten %s: %w", c.Addr, err)
	}
	c.Restarts.Add(1)
	return c.start(ln)
}

// Enroll enrols a new kiosk in the demo centre with a fresh one-time code
// (with the demo code DEMO when c only names the URL of a central served
// elsewhere).
func (c *Central) Enroll(ctx context.Context, cfg kiosk.Config) (kiosk.Identity, error) {
	cfg.CentralURL = c.URL
	if c.opts == nil { // not made by StartCentral
		return kiosk.Enroll(ctx, cfg, central.DemoEnrolmentCode, "testbed", "test", nil)
	}
	var code string
	if err := c.With(func(s *central.Server) (err error) {
		code, _, err = s.NewEnrolmentCode(central.DemoCentreID)
		return err
	}); err != nil {
		return kiosk.Identity{}, err
	}
	return kiosk.Enroll(ctx, cfg, code, "testbed", "test", nil)
}

// RegID returns a registration id (a UUID, as kiosks make them) derived
// from a label, the same for the same label; a label that is a UUID
// already is returned as it is.
func RegID(label string) string {
	if u, err := uuid.Parse(label); err == nil && u.String() == label {
		return label
	}
	return uuid.NewSHA1(uuid.NameSpaceURL, []byte("examkiosk-test:"+label)).String()
}

// RegNum returns registration id number n as a UUID whose last group is n
// in decimal (read it back with fmt.Sscanf(id, RegNumFormat, &n)).
func RegNum(n int) string { return fmt.Sprintf(RegNumFormat, n) }

// RegNumFormat is the format of RegNum.
const RegNumFormat = "00000000-0000-7000-8000-%012d"

// PayOrder pays an order the way the demo does: the simulated Alipay signs
// a successful trade of the order's amount and posts it to the central's
// notification endpoint, which verifies it like a real one.
func (c *Central) PayOrder(ctx context.Context, orderID string) error {
	s := c.Server()
	o, err := s.Order(orderID)
	if err != nil {
		return err
	}
	p := s.DemoProvider(wire.ChannelAlipay)
	if p == nil {
		return errors.New("testbed: the central has no simulated Alipay (demo mode)")
	}
	params, err := p.PaymentNotification(o.ID, int64(o.AmountCents), provider.TradeSuccess)
	if err != nil {
		return err
	}
	st, body, err := sim.Post(ctx, nil, c.URL+"/pay/notify/alipay", params)
	if err != nil {
		return err
	}
	if st != http.StatusOK || body != "success" {
		return fmt.Errorf("testbed: payment notification answered %d %q", st, body)
	}
	return nil
}

// ConfirmQR plays the candidate's phone on the demo QR page: it opens the
// link (the simulated provider asserts the scan) and confirms with a name
// and ID number (the simulator signs them), carrying the page's cookie and
// CSRF token. It returns the status of the last page (200 when confirmed)
// and that page.
func (c *Central) ConfirmQR(ctx context.Context, link, name, idNumber string) (int, string, error) {
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	get, err := http.NewRequestWithContext(ctx, http.MethodGet, link, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := hc.Do(get)
	if err != nil {
		return 0, "", err
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfField.FindSubmatch(page)
	if resp.StatusCode != http.StatusOK || m == nil {
		return resp.StatusCode, string(page), nil
	}
	form := url.Values{"name": {name}, "id_number": {idNumber}, "csrf": {string(m[1])}}
	post, err := http.NewRequestWithContext(ctx, http.MethodPost, link, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, "", err
	}
	post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	post.Header.Set("Origin", c.URL)
	if resp, err = hc.Do(post); err != nil {
		return 0, "", err
	}
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, string(page), nil
}

var csrfField = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// Quiet returns a logger that discards everything.
func Quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// Faults sets the probability of each fault per request.
type Faults struct {
	Drop         float64 // request never reaches the central
	LoseResponse float64 // central handles it, the answer is lost
	Status500    float64 // a 500 instead of forwarding
	Timeout      float64 // forwarded, then the answer hangs until the client gives up
	Duplicate    float64 // forwarded twice
	Reorder      float64 // a copy is replayed later, after newer requests
	// RestartEvery restarts the central concurrently with every n-th
	// request (0: never).
	RestartEvery int
}

// DefaultFaults is a hostile network: about a third of requests misbehave.
var DefaultFaults = Faults{Drop: 0.05, LoseResponse: 0.07, Status500: 0.04, Timeout: 0.03, Duplicate: 0.05, Reorder: 0.05, RestartEvery: 40}

// FaultStats counts injected faults.
type FaultStats struct {
	Requests, Dropped, Lost, Status500, Timeouts, Duplicated, Reordered, Restarts int64
}

// FaultTransport is an http.RoundTripper that injects Faults.
type FaultTransport struct {
	Base    http.RoundTripper
	Faults  Faults
	Central *Central // restarted when Faults.RestartEvery > 0

	mu       sync.Mutex
	rng      *rand.Rand
	stats    FaultStats
	held     []*http.Request // requests kept for reordering
	bodies   [][]byte
	replayWG sync.WaitGroup
}

// NewFaultTransport returns a transport with a seeded random source.
func NewFaultTransport(seed uint64, f Faults, c *Central) *FaultTransport {
	return &FaultTransport{Base: &http.Transport{MaxIdleConnsPerHost: 8}, Faults: f, Central: c, rng: rand.New(rand.NewPCG(seed, 1))}
}

// Stats returns the fault counters.
func (t *FaultTransport) Stats() FaultStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.stats
}

// Wait waits for background replays and restarts.
func (t *FaultTransport) Wait() { t.replayWG.Wait() }

var errInjected = errors.New("testbed: injected network fault")

func (t *FaultTransport) send(r *http.Request, body []byte) (*http.Response, error) {
	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(bytes.NewReader(body))
	return t.Base.RoundTrip(r2)
}

func (t *FaultTransport) replay(r *http.Request, body []byte) {
	t.replayWG.Add(1)
	go func() {
		defer t.replayWG.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if resp, err := t.send(r.WithContext(ctx), body); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
}

// RoundTrip implements http.RoundTripper.
func (t *FaultTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		var err error
		if body, err = io.ReadAll(r.Body); err != nil {
			return nil, err
		}
		r.Body.Close()
	}
	f := t.Faults
	t.mu.Lock()
	t.stats.Requests++
	n := t.stats.Requests
	p := t.rng.Float64()
	dup, reorder := t.rng.Float64() < f.Duplicate, t.rng.Float64() < f.Reorder
	var release []*http.Request
	var releaseBodies [][]byte
	if reorder {
		t.stats.Reordered++
		t.held = append(t.held, r.Clone(context.Background()))
		t.bodies = append(t.bodies, body)
	}
	if len(t.held) > 3 || (!reorder && len(t.held) > 0 && t.rng.Float64() < 0.3) {
		release, releaseBodies = t.held, t.bodies
		t.held, t.bodies = nil, nil
	}
	restart := f.RestartEvery > 0 && t.Central != nil && n%int64(f.RestartEvery) == 0
	if restart {
		t.stats.Restarts++
	}
	t.mu.Unlock()

	for i, old := range release { // older requests arrive after newer ones
		t.replay(old, releaseBodies[i])
	}
	if restart { // mid-batch: the restart races with this request
		t.replayWG.Add(1)
		go func() {
			defer t.replayWG.Done()
			t.Central.Restart()
		}()
	}
	count := func(c *int64) { t.mu.Lock(); *c++; t.mu.Unlock() }
	switch {
	case p < f.Drop:
		count(&t.stats.Dropped)
		return nil, errInjected
	case p < f.Drop+f.Status500:
		count(&t.stats.Status500)
		return &http.Response{StatusCode: 500, Status: "500 Internal Server Error", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header: http.Header{"Content-Type": {"application/json"}}, Request: r,
			Body: io.NopCloser(bytes.NewReader([]byte(`{"code":"internal","message":"injected"}`)))}, nil
	}
	if dup {
		count(&t.stats.Duplicated)
		t.replay(r, body)
	}
	resp, err := t.send(r, body)
	if err != nil {
		return nil, err
	}
	switch {
	case p < f.Drop+f.Status500+f.LoseResponse:
		count(&t.stats.Lost)
		io.Copy(io.Discard, resp.Body) // the central finished; the answer never arrives
		resp.Body.Close()
		return nil, errInjected
	case p < f.Drop+f.Status500+f.LoseResponse+f.Timeout:
		count(&t.stats.Timeouts)
		resp.Body.Close()
		<-r.Context().Done()
		return nil, r.Context().Err()
	}
	return resp, nil
}

// Photo returns a JPEG of at least w×h pixels with noise so that its size
// grows with quality; about 40 KB at 400×560 and quality 60.
func Photo(w, h, quality int, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, 2))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			v := uint8(rng.IntN(256))
			img.Set(x, y, color.RGBA{200 - v/4, 40 + v/3, v / 2, 255})
		}
	}
	var buf bytes.Buffer
	jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality})
	return buf.Bytes()
}

// IDNumber returns a valid 18-digit resident ID number derived from n.
func IDNumber(n int) string {
	base := fmt.Sprintf("110101%04d%02d%02d%03d", 1970+n%40, 1+n%12, 1+n%28, n%1000)
	weights := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := range 17 {
		sum += int(base[i]-'0') * weights[i]
	}
	return base + string("10X98765432"[sum%11])
}

// Registration returns a valid registration for the demo exam.
func Registration(id string, rev int, device, idNumber string, photo []byte) wire.Registration {
	return wire.Registration{
		ID: id, Revision: rev, DeviceID: device, Name: "测试考生", IDNumber: idNumber, Phone: "13800000000",
		Education: "本科", Major: "计算机科学与技术", GraduationYear: 2020, WorkExperience: "无",
		ExamID: central.DemoExamID, PositionID: "P003", IdentitySource: "alipay_qr", Photo: photo,
		FaceDistance: 0.31, LivenessPassed: true, SubmittedAt: time.Now().UTC().Truncate(time.Second),
	}
}

// Doc encodes a registration as an outbox document.
func Doc(r wire.Registration) []byte {
	b, err := json.Marshal(r)
	if err != nil {
		panic(err)
	}
	return b
}

// DrainStats times a kiosk pushing everything it has queued.
type DrainStats struct {
	Total   time.Duration   // all drains, summed
	Items   int             // registrations drained, summed
	Batches []time.Duration // the latency of each batch
	CPU     time.Duration   // the process's CPU time (user + system) during the drains
}

// processCPU returns the CPU time the process used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Drain drains client (Client.DrainEach: the next batch is prepared while
// one is at the central) until it has nothing left to send, adding the
// time and each batch's latency to d.
func (d *DrainStats) Drain(tb testing.TB, ctx context.Context, client *kiosk.Client) {
	tb.Helper()
	start, cpu := time.Now(), processCPU()
	defer func() { d.CPU += processCPU() - cpu }()
	err := client.DrainEach(ctx, func(res kiosk.BatchResult) {
		d.Items += res.Sent
		d.Batches = append(d.Batches, res.Latency)
	})
	if err != nil {
		tb.Fatal(err)
	}
	d.Total += time.Since(start)
}

// Report records registrations per second, seconds per drain and the p50
// and p99 batch latency as benchmark metrics.
func (d *DrainStats) Report(b *testing.B) {
	lat := slices.Clone(d.Batches)
	slices.Sort(lat)
	if len(lat) == 0 || d.Total == 0 {
		return
	}
	b.ReportMetric(float64(d.Items)/d.Total.Seconds(), "regs/s")
	b.ReportMetric(d.Total.Seconds()/float64(b.N), "s/drain")
	b.ReportMetric(float64(lat[len(lat)/2].Milliseconds()), "p50-batch-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Milliseconds()), "p99-batch-ms")
	if d.CPU > 0 {
		// Kiosk and central together when both run in the benchmark's
		// process: the figure that does not depend on the other tenants.
		b.ReportMetric(float64(d.CPU.Microseconds())/1000/float64(d.Items), "cpu-ms/reg")
	}
}
