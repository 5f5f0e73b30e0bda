package window

import (
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"examkiosk/device/face/ort"
	"examkiosk/internal/testenv"
)

// TestSystemdNotifications starts the production binary as systemd would
// under examkiosk.service (Type=notify, WatchdogSec=): the kiosk must send
// READY=1 once its window rendered the welcome screen, then WATCHDOG=1
// about every half interval; frozen (SIGSTOP, as a hang looks from outside)
// it sends nothing, and systemd would kill it. The test is the notify
// socket and, as cage would be, the kiosk's parent named in WATCHDOG_PID.
func TestSystemdNotifications(t *testing.T) {
	if _, err := exec.LookPath("Xvfb"); err != nil {
		t.Skip("Xvfb is not installed: run build/setup.sh deps")
	}
	models := testenv.ModelsDir(t)
	bin := kioskBinary(t, testenv.RepoRoot(t))
	display := startXvfb(t, 1280, 800)
	work := t.TempDir()

	sock := filepath.Join(work, "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	type msg struct {
		text string
		at   time.Time
	}
	msgs := make(chan msg, 64)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			msgs <- msg{string(buf[:n]), time.Now()}
		}
	}()

	frames := filepath.Join(work, "frames")
	os.MkdirAll(frames, 0o755)
	f, _ := os.Create(filepath.Join(frames, "000.jpg"))
	jpeg.Encode(f, image.NewRGBA(image.Rect(0, 0, 640, 480)), nil)
	f.Close()
	cfg := filepath.Join(work, "config.toml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("[centre]\nname = %q\n[store]\npath = %q\n[face]\nmodels_dir = %q\n[camera]\ndevice = \"replay:%s\"\n[sync]\ncentral_url = %q\n",
		centreName, filepath.Join(work, "data", "kiosk.db"), models, frames, closedPortURL(t))), 0o600)

	const interval = 2 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	kiosk := exec.CommandContext(ctx, bin, "--config", cfg)
	kiosk.Env = append(os.Environ(), "DISPLAY="+display, "HOME="+work, "XDG_CACHE_HOME="+filepath.Join(work, "cache"),
		"EXAMKIOSK_ORT_DIR="+filepath.Dir(ort.DefaultLibraryPath()), /* the runtime set-up installed, not the fresh HOME's */
		"NOTIFY_SOCKET="+sock, "WATCHDOG_USEC="+strconv.FormatInt(interval.Microseconds(), 10), "WATCHDOG_PID="+strconv.Itoa(os.Getpid()))
	log, _ := os.Create(filepath.Join(work, "kiosk.log"))
	kiosk.Stdout, kiosk.Stderr = log, log
	if err := kiosk.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { kiosk.Process.Kill(); kiosk.Wait() }()
	dump := func() string { b, _ := os.ReadFile(filepath.Join(work, "kiosk.log")); return string(b) }

	ready, pings := false, 0
	deadline := time.After(90 * time.Second)
	for !ready || pings < 3 {
		select {
		case m := <-msgs:
			switch m.text {
			case "READY=1":
				ready = true
			case "WATCHDOG=1":
				pings++
			default:
				t.Fatalf("unexpected notification %q", m.text)
			}
		case <-deadline:
			t.Fatalf("after 90 s: READY=1 %v, %d WATCHDOG=1 pings\n%s", ready, pings, dump())
		}
	}

	// Frozen: no more pings (drain the one that may be in flight).
	if err := kiosk.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer kiosk.Process.Signal(syscall.SIGCONT)
	stopped := time.Now()
	for {
		select {
		case m := <-msgs:
			if m.at.Sub(stopped) > 200*time.Millisecond {
				t.Fatalf("a frozen kiosk sent %q", m.text)
			}
			continue
		case <-time.After(2 * interval):
		}
		break
	}
	kiosk.Process.Signal(syscall.SIGCONT)
	select {
	case m := <-msgs:
		if m.text != "WATCHDOG=1" {
			t.Fatalf("after SIGCONT: %q", m.text)
		}
	case <-time.After(2 * interval):
		t.Fatalf("the kiosk did not ping again after it was resumed\n%s", dump())
	}
}
