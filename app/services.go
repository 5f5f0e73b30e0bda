package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"examkiosk/app/store"
	"examkiosk/device/camera"
	"examkiosk/device/face"
	"examkiosk/sync/central"
	"examkiosk/sync/kiosk"
	"examkiosk/sync/wire"
)

// Services are the parts of a running kiosk: the store, the camera and its
// preview, the face engine, the sync client and, in the demo, the local
// central server. OpenServices opens them; Close releases them in reverse.
type Services struct {
	Store         *store.Store
	Camera        *camera.Camera
	Preview       *camera.Preview
	PreviewServer *camera.PreviewServer
	Face          *face.Engine
	Sync          *kiosk.Client // nil until the kiosk is enrolled
	// Follow is told the liveness prompts when the demo's camera plays a
	// recorded person following them (nil otherwise).
	Follow *camera.Follower
	// PAD is the passive presentation-attack detector of the liveness step.
	PAD *face.PAD

	closers []func() error
	cancel  context.CancelFunc
	mu      sync.Mutex      // guards Sync after start and runCtx
	runCtx  context.Context // the context of Start, for a sync client enrolled later
}

// settingSyncCentre holds the centre and the central's sealing key that
// enrolment returned (public data); the device key itself is in the store's
// sealed identity.
const settingSyncCentre = "sync.centre"

type syncCentre struct {
	Centre  wire.Centre `json:"centre"`
	SealKey []byte      `json:"seal_key"`
}

// OpenServices opens everything the kiosk runs on. In demo mode it first
// starts the reference central on 127.0.0.1 (unless one already answers
// there) and enrols with its demo code. enrolCode, when set, enrols the
// kiosk with the central before anything else.
func OpenServices(ctx context.Context, cfg Config, version string, demo bool, enrolCode string, log *slog.Logger) (*Services, error) {
	ctx, cancel := context.WithCancel(ctx)
	s := &Services{cancel: cancel}
	fail := func(err error) (*Services, error) {
		s.Close()
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(cfg.Store.Path), 0o700); err != nil {
		return fail(fmt.Errorf("create data dir for store.path %s: %w", cfg.Store.Path, err))
	}
	if demo {
		if err := s.startDemoCentral(ctx, cfg, log); err != nil {
			return fail(err)
		}
		enrolCode = central.DemoEnrolmentCode
	}
	st, err := store.Open(cfg.Store)
	if err != nil {
		return fail(fmt.Errorf("open store %s: %w", cfg.Store.Path, err))
	}
	s.Store = st
	s.closers = append(s.closers, st.Close)

	eng, err := face.NewEngine(cfg.Face, log)
	if err != nil {
		return fail(fmt.Errorf("load face models from %s: %w; install them with: %s", cfg.Face.ModelsDir, err, InstallModelsHint))
	}
	s.Face = eng
	s.closers = append(s.closers, eng.Close)
	pad, err := face.OpenPAD(cfg.Face.ModelsDir, cfg.Face.ONNXRuntime)
	if err != nil {
		return fail(err)
	}
	s.PAD = pad
	s.closers = append(s.closers, func() error { pad.Close(); return nil })

	cam, follow, err := openCamera(ctx, cfg, demo, log)
	if err != nil {
		return fail(fmt.Errorf("camera: %w", err))
	}
	s.Camera, s.Follow = cam, follow
	s.closers = append(s.closers, cam.Close)
	pv, err := camera.NewPreview(cam, cfg.Camera)
	if err != nil {
		return fail(err)
	}
	srv, err := pv.Listen(ctx, "127.0.0.1:0")
	if err != nil {
		return fail(fmt.Errorf("camera preview: %w", err))
	}
	s.Preview, s.PreviewServer = pv, srv
	s.closers = append(s.closers, srv.Close)

	id, err := s.identity(ctx, cfg, version, enrolCode, log)
	if err != nil {
		return fail(err)
	}
	if id != nil {
		if s.Sync, err = s.newClient(cfg, *id, version, log); err != nil {
			return fail(err)
		}
	}
	return s, nil
}

func (s *Services) newClient(cfg Config, id kiosk.Identity, version string, log *slog.Logger) (*kiosk.Client, error) {
	c, err := kiosk.New(cfg.Sync, id, s.Store, s.Store, kiosk.Options{Logger: log, Health: func(context.Context) wire.Health {
		return s.health(version)
	}})
	if err != nil {
		return nil, fmt.Errorf("sync client: %w", err)
	}
	return c, nil
}

// Enrol enrols a kiosk that is not enrolled yet with the one-time code from
// the central's staff, and starts its sync client (the staff console's
// enrolment; `--enrol CODE` does the same at start).
func (s *Services) Enrol(ctx context.Context, cfg Config, version, code string, log *slog.Logger) (*kiosk.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Sync != nil {
		return nil, errors.New("本机已登记 / This kiosk is already enrolled")
	}
	if code == "" {
		return nil, errors.New("请输入中心系统发放的登记码 / Type the enrolment code issued by the central system")
	}
	id, err := s.identity(ctx, cfg, version, code, log)
	if err != nil {
		return nil, err
	}
	c, err := s.newClient(cfg, *id, version, log)
	if err != nil {
		return nil, err
	}
	s.Sync = c
	if s.runCtx != nil {
		s.startSync(s.runCtx)
	}
	return c, nil
}

// health is what the sync client reports to the central with each
// heartbeat; the client adds the queue figures.
func (s *Services) health(version string) wire.Health {
	h := wire.Health{Version: version, Camera: string(s.Camera.Status().State)}
	if free, err := diskFree(filepath.Dir(s.Store.Path())); err == nil {
		h.DiskFreeBytes = free
	}
	return h
}

// Start runs the background work until ctx ends: the hourly retention
// purge of photos and face data, and the sync client when enrolled.
func (s *Services) Start(ctx context.Context) {
	go s.Store.PurgeEvery(ctx, time.Hour)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.runCtx = ctx
	if s.Sync != nil {
		s.startSync(ctx)
	}
}

func (s *Services) startSync(ctx context.Context) {
	// A returning network triggers a sync at once instead of waiting out
	// the backoff.
	go kiosk.WatchInterfaces(ctx, 2*time.Second, s.Sync.SetOnline)
	go func() {
		if err := s.Sync.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			slog.Error("sync stopped", "err", err)
		}
	}()
}

// Close releases everything in reverse order of opening.
func (s *Services) Close() {
	if s.cancel != nil {
		s.cancel()
	}
	for i := len(s.closers) - 1; i >= 0; i-- {
		if err := s.closers[i](); err != nil {
			slog.Warn("close", "err", err)
		}
	}
	s.closers = nil
}

// identity returns the enrolled device identity, enrolling first with code
// when one is given and the kiosk is not enrolled. nil means not enrolled.
func (s *Services) identity(ctx context.Context, cfg Config, version, code string, log *slog.Logger) (*kiosk.Identity, error) {
	dev, err := s.Store.Identity(ctx)
	switch {
	case err == nil && dev.DeviceID != "":
		raw, err := s.Store.Setting(ctx, settingSyncCentre)
		if err != nil {
			return nil, fmt.Errorf("read enrolment: %w", err)
		}
		var sc syncCentre
		if err := json.Unmarshal(raw, &sc); err != nil {
			return nil, fmt.Errorf("read enrolment: %w", err)
		}
		return &kiosk.Identity{DeviceID: dev.DeviceID, PrivateKey: dev.PrivateKey, Centre: sc.Centre, SealKey: sc.SealKey}, nil
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return nil, fmt.Errorf("read device identity: %w", err)
	}
	if code == "" {
		log.Warn("kiosk not enrolled with the central: registrations are kept until it is (start once with --enrol CODE)")
		return nil, nil
	}
	host, _ := os.Hostname()
	ectx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	id, err := kiosk.Enroll(ectx, cfg.Sync, code, host, version, nil)
	if err != nil {
		return nil, fmt.Errorf("enrol with the central at %s: %w", cfg.Sync.CentralURL, err)
	}
	raw, _ := json.Marshal(syncCentre{Centre: id.Centre, SealKey: id.SealKey})
	if err := s.Store.PutSetting(ctx, settingSyncCentre, raw); err != nil {
		return nil, fmt.Errorf("save enrolment: %w", err)
	}
	if err := s.Store.PutIdentity(ctx, store.Identity{DeviceID: id.DeviceID, PrivateKey: id.PrivateKey}); err != nil {
		return nil, fmt.Errorf("save device identity: %w", err)
	}
	log.Info("enrolled with the central", "device", id.DeviceID, "centre", id.Centre.Name)
	return &id, nil
}

// startDemoCentral serves the reference central with its demo data on the
// address of cfg.Sync.CentralURL (127.0.0.1:8700), in this process, unless a
// central already answers there.
func (s *Services) startDemoCentral(ctx context.Context, cfg Config, log *slog.Logger) error {
	c := &http.Client{Timeout: time.Second}
	if resp, err := c.Get(cfg.Sync.CentralURL + "/healthz"); err == nil {
		resp.Body.Close()
		log.Info("demo: using the central already running", "url", cfg.Sync.CentralURL)
		return nil
	}
	ccfg := central.DefaultConfig()
	ccfg.Demo = true
	ccfg.DataDir = filepath.Join(filepath.Dir(cfg.Store.Path), "central")
	ccfg.Addr = "127.0.0.1:8700"
	ccfg.PublicURL = cfg.Sync.CentralURL
	srv, err := central.Open(ccfg, central.WithLogger(log.With("part", "central")))
	if err != nil {
		return fmt.Errorf("demo central: %w", err)
	}
	s.closers = append(s.closers, srv.Close)
	l, err := net.Listen("tcp", ccfg.Addr)
	if err != nil {
		return fmt.Errorf("demo central: listen on %s: %w (is another program using the port?)", ccfg.Addr, err)
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(l)
	go srv.RunMaintenance(ctx, 30*time.Second)
	s.closers = append(s.closers, func() error {
		sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		return hs.Shutdown(sctx)
	})
	log.Info("demo: central serving", "url", cfg.Sync.CentralURL, "data", ccfg.DataDir)
	return nil
}
