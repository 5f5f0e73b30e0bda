package central_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"examkiosk/sync/central"
	"examkiosk/sync/central/store"
	"examkiosk/sync/testbed"
	"examkiosk/sync/wire"
)

// reads records, in the read-write transactions of a store, every Get and
// NextSequence that no Prefetch announced earlier in the same transaction:
// on PostgreSQL each such read is a round trip of its own, made while the
// node holds the write lock every other node waits for.
type reads struct {
	store.DB
	mu        sync.Mutex
	unwarned  []string
	announced int
	readsSeen int
	large     []int // the size of each value Batch was given to send ahead
}

type readsTx struct {
	store.Tx
	r    *reads
	keys map[string]bool // bucket path + "\x00" + key, or + "\x00seq"
}

type readsBucket struct {
	store.Bucket
	tx   *readsTx
	path string
}

func (r *reads) Batch(f func(store.Tx) error, large ...[]byte) error {
	r.mu.Lock()
	for _, v := range large {
		r.large = append(r.large, len(v))
	}
	r.mu.Unlock()
	return r.DB.Batch(func(tx store.Tx) error { return f(&readsTx{Tx: tx, r: r, keys: map[string]bool{}}) }, large...)
}

func (t *readsTx) Bucket(path ...[]byte) store.Bucket {
	var p []string
	for _, n := range path {
		p = append(p, string(n))
	}
	return &readsBucket{Bucket: t.Tx.Bucket(path...), tx: t, path: strings.Join(p, "/")}
}

func (b *readsBucket) Prefetch(keys ...[]byte) error {
	b.tx.r.mu.Lock()
	b.tx.keys[b.path+"\x00seq"] = true
	for _, k := range keys {
		b.tx.keys[b.path+"\x00"+string(k)] = true
	}
	b.tx.r.announced += len(keys) + 1
	b.tx.r.mu.Unlock()
	return b.Bucket.Prefetch(keys...)
}

func (b *readsBucket) Get(key []byte) []byte {
	b.tx.r.mu.Lock()
	b.tx.r.readsSeen++
	if !b.tx.keys[b.path+"\x00"+string(key)] {
		b.tx.r.unwarned = append(b.tx.r.unwarned, fmt.Sprintf("Get %s %q", b.path, key))
	}
	b.tx.r.mu.Unlock()
	return b.Bucket.Get(key)
}

func (b *readsBucket) NextSequence() (uint64, error) {
	b.tx.r.mu.Lock()
	b.tx.r.readsSeen++
	if !b.tx.keys[b.path+"\x00seq"] {
		b.tx.r.unwarned = append(b.tx.r.unwarned, "NextSequence "+b.path)
	}
	b.tx.r.mu.Unlock()
	return b.Bucket.NextSequence()
}

// Ingest sends the sealed revisions to the store ahead of its write lock
// and announces every record it reads before it reads any (the
// catalog, the device, the count under review, each item's registration,
// position, revision and candidate, the sequences it advances): a
// PostgreSQL store reads them all in one round trip instead of one each
// under the write lock. Checked for a batch of new registrations and for
// the same batch again (every item a duplicate).
func TestIngestAnnouncesEveryRead(t *testing.T) {
	rec := &reads{}
	c := testbed.StartCentral(t, central.DefaultConfig(), central.WithStoreWrapper(func(db store.DB) store.DB {
		rec.DB = db
		return rec
	}))
	d := enrol(t, c)
	photo := testbed.Photo(300, 420, 60, 5)
	var regs []wire.Registration
	for i := range 3 {
		id := testbed.RegID(fmt.Sprintf("announce-%d", i))
		regs = append(regs, testbed.Registration(id, 1, d.id.DeviceID, testbed.IDNumber(100+i), photo))
	}
	items := d.sealedItems(regs...)
	for _, round := range []string{"accepted", "duplicate"} {
		rec.mu.Lock()
		rec.unwarned, rec.announced, rec.readsSeen, rec.large = nil, 0, 0, nil
		rec.mu.Unlock()
		res, err := c.Server().Ingest(d.id.DeviceID, items)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			if r.Status != round {
				t.Fatalf("%s round: %s %s (%s)", round, r.ID, r.Status, r.Reason)
			}
		}
		rec.mu.Lock()
		unwarned, announced, seen, large := slices.Clone(rec.unwarned), rec.announced, rec.readsSeen, slices.Clone(rec.large)
		rec.mu.Unlock()
		// Every opened revision's sealed record goes ahead of the write lock.
		if len(large) != len(items) || slices.Contains(large, 0) {
			t.Errorf("%s round: values sent ahead of the write lock %v, want the %d sealed revisions", round, large, len(items))
		}
		if seen < len(items)+2 {
			t.Fatalf("%s round: %d reads seen in the ingest transaction, want at least %d (the wrapper sees nothing?)", round, seen, len(items)+2)
		}
		if len(unwarned) > 0 {
			t.Errorf("%s round: %d reads not announced by a Prefetch (%d announced): %v", round, len(unwarned), announced, unwarned)
		}
	}
}
