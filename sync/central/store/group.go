package store

import (
	"fmt"
	"sync"
)

// GroupCalls is how many calls the stores' Batch commits together at most.
const GroupCalls = 16

// Group commits concurrent calls together: the implementation of
// DB.Batch for any store whose Update serialises writers. A call arriving
// while no group runs starts one at once (no added latency when alone);
// calls arriving while a group commits wait and form the next group, so
// the commit rate adapts to the load (a group commit in the manner of
// database logs). Construct it with the store's Update.
type Group struct {
	update   func(f func(Tx) error, large ...[]byte) error
	maxCalls int

	mu      sync.Mutex
	pending []*groupCall
	running bool
}

type groupCall struct {
	f     func(Tx) error
	large [][]byte
	done  chan error
}

// NewGroup returns a Group committing through update, at most maxCalls
// calls per transaction (bounding the memory a transaction holds). update
// runs f in one serialised transaction, given the large values of all its
// calls (see DB.Batch).
func NewGroup(update func(f func(Tx) error, large ...[]byte) error, maxCalls int) *Group {
	return &Group{update: update, maxCalls: max(maxCalls, 1)}
}

// Do runs f in a transaction shared with the calls pending at the same
// time and returns its result once that transaction committed (see
// DB.Batch for the contract f follows).
func (g *Group) Do(f func(Tx) error, large ...[]byte) error {
	c := &groupCall{f: f, large: large, done: make(chan error, 1)}
	g.mu.Lock()
	g.pending = append(g.pending, c)
	lead := !g.running
	g.running = true
	g.mu.Unlock()
	if lead {
		g.lead()
	}
	err := <-c.done
	if p, ok := err.(panicked); ok {
		panic(p.v) // in the caller's goroutine, as Update would
	}
	return err
}

// panicked carries a panic of a call's f to its caller, so that a panic
// neither kills the goroutine leading the group nor leaves the group
// stuck.
type panicked struct{ v any }

func (p panicked) Error() string { return fmt.Sprintf("panic: %v", p.v) }

// call runs f, turning a panic into a panicked error.
func call(f func(Tx) error, tx Tx) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = panicked{v}
		}
	}()
	return f(tx)
}

// lead commits one group and hands on: the calls that arrived meanwhile
// are led by a new goroutine, so that no caller waits for groups after
// its own.
func (g *Group) lead() {
	g.mu.Lock()
	n := min(len(g.pending), g.maxCalls)
	calls := g.pending[:n:n]
	g.pending = g.pending[n:]
	g.mu.Unlock()
	g.run(calls)
	g.mu.Lock()
	if len(g.pending) == 0 {
		g.running = false
		g.pending = nil
	} else {
		go g.lead()
	}
	g.mu.Unlock()
}

// run commits calls in one transaction. A call that fails is taken out and
// run alone (its error may stem from the calls before it in the group);
// the others run again without it.
func (g *Group) run(calls []*groupCall) {
	for len(calls) > 0 {
		failed := -1
		var large [][]byte
		for _, c := range calls {
			large = append(large, c.large...)
		}
		err := g.update(func(tx Tx) error {
			failed = -1
			for i, c := range calls {
				if err := call(c.f, tx); err != nil {
					failed = i
					return err
				}
			}
			return nil
		}, large...)
		if failed < 0 || len(calls) == 1 {
			for _, c := range calls {
				c.done <- err // nil, or the commit's failure: nothing of the group is stored
			}
			return
		}
		c := calls[failed]
		c.done <- g.update(func(tx Tx) error { return call(c.f, tx) }, c.large...)
		calls = append(calls[:failed:failed], calls[failed+1:]...)
	}
}
