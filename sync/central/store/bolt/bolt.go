// Package bolt is the embedded store of the central: one bbolt file, the
// default for a single node (make run, a small centre).
package bolt

import (
	"errors"
	"fmt"
	"os"
	"time"

	bbolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"examkiosk/sync/central/store"
)

// DB is a store.DB in one bbolt file.
type DB struct {
	path  string
	db    *bbolt.DB
	group *store.Group
}

var _ store.DB = (*DB)(nil)

// Open opens (or creates) the bbolt file at path.
func Open(path string) (*DB, error) {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("open central store %s: %w", path, err)
	}
	d := &DB{path: path, db: db}
	d.group = store.NewGroup(func(f func(store.Tx) error, _ ...[]byte) error { return d.Update(f) }, store.GroupCalls)
	return d, nil
}

func wrap(err error) error {
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return fmt.Errorf("%w: %w", store.ErrClosed, err)
	}
	return err
}

// View implements store.DB.
func (d *DB) View(f func(store.Tx) error) error {
	return wrap(d.db.View(func(tx *bbolt.Tx) error { return f(tx_{tx}) }))
}

// Update implements store.DB.
func (d *DB) Update(f func(store.Tx) error) error {
	return wrap(d.db.Update(func(tx *bbolt.Tx) error { return f(tx_{tx}) }))
}

// Batch implements store.DB with a store.Group rather than bbolt's own
// Batch, which holds every call for a fixed delay (10 ms by default): a
// lone kiosk draining its queue batch after batch would wait that long
// on each, while a group adds no delay and grows with the load. The
// large values need no sending ahead in a file of this process.
func (d *DB) Batch(f func(store.Tx) error, _ ...[]byte) error { return d.group.Do(f) }

// Close implements store.DB.
func (d *DB) Close() error { return d.db.Close() }

// Compact copies the live data to a fresh file (dropping freed pages and
// whatever they held), replaces the old file with it and reopens it.
func (d *DB) Compact() error {
	tmp := d.path + ".compact"
	os.Remove(tmp)
	dst, err := bbolt.Open(tmp, 0o600, &bbolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return fmt.Errorf("compact central store %s: %w", d.path, err)
	}
	err = bbolt.Compact(dst, d.db, 64<<20)
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("compact central store %s: %w", d.path, err)
	}
	d.db.Close()
	if err := os.Rename(tmp, d.path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("compact central store %s: %w", d.path, err)
	}
	if d.db, err = bbolt.Open(d.path, 0o600, &bbolt.Options{Timeout: 5 * time.Second}); err != nil {
		return fmt.Errorf("reopen central store %s: %w", d.path, err)
	}
	return nil
}

type tx_ struct{ tx *bbolt.Tx }

func (t tx_) Bucket(path ...[]byte) store.Bucket {
	if len(path) == 0 {
		panic("store: Bucket without a name")
	}
	var b *bbolt.Bucket
	for i, name := range path {
		var nb *bbolt.Bucket
		if i == 0 {
			nb = t.tx.Bucket(name)
		} else {
			nb = b.Bucket(name)
		}
		if nb == nil {
			if !t.tx.Writable() {
				return bucket{tx: t.tx}
			}
			var err error
			if i == 0 {
				nb, err = t.tx.CreateBucket(name)
			} else {
				nb, err = b.CreateBucket(name)
			}
			if err != nil {
				return bucket{tx: t.tx, err: fmt.Errorf("create bucket %q: %w", name, err)}
			}
		}
		b = nb
	}
	return bucket{tx: t.tx, b: b}
}

func (t tx_) DeleteBucket(name []byte) error {
	if err := t.tx.DeleteBucket(name); err != nil && !errors.Is(err, berrors.ErrBucketNotFound) {
		return err
	}
	return nil
}

// bucket wraps a bbolt bucket; b is nil for a missing bucket read in a
// read-only transaction (empty) or one that could not be created (err).
type bucket struct {
	tx  *bbolt.Tx
	b   *bbolt.Bucket
	err error
}

func (b bucket) Get(key []byte) []byte {
	if b.b == nil {
		return nil
	}
	return b.b.Get(key)
}

// Prefetch implements store.Bucket: pages are read on demand from the
// mapped file, so there is nothing to do ahead.
func (b bucket) Prefetch(...[]byte) error { return nil }

func (b bucket) Put(key, value []byte) error {
	if b.b == nil {
		return b.missing()
	}
	return b.b.Put(key, value)
}

func (b bucket) Delete(key []byte) error {
	if b.b == nil {
		return b.missing()
	}
	return b.b.Delete(key)
}

func (b bucket) missing() error {
	if b.err != nil {
		return b.err
	}
	return berrors.ErrTxNotWritable
}

func (b bucket) ForEach(f func(k, v []byte) error) error {
	if b.b == nil {
		return b.err
	}
	return b.b.ForEach(func(k, v []byte) error {
		if v == nil { // a nested bucket
			return nil
		}
		return f(k, v)
	})
}

func (b bucket) Scan(from []byte, descending bool, f func(k, v []byte) error) error {
	if b.b == nil {
		return b.err
	}
	c := b.b.Cursor()
	var k, v []byte
	switch {
	case !descending && from == nil:
		k, v = c.First()
	case !descending:
		k, v = c.Seek(from)
	case from == nil:
		k, v = c.Last()
	default:
		// The last key ≤ from: seek to the first ≥ from, step back unless equal.
		if k, v = c.Seek(from); k == nil {
			k, v = c.Last()
		} else if string(k) != string(from) {
			k, v = c.Prev()
		}
	}
	for ; k != nil; k, v = step(c, descending) {
		if v == nil {
			continue
		}
		if err := f(k, v); err != nil {
			if errors.Is(err, store.ErrStop) {
				return nil
			}
			return err
		}
	}
	return nil
}

func step(c *bbolt.Cursor, descending bool) ([]byte, []byte) {
	if descending {
		return c.Prev()
	}
	return c.Next()
}

func (b bucket) NextSequence() (uint64, error) {
	if b.b == nil {
		return 0, b.missing()
	}
	return b.b.NextSequence()
}

func (b bucket) Count() (int, error) {
	if b.b == nil {
		return 0, b.err
	}
	n := 0
	err := b.b.ForEach(func(_, v []byte) error {
		if v != nil {
			n++
		}
		return nil
	})
	return n, err
}
