package pg_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"examkiosk/sync/central/store"
	"examkiosk/sync/central/store/pg"
	"examkiosk/sync/central/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

func open(t *testing.T, dsn string) store.DB {
	t.Helper()
	db, err := pg.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (store.DB, func() store.DB) {
		dsn := storetest.FreshDatabase(t)
		return open(t, dsn), func() store.DB { return open(t, dsn) }
	})
}

// Nodes starting together apply each migration once, and a second start
// applies nothing.
func TestMigrateOnce(t *testing.T) {
	dsn := storetest.FreshDatabase(t)
	ms, err := pg.Migrations()
	if err != nil || len(ms) == 0 {
		t.Fatalf("embedded migrations: %v, %d", err, len(ms))
	}
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	const nodes = 4
	applied := make(chan []string, nodes)
	for range nodes {
		go func() {
			done, err := pg.Migrate(ctx, pool)
			if err != nil {
				t.Error(err)
			}
			applied <- done
		}()
	}
	total := 0
	for range nodes {
		total += len(<-applied)
	}
	if total != len(ms) {
		t.Fatalf("%d migrations applied by %d nodes, want %d", total, nodes, len(ms))
	}
	var n int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM schema_migrations").Scan(&n); err != nil || n != len(ms) {
		t.Fatalf("schema_migrations holds %d rows (%v), want %d", n, err, len(ms))
	}
	if done, err := pg.Migrate(ctx, pool); err != nil || len(done) != 0 {
		t.Fatalf("second migrate applied %v (%v)", done, err)
	}
}

// Large values given to Batch ahead of the write lock live in kv_blob while
// a kv row points at them and not a moment longer: those of a failed call,
// those not put, put then overwritten or deleted in the transaction, and
// those of rows overwritten, deleted or in a deleted bucket later leave no
// row behind.
func TestLargeValuesLeaveNothing(t *testing.T) {
	dsn := storetest.FreshDatabase(t)
	db := open(t, dsn)
	storetest.LargeValues(t, db)
	storetest.CheckLargeValues(t, db)
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	blobs := func() (rows, pointed int) {
		t.Helper()
		if err := pool.QueryRow(ctx, "SELECT (SELECT count(*) FROM kv_blob), (SELECT count(*) FROM kv WHERE blob IS NOT NULL)").Scan(&rows, &pointed); err != nil {
			t.Fatal(err)
		}
		return rows, pointed
	}
	// Of the 7 calls that committed, a0…a7 (not a3) took their values;
	// a4 and a5 were overwritten and deleted in their transaction, a1
	// deleted later: a0, a2, a6, a7 point at blobs (b… hold copies).
	if rows, pointed := blobs(); rows != 4 || pointed != 4 {
		t.Fatalf("kv_blob holds %d rows, %d kv rows point at blobs; want 4 and 4", rows, pointed)
	}
	if err := db.Update(func(tx store.Tx) error { return tx.DeleteBucket([]byte("large")) }); err != nil {
		t.Fatal(err)
	}
	if rows, pointed := blobs(); rows != 0 || pointed != 0 {
		t.Fatalf("after the bucket's deletion kv_blob holds %d rows (%d pointed at)", rows, pointed)
	}
}
