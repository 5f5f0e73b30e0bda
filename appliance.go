package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"examkiosk/app"
)

// The kiosk as an installed appliance (build/package): the PIN hash for the
// config file, and the camera hot-plug signal from the udev rule.

// pidFile is where the running kiosk writes its pid for --rescan-camera:
// $RUNTIME_DIRECTORY (systemd's RuntimeDirectory=examkiosk) or
// /run/examkiosk.
func pidFile() string {
	dir := os.Getenv("RUNTIME_DIRECTORY")
	if dir == "" {
		dir = "/run/examkiosk"
	}
	return filepath.Join(strings.SplitN(dir, ":", 2)[0], "examkiosk.pid")
}

// hashPIN reads a PIN (without echo on a terminal) and prints the config
// line with its argon2id hash.
func hashPIN(in *os.File, out, errw io.Writer) int {
	fd := int(in.Fd())
	if old, err := unix.IoctlGetTermios(fd, unix.TCGETS); err == nil {
		fmt.Fprint(errw, "staff PIN (6-12 digits): ")
		noEcho := *old
		noEcho.Lflag &^= unix.ECHO
		if err := unix.IoctlSetTermios(fd, unix.TCSETS, &noEcho); err == nil {
			defer func() {
				unix.IoctlSetTermios(fd, unix.TCSETS, old)
				fmt.Fprintln(errw)
			}()
		}
	}
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		fmt.Fprintf(errw, "examkiosk: read PIN: %v\n", err)
		return 1
	}
	h, err := app.HashPIN(strings.TrimSpace(line))
	if err != nil {
		fmt.Fprintf(errw, "examkiosk: %v\n", err)
		return 2
	}
	fmt.Fprintf(out, "staff_pin_hash = %q\n", string(h))
	return 0
}

// signalRescan sends SIGUSR1 to the kiosk named in the pid file.
func signalRescan(errw io.Writer) int {
	b, err := os.ReadFile(pidFile())
	if errors.Is(err, os.ErrNotExist) {
		return 0 // no kiosk running: it finds the camera when it starts
	}
	pid, perr := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || perr != nil || pid <= 1 {
		fmt.Fprintf(errw, "examkiosk: pid file %s: %v %v\n", pidFile(), err, perr)
		return 1
	}
	if err := syscall.Kill(pid, syscall.SIGUSR1); err != nil && !errors.Is(err, syscall.ESRCH) {
		fmt.Fprintf(errw, "examkiosk: signal kiosk %d: %v\n", pid, err)
		return 1
	}
	return 0
}

// onRescanSignal writes the pid file (when its directory exists) and
// rescans the cameras on SIGUSR1 until the returned stop is called.
func onRescanSignal(ctx context.Context, a *app.App, log *slog.Logger) (stop func()) {
	pf := pidFile()
	wrote := false
	if _, err := os.Stat(filepath.Dir(pf)); err == nil {
		if err := os.WriteFile(pf, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
			log.Warn("pid file", "err", err)
		} else {
			wrote = true
		}
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR1)
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-sig:
				app.RescanCameras(a)
			}
		}
	}()
	return func() {
		signal.Stop(sig)
		cancel()
		if wrote {
			os.Remove(pf)
		}
	}
}
