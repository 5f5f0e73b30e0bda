package central

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"examkiosk/sync/central/store"
	"examkiosk/sync/central/store/bolt"
	"examkiosk/sync/central/store/pg"
)

// The wiring of the storage boundary: the only place that knows the store
// kinds. Everything else reads and writes through store.DB.

// isPostgres reports whether a database setting names PostgreSQL.
func isPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// StoreKind names the store cfg selects, for logs: "postgresql" or
// "bbolt" (never the URL, which may hold a password).
func StoreKind(cfg Config) string {
	if cfg.Database != "" {
		return "postgresql"
	}
	return "bbolt"
}

// openStore opens the store cfg names: the PostgreSQL database of
// cfg.Database (migrated to the binary's schema), else the bbolt file
// central.db in cfg.DataDir.
func openStore(cfg Config) (store.DB, error) {
	if cfg.Database != "" {
		db, err := pg.Open(context.Background(), cfg.Database)
		if err != nil {
			return nil, fmt.Errorf("central.database: %w", err)
		}
		return db, nil
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir %s: %w", cfg.DataDir, err)
	}
	return bolt.Open(filepath.Join(cfg.DataDir, "central.db"))
}

// Migrate brings the store cfg names up to this binary's version, with
// the server stopped or running (nodes serialise on a lock): PostgreSQL
// schema migrations, then the upgrades of stored data that opening
// performs (sealing a first-version store). It returns the schema
// migrations applied (none for the embedded store, whose buckets are made
// on first use).
func Migrate(cfg Config) ([]string, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("central config: %w", err)
	}
	var applied []string
	if cfg.Database != "" {
		var err error
		if applied, err = pg.MigrateDSN(context.Background(), cfg.Database); err != nil {
			return nil, fmt.Errorf("central.database: %w", err)
		}
	}
	db, _, err := openDB(cfg)
	if err != nil {
		return applied, err
	}
	return applied, db.Close()
}
