package window

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"examkiosk/device/face/ort"
	"examkiosk/internal/testenv"
)

// Where the staff console's controls are on the kiosk's 1280×800 screen
// (the window is fullscreen). If the layout moves them, the test fails
// with screenshots of each step in the artifacts directory.
var (
	staffButton   = [2]int{1214, 775} // status strip, bottom right: 工作人员
	pinInput      = [2]int{150, 127}  // the console's PIN field
	keypadDone    = [2]int{1087, 702} // the on-screen keypad's 完成
	restartButton = [2]int{235, 637}  // 技术支持: 重启程序
	restartAgain  = [2]int{120, 676}  // the same button, now 再点一次确认重启, wrapped to its own line
)

// TestStaffRestart: the production binary in demo mode (its own central
// on 127.0.0.1:8700, PIN 123456) is driven as staff would: open the
// console, type the PIN, press "restart" and confirm. The process must
// replace itself (the same PID, the program started again), render the
// welcome screen again and keep its data: the device enrolled at the
// first start is not enrolled again.
func TestStaffRestart(t *testing.T) {
	for _, tool := range []string{"Xvfb", "xdotool", "import"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: run build/setup.sh deps", tool)
		}
	}
	if l, err := net.Listen("tcp", "127.0.0.1:8700"); err != nil {
		t.Skipf("the demo central's port 127.0.0.1:8700 is in use (another demo kiosk?): %v", err)
	} else {
		l.Close()
	}
	testenv.ModelsDir(t)
	bin := kioskBinary(t, testenv.RepoRoot(t))
	display := startXvfb(t, 1280, 800)
	work := t.TempDir()
	artifacts := os.Getenv("EXAMKIOSK_ARTIFACTS")
	if artifacts == "" {
		artifacts = work
	}
	os.MkdirAll(artifacts, 0o755)
	shot := func(name string) string {
		p := filepath.Join(artifacts, "restart-"+name+".png")
		exec.Command("import", "-display", display, "-window", "root", p).Run()
		return p
	}

	ready := filepath.Join(work, "ready")
	logPath := filepath.Join(work, "kiosk.log")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	kiosk := exec.CommandContext(ctx, bin, "--demo", "--data", filepath.Join(work, "data"), "--ready-file", ready)
	kiosk.Env = append(os.Environ(), "DISPLAY="+display, "XDG_CACHE_HOME="+filepath.Join(work, "cache"),
		"EXAMKIOSK_ORT_DIR="+filepath.Dir(ort.DefaultLibraryPath()))
	logf, _ := os.Create(logPath)
	kiosk.Stdout, kiosk.Stderr = logf, logf
	if err := kiosk.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { kiosk.Wait(); close(exited) }()
	t.Cleanup(func() {
		kiosk.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			kiosk.Process.Kill()
			<-exited
		}
	})
	logText := func() string { b, _ := os.ReadFile(logPath); return string(b) }
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf(format+"\nscreenshot %s\nkiosk log:\n%s", append(args, shot("failed"), lastLines(logText(), 30))...)
	}
	waitWelcome := func(what string) {
		t.Helper()
		deadline := time.Now().Add(2 * time.Minute)
		for {
			if b, err := os.ReadFile(ready); err == nil && strings.TrimSpace(string(b)) == "welcome" {
				return
			}
			select {
			case <-exited:
				fail("%s: the kiosk exited", what)
			default:
			}
			if time.Now().After(deadline) {
				fail("%s: no welcome screen within 2 minutes", what)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	xdo := func(args ...string) {
		t.Helper()
		cmd := exec.Command("xdotool", args...)
		cmd.Env = append(os.Environ(), "DISPLAY="+display)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("xdotool %v: %v\n%s", args, err, out)
		}
	}
	click := func(at [2]int) {
		t.Helper()
		xdo("mousemove", strconv.Itoa(at[0]), strconv.Itoa(at[1]), "click", "1")
		time.Sleep(800 * time.Millisecond)
	}

	waitWelcome("first start")
	if n := strings.Count(logText(), `msg="enrolled with the central"`); n != 1 {
		fail("first start: enrolled %d times, want once", n)
	}
	os.Remove(ready)
	click(staffButton)
	click(pinInput)
	xdo("type", "--delay", "60", "123456")
	xdo("key", "Return")
	time.Sleep(1500 * time.Millisecond)
	click(keypadDone)
	shot("console")
	if !strings.Contains(logText(), `msg="staff console opened"`) {
		fail("the staff console did not open with the demo PIN")
	}
	click(restartButton)
	shot("confirm")
	click(restartAgain)

	waitWelcome("after the restart")
	shot("restarted")
	log := logText()
	if !strings.Contains(log, `msg="staff console: restart"`) {
		fail("the console's restart was not called")
	}
	if n := strings.Count(log, `msg="kiosk started"`); n != 2 {
		fail("the kiosk started %d times, want twice (before and after the restart)", n)
	}
	if n := strings.Count(log, `msg="enrolled with the central"`); n != 1 {
		fail("enrolled %d times: the restarted kiosk did not find its data", n)
	}
	select {
	case <-exited:
		fail("the kiosk process exited instead of replacing itself")
	default:
	}
	// The same process slot (systemd's MainPID and the watchdog stay).
	if exe, err := os.Readlink("/proc/" + strconv.Itoa(kiosk.Process.Pid) + "/exe"); err != nil || filepath.Base(exe) != filepath.Base(bin) {
		fail("process %d runs %q (%v), want the kiosk", kiosk.Process.Pid, exe, err)
	}
}

// lastLines is the end of a log, for a failure message.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
