package pgtest_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"examkiosk/internal/pgtest"
)

// TestClusterServesAndSurvivesRestart starts a real cluster, writes a row,
// restarts the server and reads the row back: the helper the central's
// PostgreSQL tests stand on.
func TestClusterServesAndSurvivesRestart(t *testing.T) {
	c := pgtest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.DSN(""))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE t (v text); INSERT INTO t VALUES ('kept')`); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	if err := c.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	conn, err = pgx.Connect(ctx, c.DSN(""))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var v string
	if err := conn.QueryRow(ctx, `SELECT v FROM t`).Scan(&v); err != nil || v != "kept" {
		t.Fatalf("after restart: %q, %v", v, err)
	}
}
