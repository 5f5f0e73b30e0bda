// Command examkiosk is the ExamKiosk registration kiosk: a full-screen
// Wails window over the candidate journey. See README.md.
package main

import (
	"context"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/BurntSushi/toml"
	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	"github.com/wailsapp/wails/v2/pkg/options/linux"
	wailsruntime "github.com/wailsapp/wails/v2/pkg/runtime"

	"examkiosk/app"
	"examkiosk/demo"
)

//go:embed all:frontend/dist
var assets embed.FS

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

// flags are the kiosk's command-line options; each overrides its config key.
type flags struct {
	config    string
	demo      bool
	models    string
	data      string
	camera    string
	central   string
	readyFile string
	enrol     string
	version   bool
	printCfg  bool
	hashPIN   bool
	rescan    bool
}

func parseFlags(args []string, stderr io.Writer) (flags, error) {
	var f flags
	fs := flag.NewFlagSet("examkiosk", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.config, "config", "", "config file (default "+app.DefaultConfigPath+"; in --demo mode the built-in demo config)")
	fs.BoolVar(&f.demo, "demo", false, "run the embedded demo: replay camera and a local central server on 127.0.0.1")
	fs.StringVar(&f.models, "models", "", "face models directory (overrides face.models_dir)")
	fs.StringVar(&f.data, "data", "", "data directory: the database is DIR/kiosk.db (overrides store.path)")
	fs.StringVar(&f.camera, "camera", "", "camera: auto, /dev/videoN or replay:PATH (overrides camera.device)")
	fs.StringVar(&f.central, "central", "", "central system base URL (overrides sync.central_url)")
	fs.StringVar(&f.enrol, "enrol", "", "enrol this kiosk with the central using the one-time CODE from its staff")
	fs.StringVar(&f.readyFile, "ready-file", "", "write the name of the first rendered screen to this file (smoke tests, headless demo)")
	fs.BoolVar(&f.version, "version", false, "print the version and exit")
	fs.BoolVar(&f.printCfg, "print-config", false, "print the configuration in force (defaults, file, flags) as TOML and exit")
	fs.BoolVar(&f.hashPIN, "hash-pin", false, "read a 6-12 digit staff PIN from standard input and print its kiosk.staff_pin_hash line")
	fs.BoolVar(&f.rescan, "rescan-camera", false, "tell the running kiosk to look for its camera again (the udev rule's hot-plug signal)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: examkiosk [flags]\n\nExamKiosk registration kiosk. Flags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return f, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return f, nil
}

// loadConfig applies the config file (or the demo config) and the flags.
func loadConfig(f flags) (app.Config, error) {
	if f.printCfg && f.config == "" && !f.demo {
		if _, err := os.Stat(app.DefaultConfigPath); errors.Is(err, fs.ErrNotExist) {
			return withFlags(app.DefaultConfig(), f), nil // --print-config alone: the defaults
		}
	}
	var cfg app.Config
	var err error
	switch {
	case f.config != "":
		cfg, err = app.LoadConfig(f.config)
	case f.demo:
		cfg = demo.Config()
	default:
		cfg, err = app.LoadConfig(app.DefaultConfigPath)
	}
	if err != nil {
		return cfg, err
	}
	cfg = withFlags(cfg, f)
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("after applying flags: %w", err)
	}
	return cfg, nil
}

// withFlags applies the flags that override config keys.
func withFlags(cfg app.Config, f flags) app.Config {
	if f.models != "" {
		cfg.Face.ModelsDir = f.models
	}
	if f.data != "" {
		cfg.Store.Path = filepath.Join(f.data, "kiosk.db")
	}
	if f.camera != "" {
		cfg.Camera.Device = f.camera
	}
	if f.central != "" {
		cfg.Sync.CentralURL, cfg.Sync.CentralURLs = f.central, nil
	}
	return cfg
}

// printConfig writes cfg as TOML, without the staff PIN, and says what is
// still missing when cfg does not validate (the defaults alone lack the
// centre's name).
func printConfig(w io.Writer, cfg app.Config) error {
	fmt.Fprintln(w, "# ExamKiosk configuration in force (defaults, config file, flags); see README.md, Configuration.")
	if cfg.Kiosk.StaffPINHash != "" { // the hash prints itself as [redacted]
		fmt.Fprintln(w, "# kiosk.staff_pin_hash is set; it is not printed.")
	}
	if err := cfg.Validate(); err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintln(w, "# not valid yet:", line)
		}
	}
	return toml.NewEncoder(w).Encode(cfg)
}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if generatingBindings {
		// Write the TypeScript bindings of the bound methods and exit.
		if err := wails.Run(&options.App{Bind: app.Bindings()}); err != nil {
			fmt.Fprintf(os.Stderr, "examkiosk: generate bindings: %v\n", err)
			return 1
		}
		return 0
	}
	f, err := parseFlags(args, os.Stderr)
	if err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if f.version {
		fmt.Println(version)
		return 0
	}
	if f.hashPIN {
		return hashPIN(os.Stdin, os.Stdout, os.Stderr)
	}
	if f.rescan {
		return signalRescan(os.Stderr)
	}
	// The last records stay in memory for the staff console's diagnostic bundle.
	logger := slog.New(app.NewLogRing(slog.NewTextHandler(os.Stderr, nil), 500))
	cfg, err := loadConfig(f)
	if err != nil {
		fmt.Fprintf(os.Stderr, "examkiosk: %v\n", err)
		return 1
	}
	if f.printCfg {
		if err := printConfig(os.Stdout, cfg); err != nil {
			fmt.Fprintf(os.Stderr, "examkiosk: %v\n", err)
			return 1
		}
		return 0
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wailsCtx atomic.Value // the window's context, for closing it on a staff restart
	opts := app.Options{Version: version, Demo: f.demo, Logger: logger, EnrolCode: f.enrol, ReadyFile: f.readyFile,
		Notify: app.SystemdNotifier,
		Quit: func() {
			if c, ok := wailsCtx.Load().(context.Context); ok {
				wailsruntime.Quit(c)
			}
		},
	}
	if f.demo {
		stop, err := demo.StartCentral(ctx, cfg, logger)
		if err != nil {
			fmt.Fprintf(os.Stderr, "examkiosk: %v\n", err)
			return 1
		}
		defer stop()
		opts.EnrolCode = demo.EnrolCode
		if cfg.Printer.Queue == "" { // admission tickets print into files
			if pcfg, stopPrinter, err := demo.StartPrinter(cfg, logger); err != nil {
				logger.Warn("demo: no printer for admission tickets", "err", err)
			} else {
				defer stopPrinter()
				cfg.Printer = pcfg
			}
		}
	}
	kiosk, err := app.Open(ctx, cfg, opts)
	if err != nil {
		fmt.Fprintf(os.Stderr, "examkiosk: %v\n", err)
		return 1
	}
	defer kiosk.Close()
	stopSignals := onRescanSignal(ctx, kiosk, logger)
	defer stopSignals()
	if wd, err := app.WatchdogInterval(); err != nil {
		logger.Warn("systemd watchdog", "err", err)
	} else if wd > 0 {
		logger.Info("systemd watchdog on", "interval", wd)
		go app.RunWatchdog(ctx, wd, app.SystemdNotifier, app.WatchdogProbes(kiosk), logger.Warn)
	}
	// The window stays resizable (no DisableResize): a GTK window that is
	// not keeps its 1280-pixel default width as its minimum, and a portrait
	// screen (1080 wide) would cut it; the window smoke test sizes it
	// 1080×1920. Frameless and fullscreen, nobody resizes it by hand.
	err = wails.Run(&options.App{
		Title:                    "ExamKiosk",
		Width:                    1280,
		Height:                   800,
		Fullscreen:               true,
		Frameless:                true,
		WindowStartState:         options.Fullscreen,
		BackgroundColour:         &options.RGBA{R: 245, G: 247, B: 250, A: 255},
		AssetServer:              &assetserver.Options{Assets: assets},
		OnStartup:                func(c context.Context) { wailsCtx.Store(c); kiosk.Startup(c) },
		Bind:                     kiosk.Bound(),
		ErrorFormatter:           app.FormatError, // refusals reach the UI as {code, field, args}
		Linux:                    &linux.Options{ProgramName: "examkiosk", WebviewGpuPolicy: linux.WebviewGpuPolicyNever},
		EnableDefaultContextMenu: false,
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "examkiosk: %v\n", err)
		return 1
	}
	if app.RestartRequested(kiosk) {
		// The staff console's restart: close everything, then start again
		// as the same program with the same arguments.
		stopSignals()
		cancel()
		kiosk.Close()
		exe, err := os.Executable()
		if err == nil {
			err = syscall.Exec(exe, os.Args, os.Environ())
		}
		fmt.Fprintf(os.Stderr, "examkiosk: restart: %v\n", err)
		return 1
	}
	return 0
}
