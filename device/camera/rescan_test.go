package camera

import (
	"context"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// TestRescanReopensAtOnce: Rescan drops a working source and opens again
// without waiting for the reconnect interval, and cuts a reconnect pause
// short.
func TestRescanReopensAtOnce(t *testing.T) {
	dir := t.TempDir()
	for i := 0; i < 3; i++ {
		os.WriteFile(filepath.Join(dir, string(rune('a'+i))+".jpg"), encodeJPEG(t, testImage(64, 48, i)), 0o644)
	}
	cfg := DefaultConfig()
	cfg.ReconnectInterval = time.Hour // only a rescan can reopen within the test
	var opens atomic.Int32
	var fail atomic.Bool
	open := func(ctx context.Context) (Source, error) {
		opens.Add(1)
		if fail.Load() {
			return nil, &Error{State: StateNoDevice, Op: "open", Device: "test", Err: os.ErrNotExist}
		}
		return OpenReplay(ctx, dir, cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := New(ctx, open, "test", cfg)
	defer c.Close()
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 5 s (opens %d, status %s)", what, opens.Load(), c.Status().State)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor("first frames", func() bool { return c.Status().State == StateOK })
	fail.Store(true) // the camera was unplugged
	c.Rescan()
	waitFor("reopen after rescan", func() bool { return opens.Load() == 2 && c.Status().State == StateNoDevice })
	fail.Store(false) // plugged in again: the udev rule rescans
	c.Rescan()
	waitFor("open after the second rescan", func() bool { return opens.Load() == 3 && c.Status().State == StateOK })
}
