package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"examkiosk/app/store"
	"examkiosk/device/camera"
	"examkiosk/sync/kiosk"
)

// Staff console limits.
const (
	staffSessionIdle = 5 * time.Minute // a staff session ends after this long without a call
	staffMaxTries    = 5               // wrong PINs before the console locks
	staffLockout     = 5 * time.Minute // how long it stays locked
)

var errAlreadyEnrolled = refuse("already_enrolled")

// staffGate is the PIN check of the staff console, with a lockout after
// repeated wrong PINs.
type staffGate struct {
	until    time.Time // session valid until
	failures int
	locked   time.Time // locked until
}

// StaffLogin opens the staff console with the PIN whose argon2id hash is
// kiosk.staff_pin_hash. The slow hash runs outside the lock.
func (a *StaffService) StaffLogin(pin string) error {
	a.mu.Lock()
	now := a.opts.Now()
	if g := &a.staff; now.Before(g.locked) {
		a.mu.Unlock()
		return refuse("pin_locked", "minutes", int(g.locked.Sub(now).Minutes())+1)
	}
	a.mu.Unlock()
	want := a.opts.Config.Kiosk.StaffPINHash
	if want == "" {
		return refuse("no_staff_pin")
	}
	ok := want.Verify(pin)
	a.mu.Lock()
	defer a.mu.Unlock()
	g := &a.staff
	if !ok {
		g.failures++
		if g.failures >= staffMaxTries {
			g.failures, g.locked = 0, now.Add(staffLockout)
		}
		a.log.Warn("staff console: wrong PIN")
		if g.failures == 0 { // this try locked the console
			return refuse("pin_locked", "minutes", int(staffLockout.Minutes()))
		}
		return refuse("wrong_pin", "left", staffMaxTries-g.failures)
	}
	g.failures, g.until = 0, now.Add(staffSessionIdle)
	a.log.Info("staff console opened")
	go a.audit("staff_login", "", "")
	return nil
}

// StaffLogout closes the staff console.
func (a *StaffService) StaffLogout() {
	a.mu.Lock()
	a.staff.until = time.Time{}
	a.mu.Unlock()
}

// staffCheck refuses a console call without an open staff session and
// extends the session.
func (a *core) staffCheck() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.opts.Now()
	if now.After(a.staff.until) {
		return refuse("pin_first")
	}
	a.staff.until = now.Add(staffSessionIdle)
	return nil
}

// StaffOverview is what the staff console shows: device health, the sync
// state, the outbox (no personal data) and the quarantined items.
type StaffOverview struct {
	Status      StatusReport       `json:"status"`
	Sync        *kiosk.State       `json:"sync,omitempty"` // nil when not enrolled
	Store       store.Stats        `json:"store"`
	Camera      camera.Stats       `json:"camera"`
	CameraState camera.Status      `json:"cameraState"`
	Queue       []store.QueueEntry `json:"queue"`
	Quarantine  []store.QueueEntry `json:"quarantine"`
	PreviewURL  string             `json:"previewUrl"`
}

// StaffOverview returns the console's data.
func (a *StaffService) StaffOverview() (StaffOverview, error) {
	if err := a.staffCheck(); err != nil {
		return StaffOverview{}, err
	}
	return a.overview(a.status())
}

// overview assembles the console's data around a status report.
func (a *core) overview(status StatusReport) (StaffOverview, error) {
	ctx := a.context()
	o := StaffOverview{Status: status, Queue: []store.QueueEntry{}, Quarantine: []store.QueueEntry{}}
	var err error
	if o.Store, err = a.opts.Store.Stats(ctx); err != nil {
		return o, fmt.Errorf("store stats: %w", err)
	}
	if q, err := a.opts.Store.Queue(ctx, 50); err == nil {
		o.Queue = append(o.Queue, q...)
	}
	if q, err := a.opts.Store.Quarantined(ctx, 50); err == nil {
		o.Quarantine = append(o.Quarantine, q...)
	}
	if a.sync.Load() != nil {
		s := a.sync.Load().State()
		o.Sync = &s
	}
	if a.opts.Camera != nil {
		o.Camera, o.CameraState = a.opts.Camera.Stats(), a.opts.Camera.Status()
	}
	if a.opts.PreviewServer != nil {
		o.PreviewURL = a.opts.PreviewServer.StreamURL()
	}
	return o, nil
}

// StaffSyncNow starts a sync round at once.
func (a *StaffService) StaffSyncNow() error {
	if err := a.staffCheck(); err != nil {
		return err
	}
	if a.sync.Load() == nil {
		return refuse("not_enrolled_staff")
	}
	a.sync.Load().SyncNow()
	a.audit("staff_sync_now", "", "")
	return nil
}

// StaffEnrol enrols this kiosk with the central using the one-time code its
// staff issued, and starts delivery.
func (a *StaffService) StaffEnrol(code string) error {
	if err := a.staffCheck(); err != nil {
		return err
	}
	if a.sync.Load() != nil {
		return errAlreadyEnrolled
	}
	code = strings.TrimSpace(code)
	if code == "" {
		return refuse("enrol_code_required")
	}
	ctx, cancel := context.WithTimeout(a.context(), time.Minute)
	defer cancel()
	if _, err := a.enrol(ctx, code); err != nil {
		if errors.Is(err, errAlreadyEnrolled) {
			return err
		}
		return refuse("enrol_failed").because(err)
	}
	a.audit("staff_enrol", "", "")
	return nil
}

// StaffRequeue puts a quarantined item back in the outbox (after the cause
// was fixed at the central).
func (a *StaffService) StaffRequeue(seq int) error {
	if err := a.staffCheck(); err != nil {
		return err
	}
	if err := a.opts.Store.Requeue(a.context(), uint64(seq)); err != nil {
		return refuse("requeue_failed", "seq", seq).because(err)
	}
	a.audit("staff_requeue", fmt.Sprint(seq), "")
	return nil
}

// StaffVerify checks the whole database: every sealed record, the indexes,
// the outbox and the audit chain.
func (a *StaffService) StaffVerify() (store.VerifyReport, error) {
	if err := a.staffCheck(); err != nil {
		return store.VerifyReport{}, err
	}
	r, err := a.opts.Store.Verify(a.context())
	if err != nil {
		return r, refuse("verify_failed").because(err)
	}
	return r, nil
}

// StaffPurge removes now the photos and face data that are past retention.
func (a *StaffService) StaffPurge() (int, error) {
	if err := a.staffCheck(); err != nil {
		return 0, err
	}
	n, err := a.opts.Store.Purge(a.context(), a.opts.Now())
	if err != nil {
		return n, refuse("purge_failed").because(err)
	}
	a.audit("staff_purge", "", fmt.Sprint(n))
	return n, nil
}

func (a *core) audit(kind, subject, detail string) {
	if err := a.opts.Store.Audit(a.context(), kind, subject, detail); err != nil {
		a.log.Warn("audit", "kind", kind, "err", err)
	}
}
