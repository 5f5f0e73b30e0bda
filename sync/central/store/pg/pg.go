// Package pg is the central's store in PostgreSQL (through pgx), for
// several central nodes on one database. Its schema is versioned by the
// migrations embedded in the binary, applied at open under an advisory
// lock; writers are serialised by a transaction-scoped advisory lock, so
// every node sees the same single-writer order the embedded store gives.
//
// The lock is the limit of several nodes: whatever a writer does while
// holding it, no other writer does. So a Batch's large values (store.DB's
// large list: sealed photos) are copied into the transaction before it
// takes the lock, as rows of their own (kv_blob) that the kv rows then
// point at; the writers of several nodes store their photos concurrently
// and hold the lock only for the small records that need the single order.
package pg

import (
	"bytes"
	"context"
	"crypto/rand"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"examkiosk/sync/central/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Advisory lock keys (one namespace shared with nothing else in the
// database): schema migrations, and the single writer.
const (
	lockMigrate int64 = 0x45584b_0001 // "EXK" 1
	lockWrite   int64 = 0x45584b_0002
)

// scanPage is how many rows a scan reads per query.
const scanPage = 256

// DB is a store.DB in a PostgreSQL database.
type DB struct {
	pool   *pgxpool.Pool
	closed atomic.Bool
	group  *store.Group
}

var _ store.DB = (*DB)(nil)

// Open connects to the database at dsn (postgres://…) and applies the
// migrations it lacks.
func Open(ctx context.Context, dsn string) (*DB, error) {
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("open central database: %w", err)
	}
	if _, err := Migrate(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	d := &DB{pool: pool}
	d.group = store.NewGroup(func(f func(store.Tx) error, large ...[]byte) error {
		return d.run(pgx.ReadWrite, pgx.ReadCommitted, true, large, f)
	}, store.GroupCalls)
	return d, nil
}

// Migration is one versioned schema change.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Migrations returns the embedded migrations in version order.
func Migrations() ([]Migration, error) {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, n := range names {
		base := strings.TrimPrefix(n, "migrations/")
		v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return nil, fmt.Errorf("migration %s: file name must start with its version: %w", base, err)
		}
		sql, err := migrations.ReadFile(n)
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: v, Name: base, SQL: string(sql)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("migrations %s and %s share version %d", out[i-1].Name, out[i].Name, out[i].Version)
		}
	}
	return out, nil
}

// Migrate applies the embedded migrations the database lacks, each in its
// own transaction, holding an advisory lock so that nodes starting together
// apply each once. It returns the names of those it applied.
func Migrate(ctx context.Context, pool *pgxpool.Pool) ([]string, error) {
	ms, err := Migrations()
	if err != nil {
		return nil, err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate central database: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", lockMigrate); err != nil {
		return nil, fmt.Errorf("migrate central database: lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", lockMigrate)
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer PRIMARY KEY,
		name       text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return nil, fmt.Errorf("migrate central database: %w", err)
	}
	applied := map[int]bool{}
	rows, err := conn.Query(ctx, "SELECT version FROM schema_migrations")
	if err != nil {
		return nil, fmt.Errorf("migrate central database: %w", err)
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return nil, fmt.Errorf("migrate central database: %w", err)
		}
		applied[v] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("migrate central database: %w", err)
	}
	var done []string
	for _, m := range ms {
		if applied[m.Version] {
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.Version, m.Name)
			return err
		})
		if err != nil {
			return done, fmt.Errorf("migrate central database: %s: %w", m.Name, err)
		}
		done = append(done, m.Name)
	}
	return done, nil
}

// run runs f in a transaction: a writer (lock) first copies the large
// values in, then takes the write lock, then runs f and sends its writes.
func (d *DB) run(access pgx.TxAccessMode, iso pgx.TxIsoLevel, lock bool, large [][]byte, f func(store.Tx) error) error {
	if d.closed.Load() {
		return store.ErrClosed
	}
	ctx := context.Background()
	var locked, sent time.Time
	begin := time.Now()
	err := pgx.BeginTxFunc(ctx, d.pool, pgx.TxOptions{IsoLevel: iso, AccessMode: access}, func(ptx pgx.Tx) error {
		t := &tx{ctx: ctx, tx: ptx, readOnly: access == pgx.ReadOnly}
		if err := t.stageLarge(large); err != nil {
			return err
		}
		if lock {
			if _, err := ptx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", lockWrite); err != nil {
				return err
			}
			locked = time.Now()
		}
		err := f(t)
		if err == nil {
			err = t.err
		}
		if err == nil {
			err = t.flush(true)
		}
		sent = time.Now()
		return err
	})
	if lock && !locked.IsZero() {
		end := time.Now()
		writeStats.txs.Add(1)
		writeStats.before.Add(int64(locked.Sub(begin)))
		writeStats.held.Add(int64(sent.Sub(locked)))
		writeStats.commit.Add(int64(end.Sub(sent)))
	}
	if err != nil && d.closed.Load() {
		return fmt.Errorf("%w: %w", store.ErrClosed, err)
	}
	return err
}

// writeStats are the process's WriteStats.
var writeStats struct{ txs, before, held, commit atomic.Int64 }

// WriteStats are the times the write transactions of this process (every
// DB) spent, summed since it started: Before the write lock (copying large
// values in, then waiting for the lock), Held (running f and sending its
// writes) and Commit (which holds the lock too, until the commit is
// durable). Benchmarks read them to show how much of a run the single
// writer was busy.
type WriteStats struct {
	Txs                  int64
	Before, Held, Commit time.Duration
}

// ReadWriteStats returns the process's WriteStats so far.
func ReadWriteStats() WriteStats {
	return WriteStats{Txs: writeStats.txs.Load(), Before: time.Duration(writeStats.before.Load()),
		Held: time.Duration(writeStats.held.Load()), Commit: time.Duration(writeStats.commit.Load())}
}

// View implements store.DB: a read-only transaction on one snapshot.
func (d *DB) View(f func(store.Tx) error) error {
	return d.run(pgx.ReadOnly, pgx.RepeatableRead, false, nil, f)
}

// Update implements store.DB: the write lock is taken first, so every
// statement after it sees all that earlier writers committed.
func (d *DB) Update(f func(store.Tx) error) error {
	return d.run(pgx.ReadWrite, pgx.ReadCommitted, true, nil, f)
}

// Batch implements store.DB: a store.Group over Update, so that
// concurrent pushes share one commit (one WAL flush) and one hold of the
// write lock; their large values are copied in before the lock is taken.
func (d *DB) Batch(f func(store.Tx) error, large ...[]byte) error { return d.group.Do(f, large...) }

// Compact implements store.DB: VACUUM FULL rewrites the tables without the
// dead row versions that held old values.
func (d *DB) Compact() error {
	if _, err := d.pool.Exec(context.Background(), "VACUUM FULL kv, kv_seq, kv_blob"); err != nil {
		return fmt.Errorf("compact central database: %w", err)
	}
	return nil
}

// Close implements store.DB.
func (d *DB) Close() error {
	if !d.closed.Swap(true) {
		d.pool.Close()
	}
	return nil
}

// tx is one transaction; err is the first failure of a Get (which has no
// error result), returned by View or Update. Puts and deletes wait in
// pending (read back by Get) and go to the server in one statement each
// before a scan, a count, a bucket deletion or the commit; values read by
// Prefetch wait in cache; sequences count in seqs (the write lock makes
// this transaction their only writer) and are written with the rest. An
// ingest batch of 100 registrations is then a few round trips instead of
// hundreds. staged holds the large values copied in before the lock, by
// the identity of their slices, until a Put takes each.
type tx struct {
	ctx      context.Context
	tx       pgx.Tx
	err      error
	pending  map[string]*write
	order    []*write
	cache    map[string][]byte // nil value: absent
	seqs     map[string]*seq
	staged   map[sliceID]*blob
	wanted   [][2][]byte // bucket, key: prefetched, not read yet
	wantSeqs [][]byte    // buckets prefetched whose sequences are not read yet
	readOnly bool
}

// sliceID identifies a slice by its first byte's address and its length:
// a staged value is recognised when Put gets the same slice.
type sliceID struct {
	p *byte
	n int
}

// blob is a large value copied into kv_blob before the write lock.
type blob struct {
	id      []byte
	taken   bool // a Put has pointed a write at it
	written bool // a kv row points at it
}

// blobIDSize is the size of a blob's random id.
const blobIDSize = 16

// stageLarge copies the large values into kv_blob (COPY, one round trip
// and no array for the server to build), each under a random id.
func (t *tx) stageLarge(large [][]byte) error {
	var rows [][]any
	for _, v := range large {
		if len(v) == 0 {
			continue
		}
		k := sliceID{&v[0], len(v)}
		if _, ok := t.staged[k]; ok {
			continue
		}
		id := make([]byte, blobIDSize)
		rand.Read(id)
		if t.staged == nil {
			t.staged = map[sliceID]*blob{}
		}
		t.staged[k] = &blob{id: id}
		rows = append(rows, []any{id, v})
	}
	if len(rows) == 0 {
		return nil
	}
	if _, err := t.tx.CopyFrom(t.ctx, pgx.Identifier{"kv_blob"}, []string{"id", "value"}, pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("copy large values: %w", err)
	}
	return nil
}

// seq is a bucket's sequence as this transaction advanced it.
type seq struct {
	bucket []byte
	n      int64
	next   bool // advanced by NextSequence: flush writes it
}

// cacheKey is the key of a bucket's key in pending and cache.
func cacheKey(bucket, key []byte) string { return string(bucket) + "\x00\x00" + string(key) }

// write is a pending put (value non-nil) or delete (value nil); a put of a
// staged value points at its blob.
type write struct {
	bucket, key, value []byte
	blob               *blob
}

func (t *tx) stage(bucket, key, value []byte, b *blob) {
	if t.pending == nil {
		t.pending = map[string]*write{}
	}
	k := cacheKey(bucket, key)
	delete(t.cache, k)
	if w, ok := t.pending[k]; ok {
		w.value, w.blob = value, b
		return
	}
	w := &write{bucket: bucket, key: bytes.Clone(key), value: value, blob: b}
	t.pending[k] = w
	t.order = append(t.order, w)
}

// flush sends the pending writes and sequences in one round trip: one
// statement for the deletes, one for the puts (arrays unnested on the
// server), one for the sequences. Each key is pending once, so the order of
// the statements does not matter. The last flush (commit) also deletes the
// staged blobs no kv row points at.
func (t *tx) flush(last bool) error {
	var pb, pk, pv, pr, db, dk, sb [][]byte
	var sn []int64
	for _, w := range t.order {
		switch {
		case w.value == nil:
			db, dk = append(db, w.bucket), append(dk, w.key)
		case w.blob != nil:
			pb, pk, pv, pr = append(pb, w.bucket), append(pk, w.key), append(pv, []byte{}), append(pr, w.blob.id)
			w.blob.written = true
		default:
			pb, pk, pv, pr = append(pb, w.bucket), append(pk, w.key), append(pv, w.value), append(pr, nil)
		}
	}
	for _, q := range t.seqs {
		if q.next {
			sb, sn = append(sb, q.bucket), append(sn, q.n)
		}
	}
	var unused [][]byte
	if last {
		for _, bl := range t.staged {
			if !bl.written {
				unused = append(unused, bl.id)
			}
		}
		t.staged = nil
	}
	if len(t.order) == 0 && len(t.seqs) == 0 && len(unused) == 0 {
		return nil
	}
	var b pgx.Batch
	if len(db) > 0 {
		b.Queue(`DELETE FROM kv USING unnest($1::bytea[], $2::bytea[]) AS d(bucket, key)
			WHERE kv.bucket = d.bucket AND kv.key = d.key`, db, dk)
	}
	if len(pb) > 0 {
		b.Queue(`INSERT INTO kv (bucket, key, value, blob) SELECT * FROM unnest($1::bytea[], $2::bytea[], $3::bytea[], $4::bytea[])
			ON CONFLICT (bucket, key) DO UPDATE SET value = EXCLUDED.value, blob = EXCLUDED.blob`, pb, pk, pv, pr)
	}
	if len(unused) > 0 {
		b.Queue(`DELETE FROM kv_blob WHERE id = ANY($1::bytea[])`, unused)
	}
	if len(sb) > 0 {
		b.Queue(`INSERT INTO kv_seq (bucket, n) SELECT * FROM unnest($1::bytea[], $2::bigint[])
			ON CONFLICT (bucket) DO UPDATE SET n = EXCLUDED.n`, sb, sn)
	}
	t.pending, t.order, t.seqs = nil, nil, nil
	if err := t.tx.SendBatch(t.ctx, &b).Close(); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

func (t *tx) fail(err error) {
	if t.err == nil {
		t.err = err
	}
}

func (t *tx) Bucket(path ...[]byte) store.Bucket {
	if len(path) == 0 {
		panic("store: Bucket without a name")
	}
	return &bucket{t: t, name: bytes.Join(path, []byte{0})}
}

func (t *tx) DeleteBucket(name []byte) error {
	if err := t.flush(false); err != nil {
		return err
	}
	prefix := append(bytes.Clone(name), 0)
	for _, table := range []string{"kv", "kv_seq"} {
		if _, err := t.tx.Exec(t.ctx, "DELETE FROM "+table+" WHERE bucket = $1 OR substring(bucket FROM 1 FOR $3) = $2",
			name, prefix, len(prefix)); err != nil {
			return fmt.Errorf("delete bucket %q: %w", name, err)
		}
	}
	t.cache = nil // may hold keys of the bucket
	return nil
}

// valueExpr is a kv row's value, read from its blob when it has one.
const valueExpr = "CASE WHEN kv.blob IS NULL THEN kv.value ELSE (SELECT kv_blob.value FROM kv_blob WHERE kv_blob.id = kv.blob) END"

type bucket struct {
	t    *tx
	name []byte
}

func (b *bucket) Get(key []byte) []byte {
	k := cacheKey(b.name, key)
	if w, ok := b.t.pending[k]; ok {
		return w.value
	}
	if v, ok := b.t.cache[k]; ok {
		return v
	}
	if len(b.t.wanted) > 0 || len(b.t.wantSeqs) > 0 {
		// Read this key with those prefetched, in one round trip.
		b.t.wanted = append(b.t.wanted, [2][]byte{b.name, bytes.Clone(key)})
		if err := b.t.fetch(); err != nil {
			b.t.fail(err)
			return nil
		}
		return b.t.cache[k]
	}
	var v []byte
	err := b.t.tx.QueryRow(b.t.ctx, "SELECT "+valueExpr+" FROM kv WHERE bucket = $1 AND key = $2", b.name, key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		b.t.fail(fmt.Errorf("get %q/%q: %w", b.name, key, err))
		return nil
	}
	if v == nil {
		v = []byte{}
	}
	return v
}

// Prefetch implements store.Bucket: the keys not yet read or written wait
// in the transaction until the first Get that needs the server, which reads
// them, of every bucket, with its own key in one query; Get then answers
// them from memory. So the prefetches of several buckets cost one round
// trip.
func (b *bucket) Prefetch(keys ...[]byte) error {
	if _, ok := b.t.seqs[string(b.name)]; !ok && !b.t.readOnly {
		b.t.wantSeqs = append(b.t.wantSeqs, b.name)
	}
	for _, k := range keys {
		ck := cacheKey(b.name, k)
		if _, ok := b.t.pending[ck]; ok {
			continue
		}
		if _, ok := b.t.cache[ck]; ok {
			continue
		}
		b.t.wanted = append(b.t.wanted, [2][]byte{b.name, bytes.Clone(k)})
	}
	return nil
}

// fetch reads the wanted keys (those not written or read since they were
// wanted) into the cache, absent ones as nil, and the wanted sequences
// into seqs (absent ones as 0), in one round trip.
func (t *tx) fetch() error {
	var seqNames [][]byte
	for _, name := range t.wantSeqs {
		if _, ok := t.seqs[string(name)]; !ok && !slices.ContainsFunc(seqNames, func(w []byte) bool { return bytes.Equal(w, name) }) {
			seqNames = append(seqNames, name)
		}
	}
	var bs, ks [][]byte
	for _, w := range t.wanted {
		ck := cacheKey(w[0], w[1])
		if _, ok := t.pending[ck]; ok {
			continue
		}
		if _, ok := t.cache[ck]; ok {
			continue
		}
		bs, ks = append(bs, w[0]), append(ks, w[1])
	}
	t.wanted, t.wantSeqs = nil, nil
	if len(ks) == 0 && len(seqNames) == 0 {
		return nil
	}
	var b pgx.Batch
	if len(seqNames) > 0 {
		if t.seqs == nil {
			t.seqs = map[string]*seq{}
		}
		for _, name := range seqNames {
			t.seqs[string(name)] = &seq{bucket: name}
		}
		b.Queue("SELECT bucket, n FROM kv_seq WHERE bucket = ANY($1::bytea[])", seqNames).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var name []byte
				var n int64
				if err := rows.Scan(&name, &n); err != nil {
					return err
				}
				if q := t.seqs[string(name)]; q != nil {
					q.n = n
				}
			}
			return rows.Err()
		})
	}
	if len(ks) > 0 {
		if t.cache == nil {
			t.cache = map[string][]byte{}
		}
		for i := range ks {
			t.cache[cacheKey(bs[i], ks[i])] = nil
		}
		// A join with the keys unnested looks each up in the primary key;
		// the planner turns "key = ANY($2)" into a bitmap scan that
		// compares every row it visits with every key of the array.
		b.Queue(`SELECT kv.bucket, kv.key, `+valueExpr+` FROM unnest($1::bytea[], $2::bytea[]) AS k(bucket, key)
			JOIN kv ON kv.bucket = k.bucket AND kv.key = k.key`, bs, ks).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var bucket, k, v []byte
				if err := rows.Scan(&bucket, &k, &v); err != nil {
					return err
				}
				if v == nil {
					v = []byte{}
				}
				t.cache[cacheKey(bucket, k)] = v
			}
			return rows.Err()
		})
	}
	if err := t.tx.SendBatch(t.ctx, &b).Close(); err != nil {
		return fmt.Errorf("prefetch: %w", err)
	}
	return nil
}

func (b *bucket) Put(key, value []byte) error {
	if value == nil {
		value = []byte{}
	}
	if b.t.readOnly {
		return errors.New("put in a read-only transaction")
	}
	if len(value) > 0 {
		if bl := b.t.staged[sliceID{&value[0], len(value)}]; bl != nil && !bl.taken {
			bl.taken = true
			b.t.stage(b.name, key, value, bl)
			return nil
		}
	}
	b.t.stage(b.name, key, bytes.Clone(value), nil)
	return nil
}

func (b *bucket) Delete(key []byte) error {
	if b.t.readOnly {
		return errors.New("delete in a read-only transaction")
	}
	b.t.stage(b.name, key, nil, nil)
	return nil
}

func (b *bucket) ForEach(f func(k, v []byte) error) error {
	return b.Scan(nil, false, f)
}

// Scan reads a page of rows at a time (a connection cannot run other
// statements while a result is open, and f may call Get).
func (b *bucket) Scan(from []byte, descending bool, f func(k, v []byte) error) error {
	const sel = "SELECT key, " + valueExpr + " FROM kv WHERE bucket = $1 AND "
	q := sel + "key >= $2 ORDER BY key LIMIT $3"
	first := sel + "key >= $2 ORDER BY key LIMIT $3"
	if descending {
		q = sel + "key < $2 ORDER BY key DESC LIMIT $3"
		first = sel + "key <= $2 ORDER BY key DESC LIMIT $3"
		if from == nil {
			first = sel + "$2::bytea IS NULL ORDER BY key DESC LIMIT $3"
		}
	} else {
		q = sel + "key > $2 ORDER BY key LIMIT $3"
		if from == nil {
			from = []byte{}
		}
	}
	if err := b.t.flush(false); err != nil {
		return err
	}
	query, arg := first, from
	for {
		rows, err := b.t.tx.Query(b.t.ctx, query, b.name, arg, scanPage)
		if err != nil {
			return fmt.Errorf("scan %q: %w", b.name, err)
		}
		var page [][2][]byte
		for rows.Next() {
			var k, v []byte
			if err := rows.Scan(&k, &v); err != nil {
				rows.Close()
				return fmt.Errorf("scan %q: %w", b.name, err)
			}
			if v == nil {
				v = []byte{}
			}
			page = append(page, [2][]byte{k, v})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("scan %q: %w", b.name, err)
		}
		for _, kv := range page {
			if err := f(kv[0], kv[1]); err != nil {
				if errors.Is(err, store.ErrStop) {
					return nil
				}
				return err
			}
		}
		if len(page) < scanPage {
			return nil
		}
		query, arg = q, page[len(page)-1][0]
	}
}

// NextSequence reads the bucket's sequence once per transaction (after a
// flush, again) and counts on in memory; flush writes it.
func (b *bucket) NextSequence() (uint64, error) {
	if b.t.readOnly {
		return 0, errors.New("next sequence in a read-only transaction")
	}
	if _, ok := b.t.seqs[string(b.name)]; !ok && len(b.t.wantSeqs)+len(b.t.wanted) > 0 {
		// Read this sequence with what was prefetched, in one round trip.
		b.t.wantSeqs = append(b.t.wantSeqs, b.name)
		if err := b.t.fetch(); err != nil {
			return 0, err
		}
	}
	q, ok := b.t.seqs[string(b.name)]
	if !ok {
		q = &seq{bucket: b.name}
		err := b.t.tx.QueryRow(b.t.ctx, "SELECT n FROM kv_seq WHERE bucket = $1", b.name).Scan(&q.n)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return 0, fmt.Errorf("next sequence of %q: %w", b.name, err)
		}
		if b.t.seqs == nil {
			b.t.seqs = map[string]*seq{}
		}
		b.t.seqs[string(b.name)] = q
	}
	q.n++
	q.next = true
	return uint64(q.n), nil
}

func (b *bucket) Count() (int, error) {
	if err := b.t.flush(false); err != nil {
		return 0, err
	}
	var n int
	if err := b.t.tx.QueryRow(b.t.ctx, "SELECT count(*) FROM kv WHERE bucket = $1", b.name).Scan(&n); err != nil {
		return 0, fmt.Errorf("count %q: %w", b.name, err)
	}
	return n, nil
}

// MigrateDSN connects to the database at dsn, applies the migrations it
// lacks (see Migrate) and disconnects.
func MigrateDSN(ctx context.Context, dsn string) ([]string, error) {
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	defer pool.Close()
	return Migrate(ctx, pool)
}
