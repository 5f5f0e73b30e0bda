package kiosk_test

import (
	"context"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"

	"examkiosk/sync/kiosk"
	"examkiosk/sync/testbed"
	"examkiosk/sync/wire"
)

// readCounter counts the outbox reads of a drain: a plain read (at most a
// batch: the drain found no batch ready) and a read ahead (the batch that
// follows the one at the central).
type readCounter struct {
	*memOutbox
	batch        int
	plain, ahead atomic.Int32
}

func (r *readCounter) Pending(ctx context.Context, limit, maxBytes int) ([]wire.OutboxItem, error) {
	if limit > r.batch {
		r.ahead.Add(1)
	} else {
		r.plain.Add(1)
	}
	return r.memOutbox.Pending(ctx, limit, maxBytes)
}

// A drain sends the batch it read ahead (it does not read the outbox again
// for each batch), and that batch keeps sync.batch_max_bytes exactly: a
// batch whose documents fill the limit to the byte is whole, one more
// document is not in it.
func TestDrainSendsReadAheadBatchWithinByteLimit(t *testing.T) {
	c := testbed.StartCentral(t, smallCentral())
	cfg := testConfig(c.URL)
	cfg.BatchMaxItems = 50
	id, err := c.Enroll(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ob := &readCounter{memOutbox: newMemOutbox(), batch: cfg.BatchMaxItems}
	photo := testbed.Photo(300, 420, 60, 7)
	doc := len(testbed.Doc(testbed.Registration(testbed.RegNum(0), 1, id.DeviceID, testbed.IDNumber(0), photo)))
	per := (64<<10 + doc - 1) / doc // documents a batch holds at the smallest byte limit allowed
	cfg.BatchMaxBytes = per * doc
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	queue(ob.memOutbox, id.DeviceID, photo, 0, 4*per)
	for _, it := range ob.queue {
		if len(it.Doc) != doc {
			t.Fatalf("%s: a document of %d bytes, want all %d", it.ID, len(it.Doc), doc)
		}
	}
	client, err := kiosk.New(cfg, id, ob, nil, kiosk.Options{HTTPClient: &http.Client{}, Logger: testbed.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int
	if err := client.DrainEach(t.Context(), func(r kiosk.BatchResult) { sizes = append(sizes, r.Sent) }); err != nil {
		t.Fatal(err)
	}
	if want := []int{per, per, per, per}; !slices.Equal(sizes, want) {
		t.Errorf("batches of %v documents of %d bytes with batch_max_bytes %d; want %v", sizes, doc, cfg.BatchMaxBytes, want)
	}
	// One plain read for the first batch and one that finds the outbox
	// empty; every other batch was read ahead and sent as read.
	if p, a := ob.plain.Load(), ob.ahead.Load(); p != 2 || a != 4 {
		t.Errorf("%d plain outbox reads and %d reads ahead for 4 batches; want 2 and 4 (each batch after the first sent as read ahead)", p, a)
	}
	assertDeliveredOnce(t, ob.memOutbox, c, 4*per)
}
