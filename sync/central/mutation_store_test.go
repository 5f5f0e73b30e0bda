package central

import (
	"bytes"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	bolt "go.etcd.io/bbolt"

	"examkiosk/sync/seal"
)

// A first-version store that holds nothing but its sealing key (a central
// set up and never used) is upgraded too: the key moves to seal.key and
// the store is rewritten, so the private key is nowhere in central.db,
// not even in its freed pages.
func TestUpgradeSealKeyOnlyStore(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	path := filepath.Join(cfg.DataDir, "central.db")
	kp, err := seal.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		m, err := tx.CreateBucket(bMeta)
		if err != nil {
			return err
		}
		return m.Put(kSealKey, append(kp.Public[:], kp.Private[:]...))
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	before := inode(t, path)

	s := quietOpen(t, cfg)
	if s.SealPublicKey() != kp.Public {
		t.Fatal("the sealing key changed in the upgrade")
	}
	s.Close()
	if inode(t, path) == before {
		t.Error("the upgraded store was not rewritten: its freed pages may hold the private key")
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, kp.Private[:]) {
		t.Error("the upgraded central.db still holds the private sealing key")
	}
	if key, err := seal.LoadKeyFile(filepath.Join(cfg.keyDir(), sealKeyFile), false); err != nil || !bytes.Equal(key, kp.Private[:]) {
		t.Errorf("seal.key %x (%v), want the store's private key", key, err)
	}
}

// A store of this version is not rewritten at each start (a rewrite of a
// store of millions of registrations takes minutes and twice its disk).
func TestCurrentStoreNotRewrittenAtOpen(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	path := filepath.Join(cfg.DataDir, "central.db")
	quietOpen(t, cfg).Close()
	before := inode(t, path)
	quietOpen(t, cfg).Close()
	if inode(t, path) != before {
		t.Error("central.db was rewritten at open")
	}
}

// inode is the inode number of path (a rewrite by rename changes it).
func inode(t *testing.T, path string) uint64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}
