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
