package kiosk_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"examkiosk/sync/kiosk"
	"examkiosk/sync/testbed"
	"examkiosk/sync/wire"
)

// overlap watches whether the outbox is read for the next batch while a
// push is at the central: a push waits (up to a second) for such a read,
// and such a read (one asking for more than a batch) waits for a push.
type overlap struct {
	*memOutbox
	base     http.RoundTripper
	batch    int
	inflight atomic.Int32 // number of the push at the central (0: none)
	seen     atomic.Int32 // number of the last push a read overlapped
	pushes   atomic.Int32
	held     atomic.Int32 // pushes that no read overlapped
}

func withinASecond(cond func() bool) bool {
	deadline := time.Now().Add(time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Millisecond)
	}
	return true
}

func (o *overlap) Pending(ctx context.Context, limit, maxBytes int) ([]wire.OutboxItem, error) {
	if limit > o.batch { // reading ahead
		if withinASecond(func() bool { return o.inflight.Load() != 0 }) {
			o.seen.Store(o.inflight.Load())
		}
	}
	return o.memOutbox.Pending(ctx, limit, maxBytes)
}

func (o *overlap) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path != "/v1/push" {
		return o.base.RoundTrip(r)
	}
	n := o.pushes.Add(1)
	o.inflight.Store(n)
	if !withinASecond(func() bool { return o.seen.Load() == n }) {
		o.held.Add(1)
	}
	resp, err := o.base.RoundTrip(r)
	o.inflight.Store(0)
	return resp, err
}

// A drain reads and seals the next batch while one is at the central, and
// still delivers every revision once, oldest first, a candidate's
// revisions in order.
func TestDrainPreparesNextBatchInFlight(t *testing.T) {
	c := testbed.StartCentral(t, smallCentral())
	cfg := testConfig(c.URL)
	cfg.BatchMaxItems = 10
	id, err := c.Enroll(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ob := &overlap{memOutbox: newMemOutbox(), base: &http.Transport{}, batch: cfg.BatchMaxItems}
	photo := testbed.Photo(300, 420, 60, 6)
	queue(ob.memOutbox, id.DeviceID, photo, 0, 45)
	for i := range 5 { // second revisions, queued after every first one
		rid := testbed.RegNum(i * 9)
		r := testbed.Registration(rid, 2, id.DeviceID, testbed.IDNumber(i*9), photo)
		r.PositionID = "P002"
		ob.Add(rid, 2, r.IDNumber, testbed.Doc(r))
	}
	client, err := kiosk.New(cfg, id, ob, nil, kiosk.Options{HTTPClient: &http.Client{Transport: ob}, Logger: testbed.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	var batches []kiosk.BatchResult
	if err := client.DrainEach(t.Context(), func(r kiosk.BatchResult) { batches = append(batches, r) }); err != nil {
		t.Fatal(err)
	}
	if len(batches) != 5 {
		t.Fatalf("%d batches %+v, want 5 of 10", len(batches), batches)
	}
	if h := ob.held.Load(); h > 0 {
		t.Fatalf("during %d of %d pushes the next batch was not read", h, len(batches))
	}
	assertDeliveredOnce(t, ob.memOutbox, c, 50)
	regs, err := c.Server().Registrations("")
	if err != nil || len(regs) != 45 {
		t.Fatalf("%d registrations (%v), want 45", len(regs), err)
	}
	for _, r := range regs {
		want := 1
		for i := range 5 {
			if r.ID == testbed.RegNum(i*9) {
				want = 2
			}
		}
		if r.Revision != want {
			t.Fatalf("%s: current revision %d, want %d", r.ID, r.Revision, want)
		}
	}
}
