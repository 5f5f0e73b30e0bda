package bolt_test

import (
	"path/filepath"
	"testing"

	"examkiosk/sync/central/store"
	"examkiosk/sync/central/store/bolt"
	"examkiosk/sync/central/store/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (store.DB, func() store.DB) {
		path := filepath.Join(t.TempDir(), "central.db")
		open := func() store.DB {
			db, err := bolt.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			return db
		}
		return open(), open
	})
}
