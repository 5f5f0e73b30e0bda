package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"examkiosk/internal/powercut"
)

const powerCutEnv = "EXAMKIOSK_STORE_POWERCUT_CHILD" // "dbpath|keyfile" in the child

// TestPowerCutChild is the writer of TestPowerCut: it submits registrations
// on the power-cut file system and prints each id once Submit has returned.
// It only runs as that test's child process.
func TestPowerCutChild(t *testing.T) {
	spec := os.Getenv(powerCutEnv)
	if spec == "" {
		t.Skip("runs only as the child of TestPowerCut")
	}
	path, keyFile, _ := strings.Cut(spec, "|")
	cfg := DefaultConfig()
	cfg.Path, cfg.KeyFile = path, keyFile
	s, err := Open(cfg)
	if err != nil {
		fmt.Println("open-error", err)
		os.Exit(3)
	}
	s.now = func() time.Time { return t0 }
	ctx := context.Background()
	if err := s.PutCatalog(ctx, testCatalog(1)); err != nil {
		fmt.Println("catalog-error", err)
		os.Exit(4)
	}
	ph := photo(t, 30<<10, 7)
	fmt.Println("ready")
	for n := 1; ; n++ {
		r, err := s.Submit(ctx, newReg(t, n, ph))
		if err != nil {
			fmt.Println("submit-error", err)
			os.Exit(5)
		}
		fmt.Println("id", r.ID)
	}
}

// TestPowerCut is the disk promise: a submission is on disk when Submit
// returns. The store writes on a file system that keeps only synced data
// (internal/powercut); the power is cut while a child process is submitting,
// after 1, 7 and 40 acknowledgements, once on a disk that lost every unsynced
// write and once on one that wrote a random part of the unsynced sectors
// (a torn cut). The file as the disk kept it must open,
// pass bbolt's consistency check, hold every acknowledged submission with
// its photo, and carry an audit chain that verifies. A store opened with
// bbolt's NoSync, or one that acknowledges before its commit, fails here,
// where a process kill (TestCrashSafety) cannot tell.
func TestPowerCut(t *testing.T) {
	if os.Getenv(powerCutEnv) != "" {
		t.Skip("child")
	}
	for _, cutAfter := range []int{1, 7, 40} {
		t.Run(fmt.Sprintf("after %d", cutAfter), func(t *testing.T) {
			powerCutRound(t, cutAfter, 0)
		})
		seed := uint64(time.Now().UnixNano())
		t.Run(fmt.Sprintf("torn after %d", cutAfter), func(t *testing.T) {
			t.Logf("seed %d", seed)
			powerCutRound(t, cutAfter, seed)
		})
	}
}

// powerCutRound cuts the power after cutAfter acknowledgements; a non-zero
// seed makes the cut torn (random unsynced sectors kept).
func powerCutRound(t *testing.T, cutAfter int, seed uint64) {
	mnt := t.TempDir()
	pc, err := powercut.Mount(mnt)
	if err != nil {
		t.Skipf("no power-cut file system here (needs /dev/fuse and root): %v", err)
	}
	unmounted := false
	t.Cleanup(func() {
		if !unmounted {
			pc.Unmount()
		}
	})
	keyFile := filepath.Join(t.TempDir(), "kiosk.key")
	reached := make(chan struct{})
	w := startWriter(t, "TestPowerCutChild", powerCutEnv+"="+filepath.Join(mnt, "kiosk.db")+"|"+keyFile, func(n int) {
		if n == cutAfter {
			close(reached)
		}
	})
	cmd, done := w.cmd, w.done
	select {
	case <-reached:
	case <-done:
		cmd.Wait()
		_, fatal := w.acked()
		t.Fatalf("writer ended before %d submissions: %s", cutAfter, fatal)
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		t.Fatalf("writer made fewer than %d submissions in 2 minutes", cutAfter)
	}
	// The writer goes on submitting, so the cut falls within a transaction.
	// Acknowledged before the cut: counted first, then the disk is frozen.
	before, _ := w.acked()
	var kept map[string][]byte
	if seed == 0 {
		kept = pc.Cut()
	} else {
		rng := rand.New(rand.NewPCG(seed, 1))
		// Cut within a transaction: while writes wait for their sync.
		for deadline := time.Now().Add(5 * time.Second); pc.Pending() == 0 && time.Now().Before(deadline); {
			time.Sleep(50 * time.Microsecond)
		}
		before, _ = w.acked()
		sectors, keptSectors := 0, 0
		kept = pc.CutTorn(func(int) bool {
			sectors++
			k := rng.IntN(2) == 0
			if k {
				keptSectors++
			}
			return k
		})
		t.Logf("torn cut: %d of %d unsynced sectors reached the disk", keptSectors, sectors)
	}
	syncs := pc.Syncs()
	cmd.Process.Kill()
	cmd.Wait()
	<-done
	if err := pc.Unmount(); err != nil {
		t.Fatal(err)
	}
	unmounted = true

	// Power back on: the disk holds what was kept.
	dir := t.TempDir()
	cfg := testConfig(dir)
	cfg.KeyFile = keyFile
	if err := os.WriteFile(cfg.Path, kept["kiosk.db"], 0o600); err != nil {
		t.Fatal(err)
	}
	written, _ := w.acked()
	t.Logf("cut after %d acknowledged (%d written), %d syncs, %d bytes kept", len(before), len(written), syncs, len(kept["kiosk.db"]))
	db, err := bolt.Open(cfg.Path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatalf("the file the disk kept does not open: %v", err)
	}
	err = db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatalf("the file the disk kept is inconsistent: %v", err)
	}
	s, err := Open(cfg)
	if err != nil {
		t.Fatalf("reopen after the cut: %v", err)
	}
	defer s.Close()
	ctx := context.Background()
	var lost []string
	for _, id := range before {
		r, err := s.Get(ctx, id)
		if err != nil {
			lost = append(lost, id)
			continue
		}
		if len(r.Photo) < 30<<10 || len(r.Descriptors) != 1 {
			t.Errorf("submission %s came back without its photo or descriptor", id)
		}
	}
	if len(lost) > 0 {
		t.Fatalf("%d of %d acknowledged submissions lost in the power cut (first %s)", len(lost), len(before), lost[0])
	}
	if q, _, err := s.Depth(ctx); err != nil || q < len(before) {
		t.Fatalf("queued after the cut = %d, %v; want at least the %d acknowledged", q, err, len(before))
	}
	if _, err := s.VerifyAudit(ctx); err != nil {
		t.Fatalf("audit chain after the cut: %v", err)
	}
}
