package app

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// notifySocket listens where $NOTIFY_SOCKET points, as systemd does, and
// returns the datagrams it receives.
func notifySocket(t *testing.T) <-chan string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	t.Setenv("NOTIFY_SOCKET", path)
	out := make(chan string, 256)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				close(out)
				return
			}
			out <- string(buf[:n])
		}
	}()
	return out
}

// next returns the next message within d, or "" when none came.
func next(msgs <-chan string, d time.Duration) string {
	select {
	case m := <-msgs:
		return m
	case <-time.After(d):
		return ""
	}
}

// TestWatchdogStopsWhenTheKioskHangs runs the real watchdog over a real
// App (store, replay camera) against a fake systemd: READY=1 when the
// welcome screen rendered, WATCHDOG=1 while everything answers, and no
// WATCHDOG=1 once the journey's state machine hangs (its lock held for
// good, as a deadlock would), nor when the store stops answering.
func TestWatchdogStopsWhenTheKioskHangs(t *testing.T) {
	msgs := notifySocket(t)
	a := testApp(t, Options{Camera: replayCamera(t), Notify: SystemdNotifier})

	if err := a.ReportRendered("login"); err != nil {
		t.Fatal(err)
	}
	if m := next(msgs, 200*time.Millisecond); m != "" {
		t.Fatalf("READY=1 before the welcome screen rendered: %q", m)
	}
	a.ReportRendered("welcome")
	if m := next(msgs, 2*time.Second); m != "READY=1" {
		t.Fatalf("after the welcome screen rendered: got %q, want READY=1", m)
	}
	a.ReportRendered("welcome")
	if m := next(msgs, 200*time.Millisecond); m != "" {
		t.Fatalf("READY=1 is sent once, got %q again", m)
	}

	const interval = 200 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logged []string
	logs := make(chan string, 64)
	go RunWatchdog(ctx, interval, SystemdNotifier, WatchdogProbes(a), func(msg string, args ...any) {
		select {
		case logs <- msg:
		default:
		}
	})
	for i := 0; i < 3; i++ {
		if m := next(msgs, 2*interval); m != "WATCHDOG=1" {
			t.Fatalf("ping %d of a healthy kiosk: got %q, want WATCHDOG=1", i, m)
		}
	}

	// The hang: the journey's lock is taken and never released.
	a.mu.Lock()
	defer a.mu.Unlock()
	deadline := time.Now().Add(8 * interval)
	for time.Now().Before(deadline) {
		m := next(msgs, interval)
		if m == "" {
			break // the pings stopped
		}
		if m != "WATCHDOG=1" {
			t.Fatalf("unexpected notification %q", m)
		}
	}
	if m := next(msgs, 6*interval); m != "" {
		t.Fatalf("a hung kiosk still pinged: %q", m)
	}
	select {
	case l := <-logs:
		logged = append(logged, l)
	case <-time.After(time.Second):
	}
	if len(logged) == 0 || !strings.Contains(logged[0], "not alive") {
		t.Errorf("the skipped ping is not logged: %q", logged)
	}
}

func TestWatchdogProbesTheStore(t *testing.T) {
	a := testApp(t, Options{Camera: replayCamera(t)})
	if err := checkAll(context.Background(), time.Second, WatchdogProbes(a)); err != nil {
		t.Fatalf("healthy kiosk: %v", err)
	}
	a.opts.Store.Close()
	err := checkAll(context.Background(), time.Second, WatchdogProbes(a))
	if err == nil || !strings.Contains(err.Error(), "store") {
		t.Fatalf("closed store: got %v, want a store failure", err)
	}
}

func TestCameraAliveNoticesAStuckPipeline(t *testing.T) {
	cam := replayCamera(t)
	if err := cameraAlive(cam, time.Minute, time.Now()); err != nil {
		t.Fatalf("fresh frames: %v", err)
	}
	if err := cameraAlive(cam, time.Minute, time.Now().Add(5*time.Minute)); err == nil {
		t.Fatal("frames five minutes old while the camera says ok must fail the probe")
	}
	cam.Close()
	if err := cameraAlive(cam, time.Minute, time.Now().Add(5*time.Minute)); err != nil {
		t.Fatalf("a closed camera is a state the kiosk shows, not a hang: %v", err)
	}
}

func TestWatchdogInterval(t *testing.T) {
	t.Setenv("WATCHDOG_USEC", "60000000")
	t.Setenv("WATCHDOG_PID", "1")
	if d, err := WatchdogInterval(); err != nil || d != 0 {
		t.Fatalf("another process's watchdog: %v %v", d, err)
	}
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getppid()))
	if d, err := WatchdogInterval(); err != nil || d != time.Minute {
		t.Fatalf("cage's watchdog (our parent): %v %v, want 1m", d, err)
	}
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
	if d, err := WatchdogInterval(); err != nil || d != time.Minute {
		t.Fatalf("our own watchdog: %v %v, want 1m", d, err)
	}
}
