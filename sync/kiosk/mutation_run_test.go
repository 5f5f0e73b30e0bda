package kiosk_test

import (
	"context"
	"testing"
	"time"

	"examkiosk/sync/kiosk"
	"examkiosk/sync/testbed"
	"examkiosk/sync/wire"
)

// Run sends a heartbeat in its first round (the fleet page shows a kiosk
// as soon as it syncs) and then once a sync.heartbeat_interval, not on
// every pull round.
func TestRunHeartbeatFirstRoundThenByInterval(t *testing.T) {
	env := newEnv(t, smallCentral(), kiosk.Options{})
	cfg := testConfig(env.central.URL)
	cfg.PullInterval, cfg.HeartbeatInterval = 20*time.Millisecond, time.Hour
	c, err := kiosk.New(cfg, env.id, env.outbox, env.sink, kiosk.Options{Logger: testbed.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	srv := env.central.Server()
	lastHeartbeat := func() time.Time {
		devs, err := srv.Devices()
		if err != nil || len(devs) != 1 {
			t.Fatalf("devices %+v (%v), want the one kiosk", devs, err)
		}
		return devs[0].LastHeartbeat
	}
	if !lastHeartbeat().IsZero() {
		t.Fatal("a heartbeat before Run")
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() { cancel(); <-done }()
	deadline := time.Now().Add(5 * time.Second)
	for lastHeartbeat().IsZero() {
		if time.Now().After(deadline) {
			t.Fatalf("no heartbeat 5 s after Run started; state %+v", c.State())
		}
		time.Sleep(5 * time.Millisecond)
	}
	first := lastHeartbeat()
	// Ten pull rounds later the heartbeat is still the first one.
	since := c.State().LastSuccess
	rounds := 0
	for rounds < 10 {
		if time.Now().After(deadline) {
			t.Fatalf("%d pull rounds in 5 s, want 10 (every 20 ms)", rounds)
		}
		if s := c.State().LastSuccess; s.After(since) {
			since, rounds = s, rounds+1
		}
		time.Sleep(2 * time.Millisecond)
	}
	if hb := lastHeartbeat(); !hb.Equal(first) {
		t.Errorf("heartbeat at %v after %d pull rounds, want only the first (%v): the interval is an hour", hb, rounds, first)
	}
}

// A QR login long poll may take its whole wait at the central even when
// that is longer than sync.request_timeout: the poll's own limit is the
// request timeout plus the wait.
func TestQRPollOutlastsRequestTimeout(t *testing.T) {
	env := newEnv(t, smallCentral(), kiosk.Options{})
	cfg := testConfig(env.central.URL)
	cfg.RequestTimeout, cfg.QRPollWait = 300*time.Millisecond, time.Second
	c, err := kiosk.New(cfg, env.id, env.outbox, env.sink, kiosk.Options{Logger: testbed.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.StartQRLogin(t.Context(), wire.ChannelAlipay)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	got, err := c.PollQRLogin(t.Context(), s.ID, wire.QRWaiting)
	if err != nil || got.State != wire.QRWaiting {
		t.Fatalf("idle poll with a 1 s wait and a 300 ms request timeout: %+v, %v after %s", got, err, time.Since(start))
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("the idle poll returned after %s, before the central's 1 s wait", d)
	}
}

// FullJitter at the ends of its shift: at attempt 40 a tiny base still
// bounds the wait by base·2^39 (below the cap), and a base whose shift
// wraps to exactly zero (2^25 ns · 2^39 = 2^64) waits up to the cap
// instead of panicking on an empty range.
func TestFullJitterShiftEnds(t *testing.T) {
	bound := time.Duration(1) << 39 // 1 ns · 2^39 ≈ 550 s
	for range 200 {
		if d := kiosk.FullJitter(time.Nanosecond, time.Hour, 40); d < 0 || d >= bound {
			t.Fatalf("FullJitter(1ns, 1h, 40) = %s; want in [0, %s)", d, bound)
		}
	}
	var maxSeen time.Duration
	for range 200 {
		d := kiosk.FullJitter(1<<25, time.Hour, 40)
		if d < 0 || d >= time.Hour {
			t.Fatalf("FullJitter(2^25 ns, 1h, 40) = %s; want in [0, 1h)", d)
		}
		maxSeen = max(maxSeen, d)
	}
	if maxSeen < 30*time.Minute {
		t.Errorf("FullJitter(2^25 ns, 1h, 40): max of 200 draws %s, want the whole hour's range", maxSeen)
	}
}
