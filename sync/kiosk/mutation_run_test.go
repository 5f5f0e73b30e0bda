package kiosk_test

import (
	"context"
	"testing"
	"time"

	"examkiosk/sync/kiosk"
	"examkiosk/sync/testbed"
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
