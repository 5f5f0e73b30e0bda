// Package storetest is the one suite every store.DB implementation passes,
// and the helpers that give a test a fresh store of each kind.
package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"

	"examkiosk/internal/pgtest"
	"examkiosk/sync/central/store"
)

// Kind names a store implementation.
type Kind string

// The store kinds.
const (
	Bolt     Kind = "bolt"
	Postgres Kind = "postgres"
)

// Kinds is every store kind, for tables of tests.
var Kinds = []Kind{Bolt, Postgres}

// EnvKind is the environment variable choosing the store of tests that do
// not name one: EXAMKIOSK_CENTRAL_STORE=postgres runs them on PostgreSQL.
const EnvKind = "EXAMKIOSK_CENTRAL_STORE"

// Default is the store kind of tests that do not name one ($EXAMKIOSK_CENTRAL_STORE,
// bolt when unset).
func Default() Kind {
	if Kind(os.Getenv(EnvKind)) == Postgres {
		return Postgres
	}
	return Bolt
}

var (
	clusterMu sync.Mutex
	cluster   *pgtest.Cluster
	managed   bool
)

// Main runs the tests of a package that uses the shared PostgreSQL cluster
// (call it from TestMain) and stops the cluster at the end.
func Main(m *testing.M) {
	clusterMu.Lock()
	managed = true
	clusterMu.Unlock()
	code := m.Run()
	if err := StopShared(); err != nil {
		fmt.Fprintln(os.Stderr, "stop PostgreSQL:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// SharedCluster returns a PostgreSQL cluster shared by the tests of this
// process, started by the first caller on tb and stopped by Main. It skips
// tb when PostgreSQL is absent (fails under CI).
func SharedCluster(tb testing.TB) *pgtest.Cluster {
	tb.Helper()
	clusterMu.Lock()
	defer clusterMu.Unlock()
	if cluster != nil {
		return cluster
	}
	if !managed {
		tb.Fatal("the shared PostgreSQL cluster needs func TestMain(m *testing.M) { storetest.Main(m) } in the test package")
	}
	bin, err := pgtest.BinDir()
	if err != nil {
		pgtest.Start(tb) // skips, or fails under CI, with the reason
		return nil
	}
	c, err := pgtest.StartCluster(context.Background(), bin)
	if err != nil {
		tb.Fatalf("start PostgreSQL: %v", err)
	}
	cluster = c
	return c
}

// StopShared stops the shared cluster if one was started (call it from
// TestMain after m.Run).
func StopShared() error {
	clusterMu.Lock()
	defer clusterMu.Unlock()
	if cluster == nil {
		return nil
	}
	err := cluster.Stop()
	cluster = nil
	return err
}

// FreshDatabase creates an empty database in the shared cluster for tb,
// drops it when tb ends, and returns its DSN.
func FreshDatabase(tb testing.TB) string {
	tb.Helper()
	c := SharedCluster(tb)
	var r [6]byte
	rand.Read(r[:])
	name := "t_" + hex.EncodeToString(r[:])
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, c.DSN(""))
	if err != nil {
		tb.Fatalf("connect to PostgreSQL: %v", err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("create database: %v", err)
	}
	tb.Cleanup(func() {
		conn, err := pgx.Connect(ctx, c.DSN(""))
		if err != nil {
			tb.Errorf("connect to PostgreSQL: %v", err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("drop database %s: %v", name, err)
		}
	})
	return c.DSN(name)
}

// Location returns where a fresh store of kind lives: a bbolt file path in
// a temporary folder, or a PostgreSQL DSN.
func Location(tb testing.TB, kind Kind) string {
	tb.Helper()
	switch kind {
	case Bolt:
		return filepath.Join(tb.TempDir(), "central.db")
	case Postgres:
		return FreshDatabase(tb)
	}
	tb.Fatalf("unknown store kind %q", kind)
	return ""
}

// Run is the shared suite: open returns a fresh, empty store each call
// (reopen returns the same store again after Close).
func Run(t *testing.T, open func(t *testing.T) (db store.DB, reopen func() store.DB)) {
	bk := []byte("b")
	get := func(t *testing.T, db store.DB, path [][]byte, k string) []byte {
		t.Helper()
		var out []byte
		if err := db.View(func(tx store.Tx) error {
			if v := tx.Bucket(path...).Get([]byte(k)); v != nil {
				out = append([]byte{}, v...)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	put := func(t *testing.T, db store.DB, path [][]byte, kv ...string) {
		t.Helper()
		if err := db.Update(func(tx store.Tx) error {
			b := tx.Bucket(path...)
			for i := 0; i < len(kv); i += 2 {
				if err := b.Put([]byte(kv[i]), []byte(kv[i+1])); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	keys := func(t *testing.T, db store.DB, from []byte, desc bool, limit int) string {
		t.Helper()
		var out []string
		if err := db.View(func(tx store.Tx) error {
			return tx.Bucket(bk).Scan(from, desc, func(k, v []byte) error {
				if len(out) == limit {
					return store.ErrStop
				}
				out = append(out, fmt.Sprintf("%x=%s", k, v))
				return nil
			})
		}); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(out)
	}

	t.Run("get put delete", func(t *testing.T) {
		db, _ := open(t)
		if v := get(t, db, [][]byte{bk}, "x"); v != nil {
			t.Fatalf("missing key read %q, want nil", v)
		}
		put(t, db, [][]byte{bk}, "x", "1", "empty", "")
		if v := get(t, db, [][]byte{bk}, "x"); string(v) != "1" {
			t.Fatalf("x = %q", v)
		}
		if v := get(t, db, [][]byte{bk}, "empty"); v == nil || len(v) != 0 {
			t.Fatalf("empty value read %v, want non-nil and empty", v)
		}
		put(t, db, [][]byte{bk}, "x", "2")
		if v := get(t, db, [][]byte{bk}, "x"); string(v) != "2" {
			t.Fatalf("overwritten x = %q", v)
		}
		if err := db.Update(func(tx store.Tx) error {
			if err := tx.Bucket(bk).Delete([]byte("x")); err != nil {
				return err
			}
			return tx.Bucket(bk).Delete([]byte("never"))
		}); err != nil {
			t.Fatal(err)
		}
		if v := get(t, db, [][]byte{bk}, "x"); v != nil {
			t.Fatalf("deleted x = %q", v)
		}
		if v := get(t, db, [][]byte{[]byte("other")}, "empty"); v != nil {
			t.Fatal("buckets share keys")
		}
	})

	t.Run("order and scans", func(t *testing.T) {
		db, _ := open(t)
		put(t, db, [][]byte{bk}, "\xff", "ff", "\x00", "00", "a", "a", "a\x00", "a0", "b", "b")
		// Nested buckets are not pairs of their parent.
		put(t, db, [][]byte{bk, []byte("nested")}, "n", "n")
		if got, want := keys(t, db, nil, false, 100), "[00=00 61=a 6100=a0 62=b ff=ff]"; got != want {
			t.Errorf("ascending %s, want %s", got, want)
		}
		if got, want := keys(t, db, nil, true, 100), "[ff=ff 62=b 6100=a0 61=a 00=00]"; got != want {
			t.Errorf("descending %s, want %s", got, want)
		}
		if got, want := keys(t, db, []byte("a\x00"), false, 2), "[6100=a0 62=b]"; got != want {
			t.Errorf("from a\\0 up %s, want %s", got, want)
		}
		if got, want := keys(t, db, []byte("a\x01"), true, 2), "[6100=a0 61=a]"; got != want {
			t.Errorf("from a\\1 down %s, want %s", got, want)
		}
		if got, want := keys(t, db, []byte("b"), true, 1), "[62=b]"; got != want {
			t.Errorf("from b down %s, want %s", got, want)
		}
		if got, want := keys(t, db, []byte("c"), false, 5), "[ff=ff]"; got != want {
			t.Errorf("from c up %s, want %s", got, want)
		}
		var n int
		db.View(func(tx store.Tx) error { n, _ = tx.Bucket(bk).Count(); return nil })
		if n != 5 {
			t.Errorf("count %d, want 5", n)
		}
	})

	t.Run("long scans page", func(t *testing.T) {
		db, _ := open(t)
		const n = 1000
		if err := db.Update(func(tx store.Tx) error {
			for i := range n {
				if err := tx.Bucket(bk).Put(fmt.Appendf(nil, "%05d", i), []byte("v")); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		for _, desc := range []bool{false, true} {
			var seen []string
			db.View(func(tx store.Tx) error {
				return tx.Bucket(bk).Scan(nil, desc, func(k, _ []byte) error {
					// f may read while scanning.
					if tx.Bucket(bk).Get(k) == nil {
						return errors.New("scanned key not readable")
					}
					seen = append(seen, string(k))
					return nil
				})
			})
			if len(seen) != n {
				t.Fatalf("descending %v: scanned %d, want %d", desc, len(seen), n)
			}
			for i := 1; i < n; i++ {
				if (seen[i-1] < seen[i]) == desc {
					t.Fatalf("descending %v: out of order at %d: %s, %s", desc, i, seen[i-1], seen[i])
				}
			}
		}
	})

	t.Run("sequences per bucket, rolled back with the transaction", func(t *testing.T) {
		db, _ := open(t)
		next := func(path ...[]byte) uint64 {
			var n uint64
			if err := db.Update(func(tx store.Tx) (err error) { n, err = tx.Bucket(path...).NextSequence(); return err }); err != nil {
				t.Fatal(err)
			}
			return n
		}
		a, b := []byte("a"), []byte("b")
		if got := []uint64{next(bk, a), next(bk, a), next(bk, b), next(bk, a), next(bk)}; fmt.Sprint(got) != "[1 2 1 3 1]" {
			t.Fatalf("sequences %v, want [1 2 1 3 1]", got)
		}
		boom := errors.New("boom")
		err := db.Update(func(tx store.Tx) error {
			tx.Bucket(bk, a).NextSequence()
			tx.Bucket(bk, a).Put([]byte("k"), []byte("v"))
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Update returned %v, want boom", err)
		}
		if got := next(bk, a); got != 4 {
			t.Fatalf("after a rollback the sequence is %d, want 4", got)
		}
		if v := get(t, db, [][]byte{bk, a}, "k"); v != nil {
			t.Fatal("a rolled back put is visible")
		}
	})

	t.Run("delete bucket", func(t *testing.T) {
		db, _ := open(t)
		put(t, db, [][]byte{bk}, "k", "v")
		put(t, db, [][]byte{bk, []byte("n")}, "k", "v")
		put(t, db, [][]byte{[]byte("b2")}, "k", "v") // shares a prefix, not a parent
		db.Update(func(tx store.Tx) error { _, err := tx.Bucket(bk).NextSequence(); return err })
		if err := db.Update(func(tx store.Tx) error {
			if err := tx.DeleteBucket(bk); err != nil {
				return err
			}
			return tx.DeleteBucket([]byte("never made"))
		}); err != nil {
			t.Fatal(err)
		}
		if get(t, db, [][]byte{bk}, "k") != nil || get(t, db, [][]byte{bk, []byte("n")}, "k") != nil {
			t.Fatal("deleted bucket still holds keys")
		}
		if get(t, db, [][]byte{[]byte("b2")}, "k") == nil {
			t.Fatal("deleting b removed b2")
		}
		var n uint64
		db.Update(func(tx store.Tx) (err error) { n, err = tx.Bucket(bk).NextSequence(); return err })
		if n != 1 {
			t.Fatalf("sequence after delete %d, want 1", n)
		}
	})

	t.Run("view is read-only", func(t *testing.T) {
		db, _ := open(t)
		put(t, db, [][]byte{bk}, "k", "v")
		err := db.View(func(tx store.Tx) error { return tx.Bucket(bk).Put([]byte("k"), []byte("w")) })
		if err == nil {
			t.Fatal("Put in View succeeded")
		}
		if v := get(t, db, [][]byte{bk}, "k"); string(v) != "v" {
			t.Fatalf("k = %q after a Put in View", v)
		}
	})

	t.Run("updates are serialised", func(t *testing.T) {
		db, _ := open(t)
		const workers, each = 8, 25
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range each {
					err := db.Update(func(tx store.Tx) error {
						b := tx.Bucket(bk)
						n := 0
						if v := b.Get([]byte("n")); v != nil {
							fmt.Sscan(string(v), &n)
						}
						return b.Put([]byte("n"), fmt.Append(nil, n+1))
					})
					if err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if v := get(t, db, [][]byte{bk}, "n"); string(v) != fmt.Sprint(workers*each) {
			t.Fatalf("counter %s, want %d (lost updates)", v, workers*each)
		}
	})

	t.Run("batch: concurrent calls share commits, a failing call fails alone", func(t *testing.T) {
		db, reopen := open(t)
		const calls, bad = 40, 7
		boom := errors.New("boom")
		var wg sync.WaitGroup
		errs := make([]error, calls)
		var runs sync.Map
		for i := range calls {
			wg.Go(func() {
				errs[i] = db.Batch(func(tx store.Tx) error {
					n, _ := runs.LoadOrStore(i, new(int))
					*n.(*int)++
					b := tx.Bucket(bk)
					if err := b.Put(fmt.Appendf(nil, "k%02d", i), []byte("v")); err != nil {
						return err
					}
					if i == bad {
						return boom
					}
					c := 0
					if v := b.Get([]byte("n")); v != nil {
						fmt.Sscan(string(v), &c)
					}
					return b.Put([]byte("n"), fmt.Append(nil, c+1))
				})
			})
		}
		wg.Wait()
		for i, err := range errs {
			if i == bad && !errors.Is(err, boom) {
				t.Fatalf("the failing call returned %v, want boom", err)
			}
			if i != bad && err != nil {
				t.Fatalf("call %d returned %v", i, err)
			}
		}
		db.Close()
		db = reopen()
		defer db.Close()
		if v := get(t, db, [][]byte{bk}, "n"); string(v) != fmt.Sprint(calls-1) {
			t.Fatalf("counter %s after reopen, want %d (lost or doubled calls)", v, calls-1)
		}
		for i := range calls {
			if v := get(t, db, [][]byte{bk}, fmt.Sprintf("k%02d", i)); (v == nil) != (i == bad) {
				t.Fatalf("key of call %d: %q", i, v)
			}
		}
		if n, _ := runs.Load(bad); *n.(*int) < 1 {
			t.Fatal("the failing call never ran")
		}
	})

	t.Run("batch: large values given ahead read back as put, and only where put", func(t *testing.T) {
		db, reopen := open(t)
		LargeValues(t, db)
		db.Close()
		db = reopen()
		defer db.Close()
		CheckLargeValues(t, db)
	})

	t.Run("prefetch answers as get does", func(t *testing.T) {
		db, _ := open(t)
		put(t, db, [][]byte{bk}, "a", "1", "b", "2", "e", "")
		if err := db.Update(func(tx store.Tx) error {
			b := tx.Bucket(bk)
			b.Put([]byte("c"), []byte("3"))
			b.Delete([]byte("a"))
			if err := b.Prefetch([]byte("a"), []byte("b"), []byte("c"), []byte("d"), []byte("e")); err != nil {
				return err
			}
			got := func() string {
				var out []string
				for _, k := range []string{"a", "b", "c", "d", "e"} {
					v := b.Get([]byte(k))
					out = append(out, fmt.Sprintf("%s=%q/%v", k, v, v == nil))
				}
				return fmt.Sprint(out)
			}
			want := `[a=""/true b="2"/false c="3"/false d=""/true e=""/false]`
			if g := got(); g != want {
				return fmt.Errorf("after prefetch %s, want %s", g, want)
			}
			b.Put([]byte("b"), []byte("22"))
			b.Put([]byte("d"), []byte("4"))
			if err := b.Scan(nil, false, func(k, v []byte) error { return nil }); err != nil { // writes what is pending
				return err
			}
			b.Prefetch([]byte("b"), []byte("d"))
			want = `[a=""/true b="22"/false c="3"/false d="4"/false e=""/false]`
			if g := got(); g != want {
				return fmt.Errorf("after writes %s, want %s", g, want)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("prefetch readies sequences and changes none", func(t *testing.T) {
		db, _ := open(t)
		seqs := func(name string, n int) (got []uint64) {
			t.Helper()
			if err := db.Update(func(tx store.Tx) error {
				b := tx.Bucket([]byte(name))
				if err := b.Prefetch(); err != nil {
					return err
				}
				if err := tx.Bucket([]byte("other")).Prefetch([]byte("k")); err != nil {
					return err
				}
				if err := tx.Bucket([]byte("other")).Put([]byte("k"), []byte(name)); err != nil {
					return err
				}
				for range n {
					s, err := b.NextSequence()
					if err != nil {
						return err
					}
					got = append(got, s)
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			return got
		}
		if got := fmt.Sprint(seqs("s", 3)); got != "[1 2 3]" {
			t.Fatalf("first sequences %s", got)
		}
		seqs("s", 0) // prefetched, not advanced: unchanged
		seqs("t", 0)
		if got := fmt.Sprint(seqs("s", 2), seqs("t", 1)); got != "[4 5] [1]" {
			t.Fatalf("sequences after prefetches without NextSequence: %s", got)
		}
	})

	t.Run("sequences across writes in one transaction", func(t *testing.T) {
		db, _ := open(t)
		var got []uint64
		if err := db.Update(func(tx store.Tx) error {
			b := tx.Bucket(bk)
			for range 2 {
				n, err := b.NextSequence()
				if err != nil {
					return err
				}
				got = append(got, n)
				b.Put(fmt.Append(nil, n), nil)
				if _, err := b.Count(); err != nil { // writes what is pending
					return err
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		db.Update(func(tx store.Tx) error {
			n, err := tx.Bucket(bk).NextSequence()
			got = append(got, n)
			return err
		})
		if fmt.Sprint(got) != "[1 2 3]" {
			t.Fatalf("sequences %v, want [1 2 3]", got)
		}
	})

	t.Run("compact, close and reopen", func(t *testing.T) {
		db, reopen := open(t)
		big := bytes.Repeat([]byte("secret-"), 1000)
		put(t, db, [][]byte{bk}, "keep", "kept", "gone", string(big))
		db.Update(func(tx store.Tx) error { return tx.Bucket(bk).Delete([]byte("gone")) })
		if err := db.Compact(); err != nil {
			t.Fatal(err)
		}
		if v := get(t, db, [][]byte{bk}, "keep"); string(v) != "kept" {
			t.Fatalf("after compact keep = %q", v)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if err := db.View(func(store.Tx) error { return nil }); !errors.Is(err, store.ErrClosed) {
			t.Fatalf("View after Close: %v, want store.ErrClosed", err)
		}
		db = reopen()
		defer db.Close()
		if v := get(t, db, [][]byte{bk}, "keep"); string(v) != "kept" {
			t.Fatalf("after reopen keep = %q", v)
		}
	})
}

// largeValue is the i-th large value of LargeValues: 48 KB, distinct.
func largeValue(i int) []byte {
	v := bytes.Repeat(fmt.Appendf(nil, "large %03d;", i), 48<<10/10)
	return v
}

// LargeValues writes through db.Batch with large values given ahead:
// concurrent calls, each listing two values and putting one at two keys
// (the same slice twice); one call fails, one overwrites its put in the
// same transaction, one deletes it; and a later Update overwrites and
// deletes keys that held such values. CheckLargeValues checks the result.
func LargeValues(t *testing.T, db store.DB) {
	t.Helper()
	bl := []byte("large")
	boom := errors.New("boom")
	const calls, bad, over, del = 8, 3, 4, 5
	var wg sync.WaitGroup
	errs := make([]error, calls)
	for i := range calls {
		wg.Go(func() {
			v, unused := largeValue(i), largeValue(100+i)
			errs[i] = db.Batch(func(tx store.Tx) error {
				b := tx.Bucket(bl)
				for _, k := range []string{"a", "b"} {
					if err := b.Put(fmt.Appendf(nil, "%s%d", k, i), v); err != nil {
						return err
					}
				}
				if got := b.Get(fmt.Appendf(nil, "a%d", i)); !bytes.Equal(got, largeValue(i)) {
					return fmt.Errorf("call %d reads back %d bytes, not its value", i, len(got))
				}
				switch i {
				case bad:
					return boom
				case over:
					return b.Put(fmt.Appendf(nil, "a%d", i), []byte("small"))
				case del:
					return b.Delete(fmt.Appendf(nil, "a%d", i))
				}
				return nil
			}, v, unused)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if (i == bad) != errors.Is(err, boom) || i != bad && err != nil {
			t.Fatalf("call %d returned %v", i, err)
		}
	}
	// Values put ahead are then overwritten and deleted like any other.
	if err := db.Update(func(tx store.Tx) error {
		b := tx.Bucket(bl)
		if err := b.Put([]byte("b0"), []byte("replaced")); err != nil {
			return err
		}
		return b.Delete([]byte("a1"))
	}); err != nil {
		t.Fatal(err)
	}
}

// CheckLargeValues checks what LargeValues wrote, by Get and by Scan.
func CheckLargeValues(t *testing.T, db store.DB) {
	t.Helper()
	want := map[string]string{}
	for i := range 8 {
		if i == 3 {
			continue
		}
		want[fmt.Sprintf("a%d", i)] = string(largeValue(i))
		want[fmt.Sprintf("b%d", i)] = string(largeValue(i))
	}
	want["a4"] = "small"
	delete(want, "a5")
	want["b0"] = "replaced"
	delete(want, "a1")
	got := map[string]string{}
	if err := db.View(func(tx store.Tx) error {
		b := tx.Bucket([]byte("large"))
		if err := b.ForEach(func(k, v []byte) error {
			got[string(k)] = string(v)
			return nil
		}); err != nil {
			return err
		}
		for k, v := range want {
			if g := b.Get([]byte(k)); string(g) != v {
				return fmt.Errorf("get %s: %d bytes, want %d", k, len(g), len(v))
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("scan finds %d keys, want %d", len(got), len(want))
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("scan: %s holds %d bytes, want %d", k, len(got[k]), len(v))
		}
	}
}
