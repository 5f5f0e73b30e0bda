package kiosk_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"examkiosk/sync/central"
	"examkiosk/sync/kiosk"
	"examkiosk/sync/testbed"
	"examkiosk/sync/wire"
)

// genOutbox holds n queued registrations and builds their documents on
// demand (as app/store does), so that 10,000 × 40 KB need not sit in memory.
type genOutbox struct {
	mu     sync.Mutex
	device string
	photo  []byte
	next   int // first pending
	n      int
}

func (o *genOutbox) doc(i int) []byte {
	rid := testbed.RegNum(i)
	return testbed.Doc(testbed.Registration(rid, 1, o.device, testbed.IDNumber(i), o.photo))
}

func (o *genOutbox) Pending(_ context.Context, limit, maxBytes int) ([]wire.OutboxItem, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []wire.OutboxItem
	size := 0
	for i := o.next; i < o.n && len(out) < limit; i++ {
		d := o.doc(i)
		if len(out) > 0 && size+len(d) > maxBytes {
			break
		}
		out = append(out, wire.OutboxItem{Seq: uint64(i + 1), ID: testbed.RegNum(i), Revision: 1, CandidateKey: fmt.Sprint(i), Doc: d})
		size += len(d)
	}
	return out, nil
}

func (o *genOutbox) Ack(_ context.Context, rs []wire.Result) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, r := range rs {
		var i int
		fmt.Sscanf(r.ID, testbed.RegNumFormat, &i)
		if r.Status == wire.StatusRejected {
			return fmt.Errorf("rejected %s: %s", r.ID, r.Reason)
		}
		if i == o.next {
			o.next++
		}
	}
	return nil
}

func (o *genOutbox) Depth(context.Context) (int, int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.n - o.next, 0, nil
}

// BenchmarkDrain10k drains 10,000 queued registrations with 40 KB photos
// to a central on loopback (real bbolt on the central side, documents built
// per batch on the kiosk side). Reports seconds per drain, registrations per
// second and the p50/p99 batch round-trip latency.
//
//	go test -run '^$' -bench Drain10k -benchtime 1x ./sync/kiosk/
func BenchmarkDrain10k(b *testing.B) {
	const n = 10000
	photo := testbed.Photo(400, 560, 60, 5)
	b.Logf("photo %d bytes", len(photo))
	var stats testbed.DrainStats
	for b.Loop() {
		b.StopTimer()
		c := testbed.StartCentral(b, central.DefaultConfig())
		cfg := testConfig(c.URL)
		id, err := c.Enroll(context.Background(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		ob := &genOutbox{device: id.DeviceID, photo: photo, n: n}
		client, err := kiosk.New(cfg, id, ob, nil, kiosk.Options{Logger: testbed.Quiet()})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		stats.Drain(b, context.Background(), client)
		b.StopTimer()
		if got, _ := c.Server().RevisionCount(); got != n {
			b.Fatalf("central stored %d", got)
		}
		c.Stop()
		b.StartTimer()
	}
	stats.Report(b)
}
