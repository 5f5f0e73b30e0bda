package kiosk_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"examkiosk/sync/central"
	"examkiosk/sync/kiosk"
	"examkiosk/sync/testbed"
	"examkiosk/sync/wire"
)

func testConfig(url string) kiosk.Config {
	cfg := kiosk.DefaultConfig()
	cfg.CentralURL = url
	cfg.RequestTimeout = 5 * time.Second
	cfg.BackoffBase = 5 * time.Millisecond
	cfg.BackoffCap = 100 * time.Millisecond
	cfg.PullInterval = 50 * time.Millisecond
	cfg.HeartbeatInterval = 50 * time.Millisecond
	cfg.QRPollWait = 2 * time.Second
	return cfg
}

func smallCentral() central.Config {
	return central.DefaultConfig() // photos just over the notice's 20 KB (exam.CheckPhotoFile)
}

type kioskEnv struct {
	central *testbed.Central
	client  *kiosk.Client
	id      kiosk.Identity
	outbox  *memOutbox
	sink    *memSink
	photo   []byte
}

func newEnv(t *testing.T, ccfg central.Config, opts kiosk.Options, copts ...central.Option) *kioskEnv {
	t.Helper()
	c := testbed.StartCentral(t, ccfg, copts...)
	cfg := testConfig(c.URL)
	id, err := c.Enroll(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	env := &kioskEnv{central: c, id: id, outbox: newMemOutbox(), sink: &memSink{}, photo: testbed.Photo(300, 420, 60, 1)}
	if opts.Logger == nil {
		opts.Logger = testbed.Quiet()
	}
	env.client, err = kiosk.New(cfg, id, env.outbox, env.sink, opts)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// add queues registration n (revision rev) on the kiosk.
func (e *kioskEnv) add(n, rev int, mutate func(*wire.Registration)) string {
	id := testbed.RegNum(n)
	r := testbed.Registration(id, rev, e.id.DeviceID, testbed.IDNumber(n), e.photo)
	if mutate != nil {
		mutate(&r)
	}
	e.outbox.Add(id, rev, r.IDNumber, testbed.Doc(r))
	return id
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*kiosk.Config)
		wantKey string
	}{
		{"defaults", func(*kiosk.Config) {}, ""},
		{"bad url", func(c *kiosk.Config) { c.CentralURL = "ftp://x" }, "sync.central_url"},
		{"no batch", func(c *kiosk.Config) { c.BatchMaxItems = 0 }, "sync.batch_max_items"},
		{"tiny bytes", func(c *kiosk.Config) { c.BatchMaxBytes = 10 }, "sync.batch_max_bytes"},
		{"cap below base", func(c *kiosk.Config) { c.BackoffCap = time.Millisecond }, "sync.backoff_cap"},
		{"long poll", func(c *kiosk.Config) { c.QRPollWait = time.Hour }, "sync.qr_poll_wait"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := kiosk.DefaultConfig()
			tt.mutate(&c)
			err := c.Validate()
			if tt.wantKey == "" && err != nil {
				t.Fatalf("Validate() = %v", err)
			}
			if tt.wantKey != "" && (err == nil || !strings.Contains(err.Error(), tt.wantKey)) {
				t.Fatalf("Validate() = %v, want an error naming %s", err, tt.wantKey)
			}
		})
	}
}

func TestFullJitter(t *testing.T) {
	base, cap := time.Second, 5*time.Minute
	tests := []struct {
		attempt int
		limit   time.Duration
	}{{1, time.Second}, {2, 2 * time.Second}, {4, 8 * time.Second}, {9, 256 * time.Second}, {10, cap}, {1000, cap}}
	for _, tt := range tests {
		var maxSeen time.Duration
		for range 2000 {
			d := kiosk.FullJitter(base, cap, tt.attempt)
			if d < 0 || d >= tt.limit {
				t.Fatalf("attempt %d: %s outside [0, %s)", tt.attempt, d, tt.limit)
			}
			maxSeen = max(maxSeen, d)
		}
		if maxSeen < tt.limit/2 { // full jitter spreads over the whole range
			t.Errorf("attempt %d: max of 2000 draws %s, want near %s", tt.attempt, maxSeen, tt.limit)
		}
	}
}

func TestPushPullReviewPay(t *testing.T) {
	now := time.Now()
	var offset atomic.Int64
	clock := func() time.Time { return now.Add(time.Duration(offset.Load())) }
	env := newEnv(t, smallCentral(), kiosk.Options{}, central.WithClock(clock))
	ctx := t.Context()
	for n := range 30 {
		env.add(n, 1, nil)
	}
	env.add(0, 2, func(r *wire.Registration) { r.PositionID = "P001" }) // resubmission of reg 0
	if err := env.client.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if q, qq, _ := env.outbox.Depth(ctx); q != 0 || qq != 0 {
		t.Fatalf("outbox depth %d, quarantined %d after drain", q, qq)
	}
	srv := env.central.Server()
	if n, _ := srv.RevisionCount(); n != 31 {
		t.Fatalf("central holds %d revisions, want 31", n)
	}
	regs, _ := srv.Registrations(central.StatusUnderReview)
	if len(regs) != 30 {
		t.Fatalf("%d registrations under review, want 30", len(regs))
	}
	// The central can open what the kiosk sealed.
	doc, err := srv.Document(testbed.RegNum(0), 2)
	if err != nil || doc.PositionID != "P001" || doc.Name != "测试考生" {
		t.Fatalf("document = %+v, %v", doc, err)
	}
	if err := env.client.Pull(ctx); err != nil {
		t.Fatal(err)
	}
	if env.sink.catalog == nil || env.sink.catalog.Exams[0].ID != central.DemoExamID {
		t.Fatalf("catalog not pulled: %+v", env.sink.catalog)
	}
	if got := env.sink.latest()[testbed.RegNum(0)]; got.Status != central.StatusUnderReview || got.Revision != 2 {
		t.Fatalf("reg 0 update = %+v", got)
	}

	if _, err := srv.Review(testbed.RegNum(1), true, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Review(testbed.RegNum(2), false, "照片背景不符合要求 / photo background"); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Review(testbed.RegNum(3), true, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Review(testbed.RegNum(2), true, ""); !errors.Is(err, central.ErrNotUnderReview) {
		t.Fatalf("second review: %v, want ErrNotUnderReview", err)
	}
	if err := env.client.Pull(ctx); err != nil {
		t.Fatal(err)
	}
	latest := env.sink.latest()
	approved := latest[testbed.RegNum(1)]
	if approved.Status != central.StatusApproved || !strings.HasPrefix(approved.PaymentURL, env.central.URL+"/pay/") || approved.PayBy.IsZero() {
		t.Fatalf("approval update = %+v", approved)
	}
	if r := latest[testbed.RegNum(2)]; r.Status != central.StatusRejected || r.Reason == "" {
		t.Fatalf("rejection update = %+v", r)
	}
	// The candidate pays reg 1 on the phone page; reg 3 misses the deadline.
	if err := env.central.PayOrder(ctx, approved.PaymentURL[strings.LastIndex(approved.PaymentURL, "/")+1:]); err != nil {
		t.Fatal(err)
	}
	offset.Store(int64(40 * 24 * time.Hour))
	if n, err := srv.ExpireOverdue(); err != nil || n != 1 {
		t.Fatalf("ExpireOverdue = %d, %v; want 1", n, err)
	}
	offset.Store(0)
	if err := env.client.Pull(ctx); err != nil {
		t.Fatal(err)
	}
	latest = env.sink.latest()
	if latest[testbed.RegNum(1)].Status != central.StatusPaid || latest[testbed.RegNum(3)].Status != central.StatusExpired {
		t.Fatalf("after payment: reg1 %+v, reg3 %+v", latest[testbed.RegNum(1)], latest[testbed.RegNum(3)])
	}
	// Nothing new: pulling again returns no updates and no catalog.
	before := len(env.sink.updates)
	if err := env.client.Pull(ctx); err != nil || len(env.sink.updates) != before {
		t.Fatalf("idle pull added %d updates (%v)", len(env.sink.updates)-before, err)
	}

	if err := env.client.Heartbeat(ctx); err != nil {
		t.Fatal(err)
	}
	devs, _ := srv.Devices()
	if len(devs) != 1 || devs[0].Health == nil || devs[0].LastHeartbeat.IsZero() || devs[0].CentreID != central.DemoCentreID {
		t.Fatalf("devices = %+v", devs)
	}
}

func TestPoisonItemQuarantined(t *testing.T) {
	env := newEnv(t, smallCentral(), kiosk.Options{})
	ctx := t.Context()
	poison := map[string]string{}
	for n := range 40 {
		switch n {
		case 5:
			poison[env.add(n, 1, func(r *wire.Registration) { r.IDNumber = "110101199001011234" })] = "身份证"
		case 17:
			poison[env.add(n, 1, func(r *wire.Registration) { r.PositionID = "NOPE" })] = "职位"
		case 23:
			poison[env.add(n, 1, func(r *wire.Registration) { r.Photo = []byte("not a jpeg") })] = "JPEG"
		default:
			env.add(n, 1, nil)
		}
	}
	// An item whose document is not even JSON.
	env.outbox.Add(testbed.RegID("bad-json"), 1, "x", []byte("{not json"))
	poison[testbed.RegID("bad-json")] = "格式"
	if err := env.client.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	q, qq, _ := env.outbox.Depth(ctx)
	if q != 0 || qq != len(poison) {
		t.Fatalf("queued %d quarantined %d, want 0 and %d", q, qq, len(poison))
	}
	for id, want := range poison {
		if reason := env.outbox.quarantined[[2]any{id, 1}]; !strings.Contains(reason, want) {
			t.Errorf("%s quarantined with %q, want it to mention %q", id, reason, want)
		}
	}
	if n, _ := env.central.Server().RevisionCount(); n != 40-3 {
		t.Fatalf("central stored %d, want 37", n)
	}
}

func TestRevokedDeviceStops(t *testing.T) {
	env := newEnv(t, smallCentral(), kiosk.Options{})
	env.add(1, 1, nil)
	if err := env.central.Server().Revoke(env.id.DeviceID); err != nil {
		t.Fatal(err)
	}
	err := env.client.Drain(t.Context())
	if !kiosk.IsCode(err, wire.ErrCodeRevokedDevice) {
		t.Fatalf("Drain after revoke: %v", err)
	}
	if !env.client.State().Revoked {
		t.Fatal("state does not show revocation")
	}
	if q, _, _ := env.outbox.Depth(t.Context()); q != 1 {
		t.Fatalf("queued %d, want the item kept", q)
	}
}

func TestOversizeBatchSplitsAndSingleItemQuarantined(t *testing.T) {
	ccfg := smallCentral()
	ccfg.MaxBodyBytes = 1 << 20
	env := newEnv(t, ccfg, kiosk.Options{})
	big := testbed.Photo(300, 420, 100, 7) // ~100+ KB
	for n := range 20 {
		env.add(n, 1, func(r *wire.Registration) { r.Photo = big })
	}
	huge := env.add(99, 1, func(r *wire.Registration) { r.Photo = append(append([]byte{}, big...), make([]byte, 1<<20)...) })
	ctx := t.Context()
	for range 50 {
		err := env.client.Drain(ctx)
		if err == nil {
			break
		}
		if !kiosk.IsCode(err, wire.ErrCodeTooLarge) {
			t.Fatal(err)
		}
	}
	q, qq, _ := env.outbox.Depth(ctx)
	if q != 0 || qq != 1 {
		t.Fatalf("queued %d quarantined %d, want 0 and 1", q, qq)
	}
	if reason := env.outbox.quarantined[[2]any{huge, 1}]; reason == "" {
		t.Fatal("oversize item not the one quarantined")
	}
	if n, _ := env.central.Server().RevisionCount(); n != 20 {
		t.Fatalf("central stored %d, want 20", n)
	}
}

func TestQRLogin(t *testing.T) {
	env := newEnv(t, smallCentral(), kiosk.Options{})
	ctx := t.Context()
	s, err := env.client.StartQRLogin(ctx, wire.ChannelAlipay)
	if err != nil {
		t.Fatal(err)
	}
	if s.State != wire.QRWaiting || !strings.HasPrefix(s.URL, env.central.URL+"/qr/") {
		t.Fatalf("session = %+v", s)
	}
	if time.Until(s.ExpiresAt) > 121*time.Second || time.Until(s.ExpiresAt) < 110*time.Second {
		t.Fatalf("expires at %s, want 120 s from now", s.ExpiresAt)
	}
	if png, err := kiosk.QRCodePNG(s.URL, 256); err != nil || len(png) < 100 {
		t.Fatalf("QR png: %d bytes, %v", len(png), err)
	}
	// Nobody scans: the long poll returns the same state after its wait.
	start := time.Now()
	s2, err := env.client.PollQRLogin(ctx, s.ID, wire.QRWaiting)
	if err != nil || s2.State != wire.QRWaiting || time.Since(start) < time.Second {
		t.Fatalf("idle poll = %+v, %v after %s", s2, err, time.Since(start))
	}
	// Another kiosk cannot poll this session.
	other := newEnv(t, smallCentral(), kiosk.Options{})
	if _, err := other.client.PollQRLogin(ctx, s.ID, wire.QRWaiting); err == nil {
		t.Fatal("foreign device polled the session")
	}

	type pollResult struct {
		s   wire.QRSession
		err error
	}
	poll := func(known string) chan pollResult {
		ch := make(chan pollResult, 1)
		go func() {
			s, err := env.client.PollQRLogin(ctx, s.ID, known)
			ch <- pollResult{s, err}
		}()
		return ch
	}
	waiting := poll(wire.QRWaiting)
	time.Sleep(50 * time.Millisecond)
	// The phone opens the link: it sees the test-centre name before confirming.
	resp, err := http.Get(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(page), central.DemoCentreName) || !strings.Contains(string(page), "<form") {
		t.Fatalf("confirm page lacks the centre name or form:\n%s", page)
	}
	r := <-waiting
	if r.err != nil || r.s.State != wire.QRScanned {
		t.Fatalf("poll after scan = %+v, %v", r.s, r.err)
	}
	scanned := poll(wire.QRScanned)
	time.Sleep(50 * time.Millisecond)
	if st, page, err := env.central.ConfirmQR(ctx, s.URL, "李四", testbed.IDNumber(42)); err != nil || st != 200 {
		t.Fatalf("confirm: %d %v\n%s", st, err, page)
	}
	r = <-scanned
	if r.err != nil || r.s.State != wire.QRConfirmed || r.s.Identity == nil || r.s.Identity.IDNumber != testbed.IDNumber(42) || r.s.Identity.Source != "alipay_qr" {
		t.Fatalf("poll after confirm = %+v, %v", r.s, r.err)
	}
	// Single use: the identity is handed out once, a second confirm fails.
	s3, err := env.client.PollQRLogin(ctx, s.ID, wire.QRConfirmed)
	if err != nil || s3.State != wire.QRConsumed || s3.Identity != nil {
		t.Fatalf("second poll = %+v, %v", s3, err)
	}
	if st, _, _ := env.central.ConfirmQR(ctx, s.URL, "李四", testbed.IDNumber(42)); st != http.StatusConflict {
		t.Fatalf("second confirm status %d, want 409", st)
	}
}

func TestQRLoginExpires(t *testing.T) {
	now := time.Now()
	var offset atomic.Int64
	clock := func() time.Time { return now.Add(time.Duration(offset.Load())) }
	env := newEnv(t, smallCentral(), kiosk.Options{}, central.WithClock(clock))
	ctx := t.Context()
	s, err := env.client.StartQRLogin(ctx, wire.ChannelSocialSecurity)
	if err != nil {
		t.Fatal(err)
	}
	offset.Store(int64(121 * time.Second))
	s2, err := env.client.PollQRLogin(ctx, s.ID, wire.QRWaiting)
	if err != nil || s2.State != wire.QRExpired {
		t.Fatalf("poll = %+v, %v; want expired", s2, err)
	}
	if st, _, _ := env.central.ConfirmQR(ctx, s.URL, "王五", testbed.IDNumber(1)); st != http.StatusGone {
		t.Fatalf("confirm after expiry: %d, want 410", st)
	}
}

func TestRunSyncNowAndReconnect(t *testing.T) {
	env := newEnv(t, smallCentral(), kiosk.Options{})
	// Long idle interval: only SyncNow / SetOnline can make prompt rounds.
	cfg := testConfig(env.central.URL)
	cfg.PullInterval, cfg.HeartbeatInterval = time.Hour, time.Hour
	var (
		mu     sync.Mutex
		states []kiosk.State
	)
	seen := func() []kiosk.State {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(states)
	}
	c, err := kiosk.New(cfg, env.id, env.outbox, env.sink, kiosk.Options{Logger: testbed.Quiet(), OnState: func(s kiosk.State) {
		mu.Lock()
		states = append(states, s)
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s; state %+v", what, c.State())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	// A round is announced (Syncing) and then reported: a success leaves
	// no error, no failures, and the next round a PullInterval away.
	checkSuccess := func(what string, s kiosk.State) {
		t.Helper()
		if s.Syncing || s.Failures != 0 || s.LastError != "" || s.LastSuccess.IsZero() || !s.Online {
			t.Errorf("%s: state %+v, want a finished successful round", what, s)
		}
		if d := s.NextAttempt.Sub(s.LastSuccess); d != cfg.PullInterval {
			t.Errorf("%s: next attempt %s after the success, want the pull interval %s", what, d, cfg.PullInterval)
		}
	}
	// OnState runs after the state is updated: wait for the reports.
	waitFor("first round", func() bool { return len(seen()) >= 2 })
	first := seen()
	if len(first) != 2 || !first[0].Syncing {
		t.Fatalf("first round reported %d states %+v, want syncing then done", len(first), first)
	}
	checkSuccess("first round", first[1])
	if !first[0].LastSuccess.IsZero() {
		t.Errorf("syncing state of the first round already has a success: %+v", first[0])
	}

	env.add(1, 1, nil)
	c.SyncNow()
	waitFor("sync now", func() bool { q, _, _ := env.outbox.Depth(ctx); return q == 0 })
	waitFor("sync now reported", func() bool { return len(seen()) >= 4 })
	if s := seen()[3]; s.Queued != 0 || !s.LastSuccess.After(first[1].LastSuccess) {
		t.Errorf("after sync now: state %+v, want queue 0 and a newer success than %s", s, first[1].LastSuccess)
	} else {
		checkSuccess("sync now", s)
	}

	env.central.Stop()
	env.add(2, 1, nil)
	c.SyncNow()
	var failed kiosk.State
	waitFor("failure reported", func() bool {
		for _, s := range seen() {
			if s.Failures > 0 && !s.Syncing {
				failed = s
				return true
			}
		}
		return false
	})
	if failed.Failures != 1 || failed.LastError == "" || failed.Online || failed.Queued != 1 {
		t.Errorf("first failed round: state %+v, want 1 failure, an error, offline, 1 queued", failed)
	}
	if wait := time.Until(failed.NextAttempt); wait > cfg.BackoffCap {
		t.Errorf("after a failure the next attempt is in %s, want within the backoff cap %s", wait, cfg.BackoffCap)
	}
	if !failed.LastSuccess.Equal(seen()[3].LastSuccess) {
		t.Errorf("a failed round changed the last success: %+v", failed)
	}
	if err := env.central.Restart(); err != nil {
		t.Fatal(err)
	}
	c.SetOnline(true) // the app saw the network come back
	waitFor("delivery after reconnect", func() bool { q, _, _ := env.outbox.Depth(ctx); return q == 0 })
	waitFor("recovery reported", func() bool { all := seen(); s := all[len(all)-1]; return !s.Syncing && s.Failures == 0 })
	all := seen()
	checkSuccess("after reconnect", all[len(all)-1])
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run returned %v", err)
	}
}

func TestClockSkewCorrected(t *testing.T) {
	// The kiosk's clock runs 10 minutes fast.
	env := newEnv(t, smallCentral(), kiosk.Options{Now: func() time.Time { return time.Now().Add(10 * time.Minute) }})
	env.add(1, 1, nil)
	err := env.client.Drain(t.Context())
	if !kiosk.IsCode(err, wire.ErrCodeClockSkew) {
		t.Fatalf("first push: %v, want clock_skew", err)
	}
	off := env.client.State().ClockOffset
	if off > -9*time.Minute || off < -11*time.Minute {
		t.Fatalf("learnt offset %s, want about -10m", off)
	}
	if err := env.client.Drain(t.Context()); err != nil {
		t.Fatalf("push after correction: %v", err)
	}
	if q, _, _ := env.outbox.Depth(t.Context()); q != 0 {
		t.Fatal("not delivered after clock correction")
	}
}
