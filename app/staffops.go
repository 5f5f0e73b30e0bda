package app

import (
	"time"
)

// StaffRescanCameras drops the camera in use and looks for one again at
// once (a camera plugged in or swapped; the package's udev rule does the
// same on hot-plug through examkiosk --rescan-camera).
func (a *StaffService) StaffRescanCameras() error {
	if err := a.staffCheck(); err != nil {
		return err
	}
	if a.opts.Camera == nil {
		return refuse("no_camera_module")
	}
	a.opts.Camera.Rescan()
	a.audit("staff_rescan_cameras", "", "")
	return nil
}

// RescanCameras is the hot-plug signal's rescan (no staff session: the
// signal comes from root through udev).
func RescanCameras(a *App) {
	if a.opts.Camera != nil {
		a.log.Info("camera hot-plug: rescanning")
		a.opts.Camera.Rescan()
	}
}

// StaffRestart restarts the kiosk application: the window closes, the
// services close in order, and the kiosk starts again in the same process
// slot (main re-executes itself; under systemd the unit is not restarted,
// so the watchdog and cage stay). Nothing is lost: submissions are durable.
func (a *StaffService) StaffRestart() error {
	if err := a.staffCheck(); err != nil {
		return err
	}
	if a.opts.Quit == nil {
		return refuse("restart_unavailable")
	}
	a.audit("staff_restart", "", "")
	a.log.Info("staff console: restart")
	a.restart.Store(true)
	go func() {
		time.Sleep(300 * time.Millisecond) // let the console's call return
		a.opts.Quit()
	}()
	return nil
}

// RestartRequested reports whether staff asked for a restart before the
// window closed.
func RestartRequested(a *App) bool { return a.restart.Load() }
