// Package app is the kiosk application: configuration, the device status,
// the candidate journey and the staff console, and the wiring of the store,
// the devices and sync. An *App (Open) owns what runs; the web UI reaches it
// through three bound services of one concern each — JourneyService (the
// candidate), StaffService (the staff console), DeviceService (status) —
// whose TypeScript types are generated into frontend/wailsjs, and through
// the events of events.go.
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
	"examkiosk/device/printer"
	"examkiosk/sync/kiosk"
	"examkiosk/sync/wire"
)

// Options are what main passes to Open besides the config: who is running
// and how. Open fills in the parts (Store … Sync) it opens; New takes them as
// given, where a test needs only part of the kiosk (Store is required; a
// missing camera, engine or sync client shows in the status).
type Options struct {
	Config    Config // set by Open
	Version   string
	Demo      bool
	Logger    *slog.Logger
	EnrolCode string      // Open enrols with it when the kiosk is not enrolled yet
	Models    []ModelFile // verified model files; verified when nil
	ReadyFile string      // when set, ReportRendered writes the rendered screen's marker here
	Now       func() time.Time
	Events    func(name string, data any) // receives the UI events instead of Wails (tests)

	Store         *store.Store
	Camera        *camera.Camera
	Preview       *camera.Preview
	PreviewServer *camera.PreviewServer
	Face          *face.Engine
	Sync          *kiosk.Client    // nil until enrolled
	Notify        Notifier         // systemd notifications (READY=1 on the welcome screen); nil: none
	Quit          func()           // closes the window (the staff console's restart); nil: cannot
	Follow        *camera.Follower // demo: the replay camera's person, told the liveness prompts
	PAD           *face.PAD        // passive presentation-attack detector fused with the liveness challenge
	Printer       printer.Printer  // admission tickets; Open makes the CUPS one of [printer]; nil: none
}

// App is the kiosk application: it owns the parts Open opened and offers the
// UI its three bound services (Bound).
type App struct {
	*core
	*JourneyService
	*StaffService
	*DeviceService
}

// JourneyService is the candidate's journey, bound to the UI: login, face,
// photo, form, review, submit, receipt and status.
type JourneyService struct{ *core }

// StaffService is the PIN-protected staff console, bound to the UI.
type StaffService struct{ *core }

// DeviceService is the kiosk's device status, bound to the UI.
type DeviceService struct{ *core }

// Bound returns the services Wails binds to the UI.
func (a *App) Bound() []any { return []any{a.JourneyService, a.StaffService, a.DeviceService} }

// Bindings returns unconnected services, for generating their TypeScript
// bindings (make bindings).
func Bindings() []any { return []any{&JourneyService{}, &StaffService{}, &DeviceService{}} }

// core is the state the services share.
type core struct {
	opts   Options
	log    *slog.Logger
	client *http.Client

	mu       sync.Mutex
	ctx      context.Context
	models   []ModelFile
	journey  Journey
	face     *faceRun // the running face step, if any
	login    *loginRun
	staff    staffGate
	sync     atomic.Pointer[kiosk.Client] // set at start or by a staff enrolment
	windowUp bool                         // Startup ran: events go to the window
	lastRegs string                       // registrationsKey last sent with EventJourney

	enrolMu sync.Mutex         // one enrolment at a time
	runCtx  context.Context    // Open's context: a client enrolled later runs under it
	cancel  context.CancelFunc // stops what Open started
	closers []func() error     // what Open opened, closed in reverse by Close

	readyOnce sync.Once   // READY=1 to systemd (watchdog.go)
	restart   atomic.Bool // staff asked for a restart (staffops.go)

	layoutLogged []string // "screen WxH" whose layout problems were logged (layout.go)

	// faceMu serialises starting and stopping the face step: one has ended
	// before the next starts (facestep.go). faceSeq (under mu) numbers them.
	faceMu  sync.Mutex
	faceSeq int
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
	c := &core{
		opts:   opts,
		log:    opts.Logger,
		client: &http.Client{Timeout: 2 * time.Second},
		models: models,
		ctx:    context.Background(),
	}
	c.sync.Store(opts.Sync)
	return &App{core: c, JourneyService: &JourneyService{c}, StaffService: &StaffService{c}, DeviceService: &DeviceService{c}}, nil
}

// Startup is called by Wails when the window is up.
func (a *App) Startup(ctx context.Context) {
	a.mu.Lock()
	a.ctx, a.windowUp = ctx, true
	a.mu.Unlock()
	a.log.Info("kiosk started", "version", a.opts.Version, "demo", a.opts.Demo, "centre", a.opts.Config.Centre.Name)
	go a.watchIdle(ctx, 5*time.Second)
	go a.watchStatus(ctx, StatusEvery)
}

// Touch records candidate activity (the UI calls it on input), so that the
// idle timeout counts from the last touch.
func (a *JourneyService) Touch() {
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
			a.emit(EventJourney, a.Logout())
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
func (a *JourneyService) Welcome() (WelcomeInfo, error) {
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

// Status reports the device status (see core.status).
func (a *DeviceService) Status() StatusReport { return a.status() }

// status reports camera, face models, storage, central reachability and
// the app version. The checks run concurrently and take at most about two
// seconds (the central's health check).
func (a *core) status() StatusReport {
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
func (a *DeviceService) ReportRendered(screen string) error {
	a.log.Info("screen rendered", "screen", screen)
	a.notifyReady(screen)
	if a.opts.ReadyFile == "" {
		return nil
	}
	tmp := a.opts.ReadyFile + ".tmp"
	if err := os.WriteFile(tmp, []byte(screen+"\n"), 0o644); err != nil {
		return fmt.Errorf("write ready file: %w", err)
	}
	return os.Rename(tmp, a.opts.ReadyFile)
}

func (a *core) context() context.Context {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.ctx
}
