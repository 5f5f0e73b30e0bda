package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"examkiosk/app/store"
	"examkiosk/device/camera"
	"examkiosk/device/face"
	"examkiosk/device/printer"
	"examkiosk/sync/kiosk"
	"examkiosk/sync/wire"
)

// settingSyncCentre holds the centre and the central's sealing key that
// enrolment returned (public data); the device key itself is in the store's
// sealed identity.
const settingSyncCentre = "sync.centre"

type syncCentre struct {
	Centre    wire.Centre `json:"centre"`
	SealKey   []byte      `json:"seal_key"`
	AnswerKey []byte      `json:"answer_key,omitempty"` // pinned at enrolment (protocol v2)
}

// Open opens everything the kiosk runs on — the store, the face engine, the
// camera and its preview, the sync client when the kiosk is enrolled
// (enrolling first with opts.EnrolCode when it is set) — and starts the
// background work (retention purge, sync) until ctx ends or Close is
// called. The returned App owns all of it; Close releases it in reverse.
func Open(ctx context.Context, cfg Config, opts Options) (*App, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	log := opts.Logger
	ctx, cancel := context.WithCancel(ctx)
	var closers []func() error
	fail := func(err error) (*App, error) {
		cancel()
		closeAll(closers)
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return fail(err)
	}
	if opts.Models == nil {
		models, err := VerifyModels(cfg.Face.ModelsDir)
		if err != nil {
			return fail(err)
		}
		opts.Models = models
	}
	if err := os.MkdirAll(filepath.Dir(cfg.Store.Path), 0o700); err != nil {
		return fail(fmt.Errorf("create data dir for store.path %s: %w", cfg.Store.Path, err))
	}
	st, err := store.Open(cfg.Store)
	if err != nil {
		return fail(fmt.Errorf("open store %s: %w", cfg.Store.Path, err))
	}
	opts.Store = st
	closers = append(closers, st.Close)

	eng, err := face.NewEngine(cfg.Face, log)
	if err != nil {
		return fail(fmt.Errorf("load face models from %s: %w; install them with: %s", cfg.Face.ModelsDir, err, InstallModelsHint(cfg.Face.ModelsDir)))
	}
	opts.Face = eng
	closers = append(closers, eng.Close)
	pad, err := face.OpenPAD(cfg.Face.ModelsDir, cfg.Face.ONNXRuntime)
	if err != nil {
		return fail(err)
	}
	opts.PAD = pad
	closers = append(closers, func() error { pad.Close(); return nil })

	cam, follow, err := openCamera(ctx, cfg, opts.Demo, log)
	if err != nil {
		return fail(fmt.Errorf("camera: %w", err))
	}
	opts.Camera, opts.Follow = cam, follow
	closers = append(closers, cam.Close)
	pv, err := camera.NewPreview(cam, cfg.Camera)
	if err != nil {
		return fail(err)
	}
	srv, err := pv.Listen(ctx, "127.0.0.1:0")
	if err != nil {
		return fail(fmt.Errorf("camera preview: %w", err))
	}
	opts.Preview, opts.PreviewServer = pv, srv
	closers = append(closers, srv.Close)

	if opts.Printer == nil && cfg.Printer.Queue != "" {
		opts.Printer = printer.NewCUPS(cfg.Printer)
	}
	opts.Config = cfg
	a, err := New(opts)
	if err != nil {
		return fail(err)
	}
	a.closers, a.cancel, a.runCtx = closers, cancel, ctx
	id, err := a.identity(ctx, opts.EnrolCode)
	if err != nil {
		return fail(err)
	}
	if id != nil {
		c, err := a.newClient(*id)
		if err != nil {
			return fail(err)
		}
		a.sync.Store(c)
	}
	go st.PurgeEvery(ctx, time.Hour)
	if c := a.sync.Load(); c != nil {
		a.startSync(ctx, c)
	}
	return a, nil
}

func (a *core) newClient(id kiosk.Identity) (*kiosk.Client, error) {
	c, err := kiosk.New(a.opts.Config.Sync, id, a.opts.Store, a.opts.Store, kiosk.Options{Logger: a.log, OnState: a.onSyncState, Health: func(context.Context) wire.Health {
		h := a.health()
		h.Model = a.opts.Config.Face.RecognitionModel
		return h
	}})
	if err != nil {
		return nil, fmt.Errorf("sync client: %w", err)
	}
	return c, nil
}

// enrol enrols a kiosk that is not enrolled yet with the one-time code from
// the central's staff, and starts its sync client (the staff console's
// enrolment; `--enrol CODE` does the same at start).
func (a *core) enrol(ctx context.Context, code string) (*kiosk.Client, error) {
	a.enrolMu.Lock()
	defer a.enrolMu.Unlock()
	if a.sync.Load() != nil {
		return nil, errAlreadyEnrolled
	}
	id, err := a.identity(ctx, code)
	if err != nil {
		return nil, err
	}
	c, err := a.newClient(*id)
	if err != nil {
		return nil, err
	}
	a.sync.Store(c)
	if a.runCtx != nil {
		a.startSync(a.runCtx, c)
	}
	return c, nil
}

// health is what the sync client reports to the central with each
// heartbeat; the client adds the queue figures.
func (a *core) health() wire.Health {
	h := wire.Health{Version: a.opts.Version}
	if a.opts.Camera != nil {
		h.Camera = string(a.opts.Camera.Status().State)
	}
	if free, err := diskFree(filepath.Dir(a.opts.Store.Path())); err == nil {
		h.DiskFreeBytes = free
	}
	if q, err := a.opts.Store.Queue(context.Background(), 1); err == nil && len(q) > 0 {
		h.OldestQueued = q[0].EnqueuedAt // the outbox is in queue order
	}
	return h
}

func (a *core) startSync(ctx context.Context, c *kiosk.Client) {
	// A returning network triggers a sync at once instead of waiting out
	// the backoff.
	go kiosk.WatchInterfaces(ctx, 2*time.Second, c.SetOnline)
	go func() {
		if err := c.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			a.log.Error("sync stopped", "err", err)
		}
	}()
}

// Close stops the background work and releases everything Open opened, in
// reverse order.
func (a *App) Close() error {
	if a.cancel != nil {
		a.cancel()
	}
	err := closeAll(a.closers)
	a.closers = nil
	return err
}

func closeAll(closers []func() error) error {
	var errs []error
	for i := len(closers) - 1; i >= 0; i-- {
		if err := closers[i](); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// identity returns the enrolled device identity, enrolling first with code
// when one is given and the kiosk is not enrolled. nil means not enrolled.
func (a *core) identity(ctx context.Context, code string) (*kiosk.Identity, error) {
	cfg, log := a.opts.Config, a.log
	dev, err := a.opts.Store.Identity(ctx)
	switch {
	case err == nil && dev.DeviceID != "":
		raw, err := a.opts.Store.Setting(ctx, settingSyncCentre)
		if err != nil {
			return nil, fmt.Errorf("read enrolment: %w", err)
		}
		var sc syncCentre
		if err := json.Unmarshal(raw, &sc); err != nil {
			return nil, fmt.Errorf("read enrolment: %w", err)
		}
		return &kiosk.Identity{DeviceID: dev.DeviceID, PrivateKey: dev.PrivateKey, Centre: sc.Centre, SealKey: sc.SealKey, AnswerKey: sc.AnswerKey}, nil
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
	id, err := kiosk.Enroll(ectx, cfg.Sync, code, host, a.opts.Version, nil)
	if err != nil {
		return nil, fmt.Errorf("enrol with the central: %w", err) // names each URL tried
	}
	raw, _ := json.Marshal(syncCentre{Centre: id.Centre, SealKey: id.SealKey, AnswerKey: id.AnswerKey})
	if err := a.opts.Store.PutSetting(ctx, settingSyncCentre, raw); err != nil {
		return nil, fmt.Errorf("save enrolment: %w", err)
	}
	if err := a.opts.Store.PutIdentity(ctx, store.Identity{DeviceID: id.DeviceID, PrivateKey: id.PrivateKey}); err != nil {
		return nil, fmt.Errorf("save device identity: %w", err)
	}
	log.Info("enrolled with the central", "device", id.DeviceID, "centre", id.Centre.Name)
	return &id, nil
}
