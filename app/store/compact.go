package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Compact rewrites the closed database at cfg.Path into a fresh file holding
// only live data, then atomically replaces the original. bbolt reuses freed
// pages but never clears them, so sealed photos removed by Purge linger in
// the file until their pages are reused; after Compact they are gone (the
// key would otherwise still open them). Run it while no Store is open, e.g.
// at start-up before Open or from a maintenance command; a crash leaves
// either the old or the new file, both complete. It returns the sizes
// before and after.
func Compact(ctx context.Context, cfg Config) (before, after int64, err error) {
	if err := cfg.Validate(); err != nil {
		return 0, 0, fmt.Errorf("compact store: %w", err)
	}
	fail := func(err error) (int64, int64, error) {
		return 0, 0, fmt.Errorf("compact store %s: %w", cfg.Path, err)
	}
	fi, err := os.Stat(cfg.Path)
	if err != nil {
		return fail(err)
	}
	before = fi.Size()
	src, err := bolt.Open(cfg.Path, 0o600, &bolt.Options{Timeout: time.Duration(cfg.LockTimeoutSeconds) * time.Second, ReadOnly: true})
	if err != nil {
		return fail(err)
	}
	defer src.Close()
	tmp := cfg.Path + ".compact"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fail(err)
	}
	dst, err := bolt.Open(tmp, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return fail(err)
	}
	if err := ctx.Err(); err != nil {
		dst.Close()
		os.Remove(tmp)
		return fail(err)
	}
	if err := bolt.Compact(dst, src, 64<<20); err != nil {
		dst.Close()
		os.Remove(tmp)
		return fail(err)
	}
	// Compact commits with fdatasync; Close leaves a complete file.
	if err := dst.Close(); err != nil {
		os.Remove(tmp)
		return fail(err)
	}
	if fi, err = os.Stat(tmp); err != nil {
		return fail(err)
	}
	after = fi.Size()
	if err := os.Rename(tmp, cfg.Path); err != nil {
		os.Remove(tmp)
		return fail(err)
	}
	if err := syncDir(filepath.Dir(cfg.Path)); err != nil {
		return fail(err)
	}
	return before, after, nil
}
