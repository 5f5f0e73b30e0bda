package kiosk_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"examkiosk/sync/central"
	"examkiosk/sync/kiosk"
	"examkiosk/sync/testbed"
)

// TestDeliveryUnderFaults pushes 10,000 registration revisions (9,500
// candidates, 500 of them resubmitted) through a network that drops
// requests, loses answers after the central committed, answers 500, times
// out, duplicates and reorders requests, while the central restarts
// mid-batch. Exactly the 10,000 must arrive, none twice, none lost, and each
// candidate's revisions in order.
func TestDeliveryUnderFaults(t *testing.T) {
	const total = 10000
	n, faults := total, testbed.DefaultFaults
	if testing.Short() {
		n, faults.RestartEvery = 1000, 8
	}
	c := testbed.StartCentral(t, smallCentral())
	cfg := testConfig(c.URL)
	cfg.RequestTimeout = time.Second
	cfg.BatchMaxItems = 100
	if testing.Short() {
		cfg.BatchMaxItems = 20 // enough requests for every fault to occur
	}
	id, err := c.Enroll(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ob, sink := newMemOutbox(), &memSink{}
	photo := testbed.Photo(300, 420, 60, 1)
	firsts := n - n/20
	for i := range firsts {
		rid := testbed.RegNum(i)
		ob.Add(rid, 1, testbed.IDNumber(i), testbed.Doc(testbed.Registration(rid, 1, id.DeviceID, testbed.IDNumber(i), photo)))
	}
	for j := range n / 20 {
		i := j * 19
		rid := testbed.RegNum(i)
		r := testbed.Registration(rid, 2, id.DeviceID, testbed.IDNumber(i), photo)
		r.PositionID = "P002"
		ob.Add(rid, 2, r.IDNumber, testbed.Doc(r))
	}
	ft := testbed.NewFaultTransport(42, faults, c)
	client, err := kiosk.New(cfg, id, ob, sink, kiosk.Options{HTTPClient: &http.Client{Transport: ft}, Logger: testbed.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 80*time.Second)
	defer cancel()
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- client.Run(ctx) }()
	waitDrained(t, ctx, client, ob, ft)
	cancel()
	<-done
	ft.Wait()
	elapsed := time.Since(start)
	st := ft.Stats()
	t.Logf("delivered %d revisions in %s through faults %+v", n, elapsed.Round(time.Millisecond), st)
	if st.Dropped == 0 || st.Lost == 0 || st.Status500 == 0 || st.Duplicated == 0 || st.Reordered == 0 || st.Restarts == 0 {
		t.Errorf("not every fault was exercised: %+v", st)
	}

	// Every revision acknowledged exactly once on the kiosk side.
	if len(ob.delivered) != n {
		t.Fatalf("kiosk marked %d delivered, want %d", len(ob.delivered), n)
	}
	for k, times := range ob.delivered {
		if times != 1 {
			t.Fatalf("%v acknowledged %d times", k, times)
		}
	}
	// The central holds exactly the n revisions and the right current ones.
	srv := c.Server()
	if got, _ := srv.RevisionCount(); got != n {
		t.Fatalf("central stored %d revisions, want %d", got, n)
	}
	regs, _ := srv.Registrations("")
	if len(regs) != firsts {
		t.Fatalf("central has %d registrations, want %d", len(regs), firsts)
	}
	for _, r := range regs {
		var i int
		fmt.Sscanf(r.ID, testbed.RegNumFormat, &i)
		want := 1
		if i%19 == 0 && i/19 < n/20 {
			want = 2
		}
		if r.Revision != want {
			t.Fatalf("%s current revision %d, want %d", r.ID, r.Revision, want)
		}
	}
	// None ingested twice: the central emitted exactly one under_review
	// update per revision. Pull them all over a clean connection.
	clean, err := kiosk.New(cfg, id, ob, sink, kiosk.Options{Logger: testbed.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	if err := clean.Pull(t.Context()); err != nil {
		t.Fatal(err)
	}
	seen := map[[2]any]int{}
	for _, u := range sink.updates {
		if u.Status == central.StatusUnderReview {
			seen[[2]any{u.RegistrationID, u.Revision}]++
		}
	}
	if len(seen) != n {
		t.Fatalf("%d distinct under_review updates, want %d", len(seen), n)
	}
	for k, times := range seen {
		if times != 1 {
			t.Fatalf("%v ingested %d times", k, times)
		}
	}
}

// waitDrained waits until the kiosk's queue is empty with nothing
// quarantined, and fails the test when ctx ends first.
func waitDrained(t *testing.T, ctx context.Context, client *kiosk.Client, ob *memOutbox, ft *testbed.FaultTransport) {
	t.Helper()
	for {
		q, qq, _ := ob.Depth(ctx)
		if q == 0 {
			if qq != 0 {
				t.Fatalf("%d items quarantined: %v", qq, ob.quarantined)
			}
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("not drained in time: %d queued; state %+v; faults %+v", q, client.State(), ft.Stats())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
