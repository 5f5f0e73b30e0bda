package main

import (
	"bytes"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"examkiosk/app"
)

func TestHashPIN(t *testing.T) {
	in := filepath.Join(t.TempDir(), "pin")
	os.WriteFile(in, []byte("20261127\n"), 0o600)
	f, _ := os.Open(in)
	defer f.Close()
	var out, errw bytes.Buffer
	if code := hashPIN(f, &out, &errw); code != 0 {
		t.Fatalf("exit %d: %s", code, errw.String())
	}
	m := regexp.MustCompile(`^staff_pin_hash = "(\$argon2id\$[^"]+)"\n$`).FindStringSubmatch(out.String())
	if m == nil || !app.PINHash(m[1]).Verify("20261127") {
		t.Fatalf("output %q is not a config line whose hash opens with the PIN", out.String())
	}
	if bytes.Contains(out.Bytes(), []byte("20261127")) || bytes.Contains(errw.Bytes(), []byte("20261127")) {
		t.Fatal("the PIN itself is printed")
	}
	os.WriteFile(in, []byte("12ab\n"), 0o600)
	g, _ := os.Open(in)
	defer g.Close()
	if code := hashPIN(g, &out, &errw); code != 2 {
		t.Fatalf("a PIN that is not 6-12 digits: exit %d, want 2", code)
	}
}

// TestRescanSignal: --rescan-camera finds the kiosk through its pid file and
// sends it SIGUSR1 (here the test process plays the kiosk).
func TestRescanSignal(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("RUNTIME_DIRECTORY", dir)
	var errw bytes.Buffer
	if code := signalRescan(&errw); code != 0 {
		t.Fatalf("no kiosk running is not an error: exit %d %s", code, errw.String())
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR1)
	defer signal.Stop(sig)
	os.WriteFile(filepath.Join(dir, "examkiosk.pid"), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644)
	if code := signalRescan(&errw); code != 0 {
		t.Fatalf("exit %d: %s", code, errw.String())
	}
	select {
	case <-sig:
	case <-time.After(3 * time.Second):
		t.Fatal("the kiosk did not get SIGUSR1")
	}
}
