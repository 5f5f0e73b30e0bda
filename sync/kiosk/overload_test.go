package kiosk_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"examkiosk/sync/kiosk"
	"examkiosk/sync/testbed"
)

// slowBig plays an overloaded central: a push whose body is larger than
// limit is forwarded (the central does the work) and its answer comes after
// the client gave up.
type slowBig struct {
	base  http.RoundTripper
	limit int64
	mu    sync.Mutex
	sizes []int64 // push body sizes, in order
}

func (s *slowBig) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path != "/v1/push" {
		return s.base.RoundTrip(r)
	}
	s.mu.Lock()
	s.sizes = append(s.sizes, r.ContentLength)
	s.mu.Unlock()
	resp, err := s.base.RoundTrip(r)
	if err != nil || r.ContentLength <= s.limit {
		return resp, err
	}
	resp.Body.Close()
	<-r.Context().Done()
	return nil, r.Context().Err()
}

// A push that times out is retried with half the batch until batches fit;
// every registration still arrives once.
func TestPushTimeoutHalvesBatch(t *testing.T) {
	c := testbed.StartCentral(t, smallCentral())
	cfg := testConfig(c.URL)
	cfg.RequestTimeout = 500 * time.Millisecond
	cfg.BatchMaxItems = 40
	id, err := c.Enroll(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	photo := testbed.Photo(300, 420, 60, 5)
	ob := newMemOutbox()
	queue(ob, id.DeviceID, photo, 0, 40)
	item := int64(len(photo) * 4 / 3) // about one sealed document
	tr := &slowBig{base: &http.Transport{}, limit: 12 * item}
	client, err := kiosk.New(cfg, id, ob, nil, kiosk.Options{HTTPClient: &http.Client{Transport: tr}, Logger: testbed.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for {
		if err := client.Drain(ctx); err == nil {
			break
		} else if ctx.Err() != nil {
			t.Fatalf("not drained: %v", err)
		}
	}
	tr.mu.Lock()
	sizes := tr.sizes
	tr.mu.Unlock()
	t.Logf("push sizes %v (limit %d)", sizes, tr.limit)
	if len(sizes) < 3 || sizes[0] <= tr.limit || sizes[1] >= sizes[0] || sizes[len(sizes)-1] > tr.limit {
		t.Fatalf("push sizes %v: want a timed-out batch retried smaller until it fits under %d", sizes, tr.limit)
	}
	assertDeliveredOnce(t, ob, c, 40)
}
