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
