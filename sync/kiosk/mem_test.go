package kiosk_test

import (
	"context"
	"sync"

	"examkiosk/sync/wire"
)

// memOutbox is an in-memory wire.Outbox with the semantics app/store has.
type memOutbox struct {
	mu          sync.Mutex
	seq         uint64
	queue       []wire.OutboxItem // by Seq
	delivered   map[[2]any]int    // (id, rev) -> times acknowledged as delivered
	quarantined map[[2]any]string
	acks        int
}

func newMemOutbox() *memOutbox {
	return &memOutbox{delivered: map[[2]any]int{}, quarantined: map[[2]any]string{}}
}

func (o *memOutbox) Add(id string, rev int, candidate string, doc []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.seq++
	o.queue = append(o.queue, wire.OutboxItem{Seq: o.seq, ID: id, Revision: rev, CandidateKey: candidate, Doc: doc})
}

func (o *memOutbox) Pending(_ context.Context, limit, maxBytes int) ([]wire.OutboxItem, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []wire.OutboxItem
	size := 0
	for _, it := range o.queue {
		if len(out) == limit || (len(out) > 0 && size+len(it.Doc) > maxBytes) {
			break
		}
		out = append(out, it)
		size += len(it.Doc)
	}
	return out, nil
}

func (o *memOutbox) Ack(_ context.Context, results []wire.Result) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.acks++
	done := map[[2]any]bool{}
	for _, r := range results {
		k := [2]any{r.ID, r.Revision}
		switch r.Status {
		case wire.StatusAccepted, wire.StatusDuplicate:
			o.delivered[k]++
			done[k] = true
		case wire.StatusRejected:
			o.quarantined[k] = r.Reason
			done[k] = true
		}
	}
	q := o.queue[:0]
	for _, it := range o.queue {
		if !done[[2]any{it.ID, it.Revision}] {
			q = append(q, it)
		}
	}
	o.queue = q
	return nil
}

func (o *memOutbox) Depth(context.Context) (int, int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.queue), len(o.quarantined), nil
}

// memSink is an in-memory wire.Sink.
type memSink struct {
	mu      sync.Mutex
	cursor  string
	updates []wire.Update
	catalog *wire.Catalog
}

func (s *memSink) PullCursor(context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cursor, nil
}

func (s *memSink) ApplyPull(_ context.Context, p wire.Pull) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.updates = append(s.updates, p.Updates...)
	if p.Catalog != nil {
		s.catalog = p.Catalog
	}
	s.cursor = p.Cursor
	return nil
}

// latest returns the last status per registration.
func (s *memSink) latest() map[string]wire.Update {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := map[string]wire.Update{}
	for _, u := range s.updates {
		m[u.RegistrationID] = u
	}
	return m
}
