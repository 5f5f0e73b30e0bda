package store_test

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"examkiosk/sync/central/store"
)

// A Group commits calls that arrive during a commit together: 40 calls
// against a commit of 20 ms take a few transactions, not 40, and a lone
// call waits for no one.
func TestGroupCommitsTogether(t *testing.T) {
	var txs atomic.Int32
	var mu sync.Mutex // Update serialises, as every store's does
	update := func(f func(store.Tx) error) error {
		mu.Lock()
		defer mu.Unlock()
		txs.Add(1)
		if err := f(nil); err != nil {
			return err
		}
		time.Sleep(20 * time.Millisecond) // the commit's fsync
		return nil
	}
	g := store.NewGroup(update, 16)
	start := time.Now()
	if err := g.Do(func(store.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 200*time.Millisecond {
		t.Fatalf("a lone call took %s", el)
	}
	txs.Store(0)
	var wg sync.WaitGroup
	var ran atomic.Int32
	for range 40 {
		wg.Go(func() {
			if err := g.Do(func(store.Tx) error { ran.Add(1); return nil }); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if ran.Load() != 40 {
		t.Fatalf("%d calls ran, want 40", ran.Load())
	}
	if n := txs.Load(); n > 10 {
		t.Fatalf("40 concurrent calls took %d transactions, want a few (at most 16 calls each)", n)
	} else {
		t.Logf("40 concurrent calls in %d transactions", n)
	}

	// A failing call gets its own error; the others of its group commit.
	boom := errors.New("boom")
	errs := make([]error, 10)
	for i := range errs {
		wg.Go(func() {
			errs[i] = g.Do(func(store.Tx) error {
				if i == 3 {
					return boom
				}
				return nil
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if (i == 3) != errors.Is(err, boom) || (i != 3 && err != nil) {
			t.Fatalf("call %d: %v", i, err)
		}
	}
}

// A call that panics panics in its caller (as Update would) and leaves the
// group working for the others.
func TestGroupPanicReachesCaller(t *testing.T) {
	var mu sync.Mutex
	g := store.NewGroup(func(f func(store.Tx) error) error { mu.Lock(); defer mu.Unlock(); return f(nil) }, 16)
	func() {
		defer func() {
			if v := recover(); v != "boom" {
				t.Fatalf("recovered %v, want the call's panic", v)
			}
		}()
		g.Do(func(store.Tx) error { panic("boom") })
	}()
	done := make(chan error, 1)
	go func() { done <- g.Do(func(store.Tx) error { return nil }) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the group is stuck after a panic")
	}
}
