package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"

	"examkiosk/device/camera"
)

// The systemd watchdog (examkiosk.service: Type=notify, WatchdogSec=):
// READY=1 once the welcome screen rendered (the store is open before the
// App exists), then WATCHDOG=1 every half interval, but only while the
// journey's state machine, the camera pipeline and the store answer. A kiosk
// that hangs stops pinging and systemd kills and restarts it.

// probeTimeout is how long one part may take to answer a watchdog probe
// (at most; never more than half the ping period).
const probeTimeout = 5 * time.Second

// Probe is one part of the kiosk the watchdog asks whether it still answers.
type Probe struct {
	Name  string
	Check func(ctx context.Context) error
}

// Notifier sends a state string to the service manager; daemon.SdNotify
// in production.
type Notifier func(state string) error

// SystemdNotifier sends to $NOTIFY_SOCKET with go-systemd's daemon.SdNotify.
// Without a socket (not started by systemd) it does nothing.
func SystemdNotifier(state string) error {
	_, err := daemon.SdNotify(false, state)
	return err
}

// WatchdogInterval returns systemd's watchdog interval for this process, or
// 0 when the watchdog is off. The kiosk runs as cage's child, so
// $WATCHDOG_PID names its parent: that counts as ours too (the unit has
// NotifyAccess=all).
func WatchdogInterval() (time.Duration, error) {
	d, err := daemon.SdWatchdogEnabled(false)
	if err != nil || d > 0 {
		return d, err
	}
	usec, pid := os.Getenv("WATCHDOG_USEC"), os.Getenv("WATCHDOG_PID")
	if usec == "" || pid == "" || pid != strconv.Itoa(os.Getppid()) {
		return 0, nil
	}
	n, err := strconv.ParseInt(usec, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("WATCHDOG_USEC=%q: not a positive number of microseconds", usec)
	}
	return time.Duration(n) * time.Microsecond, nil
}

// RunWatchdog sends WATCHDOG=1 to notify every interval/2 for as long as
// every probe answers, until ctx ends. A probe that fails or does not
// answer within probeTimeout (or a quarter of the interval, if shorter) skips the ping (and is logged); systemd
// restarts the kiosk when no ping came for a whole interval.
func RunWatchdog(ctx context.Context, interval time.Duration, notify Notifier, probes []Probe, log func(msg string, args ...any)) {
	if interval <= 0 {
		return
	}
	timeout := min(probeTimeout, interval/4)
	t := time.NewTicker(interval / 2)
	defer t.Stop()
	for {
		if err := checkAll(ctx, timeout, probes); err != nil {
			log("watchdog: not alive, no ping", "err", err)
		} else if err := notify(daemon.SdNotifyWatchdog); err != nil {
			log("watchdog: notify", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func checkAll(ctx context.Context, timeout time.Duration, probes []Probe) error {
	var errs []error
	for _, p := range probes {
		if err := answers(ctx, timeout, p.Check); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p.Name, err))
		}
	}
	return errors.Join(errs...)
}

// answers runs check and waits for it at most timeout. A check that hangs
// is left behind: the process is about to be restarted.
func answers(ctx context.Context, timeout time.Duration, check func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- check(ctx) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("no answer within %s", timeout)
	}
}

// WatchdogProbes are the parts of kiosk a that the watchdog asks: the
// journey's state machine (its lock can be taken and the screen read), the
// camera pipeline (its status answers and, while it says ok, frames are
// fresh) and the store (a read transaction completes).
func WatchdogProbes(a *App) []Probe {
	probes := []Probe{
		{Name: "journey", Check: func(context.Context) error {
			a.mu.Lock()
			_ = a.journey.Step()
			a.mu.Unlock()
			return nil
		}},
		{Name: "store", Check: func(ctx context.Context) error {
			_, err := a.opts.Store.Stats(ctx)
			return err
		}},
	}
	if cam := a.opts.Camera; cam != nil {
		stale := 3*a.opts.Config.Camera.FrameTimeout + a.opts.Config.Camera.ReconnectInterval
		probes = append(probes, Probe{Name: "camera", Check: func(context.Context) error {
			return cameraAlive(cam, stale, time.Now())
		}})
	}
	return probes
}

// cameraAlive fails when the camera says frames flow but the newest is
// older than stale: its capture loop is stuck (the camera reopens a silent
// device by itself after camera.frame_timeout, so this is not a missing
// or unplugged camera, which the kiosk survives and shows).
func cameraAlive(cam *camera.Camera, stale time.Duration, now time.Time) error {
	st := cam.Status()
	if st.State != camera.StateOK {
		return nil
	}
	f, ok := cam.Latest()
	if !ok {
		return nil
	}
	if age := now.Sub(f.Time); age > stale {
		return fmt.Errorf("camera says ok but its newest frame is %s old", age.Round(time.Second))
	}
	return nil
}

// notifyReady tells systemd the kiosk is up once the welcome screen has
// rendered; later screens do not repeat it.
func (a *core) notifyReady(screen string) {
	if screen != "welcome" || a.opts.Notify == nil {
		return
	}
	a.readyOnce.Do(func() {
		if err := a.opts.Notify(daemon.SdNotifyReady); err != nil {
			a.log.Warn("notify systemd: ready", "err", err)
		}
	})
}
