package kiosk

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"testing"
	"time"
)

func TestFailsOver(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"answered", nil, false},
		{"connection refused", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, true},
		{"timeout", context.DeadlineExceeded, true},
		{"signed 500", &APIError{HTTPStatus: 500, Code: "internal"}, true},
		{"signed 503", fmt.Errorf("wrapped: %w", &APIError{HTTPStatus: 503, Code: "unavailable"}), true},
		{"signed 400 refusal", &APIError{HTTPStatus: 400, Code: "invalid"}, false},
		{"signed 401 nonce reused", &APIError{HTTPStatus: 401, Code: "nonce_reused"}, false},
		{"signed 403 revoked", &APIError{HTTPStatus: 403, Code: "revoked_device"}, false},
		{"signed 429", &APIError{HTTPStatus: 429, Code: "rate_limited"}, false},
		{"a proxy's unsigned error page", fmt.Errorf("%w (HTTP 502)", ErrUnsignedAnswer), true},
		{"signed answer that does not decode", &decodeError{errors.New("bad json")}, false},
	} {
		if got := failsOver(tc.err); got != tc.want {
			t.Errorf("%s: failsOver = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestNodesStickAndFailBack(t *testing.T) {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	n := newNodes([]string{"https://a/", "https://b", "https://c"}, time.Minute, func() time.Time { return now })
	if got := n.order(); !slices.Equal(got, []int{0, 1, 2}) {
		t.Fatalf("first order %v", got)
	}
	// a and b fail, c answers: the client stays on c, then tries a and b.
	n.failed(0)
	n.failed(1)
	if !n.answered(2) {
		t.Fatal("moving to c was not reported")
	}
	if got := n.order(); !slices.Equal(got, []int{2, 0, 1}) || n.current() != "https://c" {
		t.Fatalf("after failover: order %v, current %s", got, n.current())
	}
	now = now.Add(59 * time.Second)
	if got := n.order(); got[0] != 2 {
		t.Fatalf("failed back before failback_after: %v", got)
	}
	now = now.Add(time.Second)
	if got := n.order(); !slices.Equal(got, []int{0, 2, 1}) {
		t.Fatalf("after failback_after: order %v, want the first node, then the one in use", got)
	}
	// The first node still fails: the client goes back to c for another minute.
	n.failed(0)
	n.failed(1)
	if n.answered(2) {
		t.Fatal("staying on c was reported as a move")
	}
	if got := n.order(); got[0] != 2 {
		t.Fatalf("order %v after a failed failback", got)
	}
	now = now.Add(time.Minute)
	n.order()
	n.answered(0)
	if got := n.order(); !slices.Equal(got, []int{0, 1, 2}) || n.current() != "https://a" {
		t.Fatalf("back on the first node: order %v, current %s", got, n.current())
	}
}
