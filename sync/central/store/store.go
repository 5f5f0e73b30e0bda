// Package store is the central's storage boundary: a transactional store of
// named buckets of byte keys and values, ordered by key, with nested buckets
// and per-bucket sequences. The central seals personal data above this
// boundary, so a store only ever holds sealed values, blind indexes and
// non-personal records.
//
// Two implementations pass the shared suite in storetest: bolt (an embedded
// bbolt file, the default) and pg (PostgreSQL through pgx, for several
// central nodes on one database).
//
// Writers are serialised (one Update at a time across every node of a
// store), so a read-modify-write inside Update is atomic; View runs on a
// consistent snapshot and never blocks writers.
package store

import "errors"

// ErrClosed is returned (wrapped) by View and Update once the store is
// closed.
var ErrClosed = errors.New("store closed")

// ErrStop ends a Scan early without error.
var ErrStop = errors.New("stop scan")

// DB is an open store.
type DB interface {
	// View runs f in a read-only transaction on a consistent snapshot.
	View(f func(Tx) error) error
	// Update runs f in a read-write transaction, committed when f returns
	// nil and rolled back otherwise. Updates are serialised.
	Update(f func(Tx) error) error
	// Batch is Update for writers that run concurrently (ingest, nonces):
	// calls made while another commit is in flight share the next
	// transaction, and so one commit (one fsync), and each returns only
	// once that commit is durable. f may run more than once: when a call of
	// a group fails, the group runs again without it and the failing call
	// runs on its own for its own error, so f must set what it reports
	// outside the transaction afresh on every run.
	//
	// large lists values that f may Put unchanged (the same slices: e.g.
	// sealed photos made before the call). A store across a network sends
	// them ahead, before it takes its write lock, so that the writers of
	// other nodes proceed while they travel and are stored; a listed value
	// that f does not Put leaves nothing behind. Get, Put and every other
	// call answer the same with or without the list.
	Batch(f func(Tx) error, large ...[]byte) error
	// Compact rewrites the store so that values deleted or overwritten
	// leave nothing behind on disk (as far as the store can ensure).
	Compact() error
	// Close closes the store.
	Close() error
}

// Tx is a transaction.
type Tx interface {
	// Bucket returns the bucket at path (a top-level name, then nested
	// names). In a read-write transaction missing buckets are created; in a
	// read-only one a missing bucket reads as empty.
	Bucket(path ...[]byte) Bucket
	// DeleteBucket removes a top-level bucket, its nested buckets and its
	// sequence; it reads as empty afterwards.
	DeleteBucket(name []byte) error
}

// Bucket is a set of key/value pairs ordered by key (bytewise).
type Bucket interface {
	// Get returns the value of key, nil when absent (an empty value is
	// non-nil). The value is valid until the transaction ends. A failure
	// to read fails the transaction: View and Update return it.
	Get(key []byte) []byte
	// Prefetch says that Get will soon be called for keys in this
	// transaction, and NextSequence perhaps (keys may be none): a store
	// across a network reads them, and the bucket's sequence, with those
	// of the other buckets prefetched in one round trip. Get and
	// NextSequence answer the same with or without it.
	Prefetch(keys ...[]byte) error
	// Put sets key to value.
	Put(key, value []byte) error
	// Delete removes key (absent keys are no error).
	Delete(key []byte) error
	// ForEach calls f for every pair in key order; f must not change the
	// bucket (collect the changes and make them afterwards).
	ForEach(f func(k, v []byte) error) error
	// Scan calls f for pairs from the first key ≥ from (ascending) or ≤
	// from (descending; nil from starts at the last key). ErrStop returned
	// by f ends the scan without error. f must not change the bucket.
	Scan(from []byte, descending bool, f func(k, v []byte) error) error
	// NextSequence returns the bucket's next sequence number (1, 2, …).
	NextSequence() (uint64, error)
	// Count returns how many keys the bucket holds.
	Count() (int, error)
}
