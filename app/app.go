// Package app is the kiosk application: configuration, the device status,
// the candidate journey and the staff console, and the wiring of the store,
// the devices and sync. Its exported methods on *App are bound to the web UI
// by Wails; their TypeScript types are generated into frontend/wailsjs.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"examkiosk/app/store"
	"examkiosk/device/camera"
	"examkiosk/device/face"
	"examkiosk/sync/kiosk"
	"examkiosk/sync/wire"
)

// Options are the parts of the App that main wires in. Store is required;
// Camera, Preview, Face and Sync may be nil where a test needs only part of
// the kiosk, and the status then says the part is missing.
type Options struct {
	Config        Config
	Version       string
	Demo          bool
	Logger        *slog.Logger
	Store         *store.Store
	Camera        *camera.Camera
	Preview       *camera.Preview
	PreviewServer *camera.PreviewServer
	Face          *face.Engine
	Sync          *kiosk.Client                                                 // nil until enrolled
	Enrol         func(ctx context.Context, code string) (*kiosk.Client, error) // enrols from the staff console
	Models        []ModelFile                                                   // verified model files; New verifies them when nil
	ReadyFile     string                                                        // when set, ReportRendered writes the rendered screen's marker here
	Now           func() time.Time
	Follow        *camera.Follower // demo: the replay camera's person, told the liveness prompts
	PAD           *face.PAD        // passive presentation-attack detector fused with the liveness challenge
}

// App is the kiosk application bound to the UI.
type App struct {
	opts   Options
	log    *slog.Logger
	client *http.Client

	mu      sync.Mutex
	ctx     context.Context
	models  []ModelFile
	journey Journey
	face    *faceRun // the running face step, if any
	login   *loginRun
	staff   staffGate
	sync    atomic.Pointer[kiosk.Client] // set at start or by a staff enrolment
}

// New checks what the kiosk cannot start without and returns the App.
// Missing or corrupt model files are an error naming the path and the
// command that installs them: the kiosk does not start half-configured.
func New(opts Options) (*App, error) {
	if err := opts.Config.Validate(); err != nil {
		return nil, err
	}
	if opts.Store == nil {
		return nil, errors.New("app: no store")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	models := opts.Models
	if models == nil {
		var err error
		if models, err = VerifyModels(opts.Config.Face.ModelsDir); err != nil {
			return nil, err
		}
	}
	a := &App{
		opts:   opts,
		log:    opts.Logger,
		client: &http.Client{Timeout: 2 * time.Second},
		models: models,
		ctx:    context.Background(),
	}
	a.sync.Store(opts.Sync)
	return a, nil
}

// Startup is called by Wails when the window is up.
func (a *App) Startup(ctx context.Context) {
	a.mu.Lock()
	a.ctx = ctx
	a.mu.Unlock()
	a.log.Info("kiosk started", "version", a.opts.Version, "demo", a.opts.Demo, "centre", a.opts.Config.Centre.Name)
	go a.watchIdle(ctx, 5*time.Second)
}

// Touch records candidate activity (the UI calls it on input), so that the
// idle timeout counts from the last touch.
func (a *App) Touch() {
	a.mu.Lock()
	a.journey.Touch(a.opts.Now())
	a.mu.Unlock()
}

// watchIdle returns an abandoned session to the welcome screen after
// kiosk.idle_seconds without input, forgetting the candidate.
func (a *App) watchIdle(ctx context.Context, every time.Duration) {
	idle := time.Duration(a.opts.Config.Kiosk.IdleSeconds) * time.Second
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		a.mu.Lock()
		stale := a.journey.Idle(a.opts.Now(), idle)
		a.mu.Unlock()
		if stale {
			a.log.Info("idle timeout: back to the welcome screen")
			a.Logout()
		}
	}
}

// ExamSummary is an exam as the welcome screen lists it.
type ExamSummary struct {
	ID            string    `json:"id"`
	Name          string    `json:"name"`
	RegisterUntil time.Time `json:"registerUntil"`
	Positions     int       `json:"positions"`
}

// WelcomeInfo is what the welcome screen shows.
type WelcomeInfo struct {
	CentreName string        `json:"centreName"`
	Language   string        `json:"language"`
	Demo       bool          `json:"demo"`
	Exams      []ExamSummary `json:"exams"`
	Version    string        `json:"version"`
}

// Welcome returns the test-centre name and the exams open for registration
// now, soonest deadline first.
func (a *App) Welcome() (WelcomeInfo, error) {
	info := WelcomeInfo{
		CentreName: a.opts.Config.Centre.Name,
		Language:   a.opts.Config.Kiosk.Language,
		Demo:       a.opts.Demo,
		Exams:      []ExamSummary{},
		Version:    a.opts.Version,
	}
	cat, err := a.opts.Store.Catalog(a.context())
	if errors.Is(err, store.ErrNotFound) {
		return info, nil // nothing pulled from the central yet
	}
	if err != nil {
		return info, fmt.Errorf("read exam catalog: %w", err)
	}
	info.Exams = OpenExams(cat, a.opts.Now())
	return info, nil
}

// OpenExams lists the exams whose registration window contains now,
// soonest deadline first.
func OpenExams(cat wire.Catalog, now time.Time) []ExamSummary {
	out := []ExamSummary{}
	for _, e := range cat.Exams {
		if now.Before(e.RegisterFrom) || !now.Before(e.RegisterUntil) {
			continue
		}
		out = append(out, ExamSummary{ID: e.ID, Name: e.Name, RegisterUntil: e.RegisterUntil, Positions: len(e.Positions)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].RegisterUntil.Before(out[j].RegisterUntil) })
	return out
}

// Status reports camera, face models, storage, central reachability and
// the app version. The checks run concurrently and take at most about two
// seconds (the central's health check).
func (a *App) Status() StatusReport {
	ctx := a.context()
	items := make([]StatusItem, 4)
	var wg sync.WaitGroup
	wg.Add(2)
	items[0] = cameraItem(a.opts.Camera)
	items[1] = modelsItem(a.models, a.opts.Face)
	go func() { defer wg.Done(); items[2] = storageItem(ctx, a.opts.Store) }()
	go func() { defer wg.Done(); items[3] = a.centralItem(ctx) }()
	wg.Wait()
	items = append(items, StatusItem{Key: "version", State: StateOK, Code: "version", Detail: a.opts.Version})
	return StatusReport{Items: items, Version: a.opts.Version, At: a.opts.Now()}
}

// ReportRendered is called by the UI once a screen has rendered real
// content; the window smoke test and the headless demo wait for it.
func (a *App) ReportRendered(screen string) error {
	a.log.Info("screen rendered", "screen", screen)
	if a.opts.ReadyFile == "" {
		return nil
	}
	tmp := a.opts.ReadyFile + ".tmp"
	if err := os.WriteFile(tmp, []byte(screen+"\n"), 0o644); err != nil {
		return fmt.Errorf("write ready file: %w", err)
	}
	return os.Rename(tmp, a.opts.ReadyFile)
}

func (a *App) context() context.Context {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.ctx
}
