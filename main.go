// Command examkiosk is the ExamKiosk registration kiosk: a full-screen
// Wails window over the candidate journey. See README.md.
package main

import (
	"context"
	"embed"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/BurntSushi/toml"
	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	"github.com/wailsapp/wails/v2/pkg/options/linux"

	"examkiosk/app"
	"examkiosk/sync/kiosk"
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
	var cfg app.Config
	var err error
	switch {
	case f.config != "":
		cfg, err = app.LoadConfig(f.config)
	case f.demo:
		cfg = app.DemoConfig()
	default:
		cfg, err = app.LoadConfig(app.DefaultConfigPath)
	}
	if err != nil {
		return cfg, err
	}
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
		cfg.Sync.CentralURL = f.central
	}
	if err := cfg.Validate(); err != nil {
		return cfg, fmt.Errorf("after applying flags: %w", err)
	}
	return cfg, nil
}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if generatingBindings {
		// Write the TypeScript bindings of the bound methods and exit.
		k := &app.App{}
		if err := wails.Run(&options.App{Bind: []any{k}, OnStartup: k.Startup}); err != nil {
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
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	cfg, err := loadConfig(f)
	if err != nil {
		fmt.Fprintf(os.Stderr, "examkiosk: %v\n", err)
		return 1
	}
	if f.printCfg {
		if err := toml.NewEncoder(os.Stdout).Encode(cfg); err != nil {
			fmt.Fprintf(os.Stderr, "examkiosk: %v\n", err)
			return 1
		}
		return 0
	}
	models, err := app.VerifyModels(cfg.Face.ModelsDir)
	if err != nil {
		fmt.Fprintf(os.Stderr, "examkiosk: %v\n", err)
		return 1
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	svc, err := app.OpenServices(ctx, cfg, version, f.demo, f.enrol, logger)
	if err != nil {
		fmt.Fprintf(os.Stderr, "examkiosk: %v\n", err)
		return 1
	}
	defer svc.Close()
	kiosk, err := app.New(app.Options{
		Config:        cfg,
		Version:       version,
		Demo:          f.demo,
		Logger:        logger,
		Store:         svc.Store,
		Camera:        svc.Camera,
		Preview:       svc.Preview,
		PreviewServer: svc.PreviewServer,
		Face:          svc.Face,
		Follow:        svc.Follow,
		PAD:           svc.PAD,
		Sync:          svc.Sync,
		Enrol: func(ctx context.Context, code string) (*kiosk.Client, error) {
			return svc.Enrol(ctx, cfg, version, code, logger)
		},
		Models:    models,
		ReadyFile: f.readyFile,
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "examkiosk: %v\n", err)
		return 1
	}
	svc.Start(ctx)
	err = wails.Run(&options.App{
		Title:                    "ExamKiosk",
		Width:                    1280,
		Height:                   800,
		Fullscreen:               true,
		Frameless:                true,
		DisableResize:            true,
		WindowStartState:         options.Fullscreen,
		BackgroundColour:         &options.RGBA{R: 245, G: 247, B: 250, A: 255},
		AssetServer:              &assetserver.Options{Assets: assets},
		OnStartup:                kiosk.Startup,
		Bind:                     []any{kiosk},
		Linux:                    &linux.Options{ProgramName: "examkiosk", WebviewGpuPolicy: linux.WebviewGpuPolicyNever},
		EnableDefaultContextMenu: false,
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "examkiosk: %v\n", err)
		return 1
	}
	return 0
}
