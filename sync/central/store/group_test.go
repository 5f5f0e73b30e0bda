package store_test

import (
	"errors"
	"slices"
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
	update := func(f func(store.Tx) error, _ ...[]byte) error {
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
	g := store.NewGroup(func(f func(store.Tx) error, _ ...[]byte) error { mu.Lock(); defer mu.Unlock(); return f(nil) }, 16)
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

// Each transaction of a Group gets the large values of exactly the calls
// it runs: all of the group's, and a failing call's own when it runs alone
// (the others run again without them).
func TestGroupPassesLargeValues(t *testing.T) {
	var mu sync.Mutex
	var given [][]string
	update := func(f func(store.Tx) error, large ...[]byte) error {
		mu.Lock()
		defer mu.Unlock()
		var names []string
		for _, v := range large {
			names = append(names, string(v))
		}
		given = append(given, names)
		time.Sleep(10 * time.Millisecond)
		return f(nil)
	}
	g := store.NewGroup(update, 16)
	boom := errors.New("boom")
	var wg sync.WaitGroup
	// The first call holds the group while the other three queue behind
	// it; of those three (one group), "bad" fails.
	wg.Go(func() { g.Do(func(store.Tx) error { return nil }, []byte("first")) })
	time.Sleep(5 * time.Millisecond)
	for _, name := range []string{"x", "bad", "y"} {
		wg.Go(func() {
			err := g.Do(func(store.Tx) error {
				if name == "bad" {
					return boom
				}
				return nil
			}, []byte(name))
			if (name == "bad") != errors.Is(err, boom) {
				t.Errorf("call %s returned %v", name, err)
			}
		})
	}
	wg.Wait()
	count := map[string]int{}
	for _, tx := range given {
		for _, n := range tx {
			count[n]++
		}
	}
	// first once; x, bad, y in the group's first run; bad alone; x and y
	// again without it.
	if len(given) != 4 || count["first"] != 1 || count["bad"] != 2 || count["x"] != 2 || count["y"] != 2 {
		t.Fatalf("transactions were given %v", given)
	}
	for _, tx := range given[2:] {
		if len(tx) == 1 && tx[0] != "bad" || len(tx) == 2 && slices.Contains(tx, "bad") {
			t.Fatalf("transactions were given %v", given)
		}
	}
}
