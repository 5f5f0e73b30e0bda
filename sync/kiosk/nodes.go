package kiosk

import (
	"errors"
	"strings"
	"sync"
	"time"
)

// nodes is the client's choice among the central's node URLs
// (Config.Centrals): it stays on the node that last answered, and after
// FailbackAfter on another node it tries the first again.
type nodes struct {
	urls     []string // base URLs without a trailing slash, in order of preference
	failback time.Duration
	now      func() time.Time

	mu  sync.Mutex
	cur int       // index of the node in use
	at  time.Time // when the client last found the first node failing
}

func newNodes(urls []string, failback time.Duration, now func() time.Time) *nodes {
	n := &nodes{urls: make([]string, len(urls)), failback: failback, now: now}
	for i, u := range urls {
		n.urls[i] = strings.TrimRight(u, "/")
	}
	return n
}

// order returns the indexes to try for one request: the node in use first
// and the others after it in list order; when the client has been away from
// the first node for FailbackAfter, the first node, then the one in use,
// then the others.
func (n *nodes) order() []int {
	n.mu.Lock()
	cur := n.cur
	failback := cur != 0 && n.now().Sub(n.at) >= n.failback
	n.mu.Unlock()
	out := make([]int, 0, len(n.urls))
	if failback {
		out = append(out, 0)
	}
	for k := range len(n.urls) {
		if i := (cur + k) % len(n.urls); !failback || i != 0 {
			out = append(out, i)
		}
	}
	return out
}

// failed records that node i did not answer.
func (n *nodes) failed(i int) {
	if i != 0 {
		return
	}
	n.mu.Lock()
	n.at = n.now()
	n.mu.Unlock()
}

// answered records that node i answered (with a signed answer, refusals
// included): the client stays on it. It reports whether the client moved.
func (n *nodes) answered(i int) (moved bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	moved = n.cur != i
	n.cur = i
	return moved
}

// current returns the URL of the node in use.
func (n *nodes) current() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.urls[n.cur]
}

// failsOver reports whether a request that ended with err should be sent
// to the next node: the node was unreachable, timed out, or answered 5xx
// or with something the central did not sign (a proxy's error page). A
// refusal the central signed (4xx) is not: the next node shares the store
// and would give the same answer.
func failsOver(err error) bool {
	if err == nil {
		return false
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.HTTPStatus >= 500
	}
	var de *decodeError
	return !errors.As(err, &de)
}

// decodeError is a signed 2xx answer the client could not decode: the
// node answered, so the next one is not tried.
type decodeError struct{ err error }

func (e *decodeError) Error() string { return "decode answer: " + e.err.Error() }
func (e *decodeError) Unwrap() error { return e.err }
