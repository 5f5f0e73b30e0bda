package app

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/wailsapp/wails/v2/pkg/runtime"

	"examkiosk/sync/kiosk"
)

// Events the kiosk emits to the UI (Wails EventsEmit; the UI subscribes in
// frontend/src/api/events.ts). State changes travel this way; the UI does
// not poll.
const (
	// EventJourney carries a JourneyView when the session changed without
	// the UI asking: the idle timeout, a review decision or payment pulled
	// from the central for the logged-in candidate.
	EventJourney = "journey"
	// EventStatus carries a StatusReport when an item of the device status
	// changed (camera, models, storage, central).
	EventStatus = "status"
	// EventSync carries the delivery state (kiosk.State) after each change.
	EventSync = "sync"
	// EventStaff carries a StaffOverview while the staff console is open.
	EventStaff = "staff"
)

// StatusEvery is how often the kiosk checks its devices and the central
// for the status events.
const StatusEvery = 2 * time.Second

// emit sends an event to the UI: through Options.Events when set (tests),
// else through the Wails runtime once the window is up.
func (a *core) emit(name string, data any) {
	if a.opts.Events != nil {
		a.opts.Events(name, data)
		return
	}
	a.mu.Lock()
	ctx, up := a.ctx, a.windowUp
	a.mu.Unlock()
	if up {
		runtime.EventsEmit(ctx, name, data)
	}
}

// emitJourney sends the session as it is now.
func (a *core) emitJourney() {
	a.mu.Lock()
	v := a.viewLocked()
	a.mu.Unlock()
	a.emit(EventJourney, v)
}

// onSyncState is the sync client's state hook: the delivery state goes to
// the UI, and when a round may have pulled decisions for the logged-in
// candidate, their registrations are compared and the journey sent if
// anything changed.
func (a *core) onSyncState(s kiosk.State) {
	a.emit(EventSync, s)
	if s.Syncing {
		return
	}
	if key := a.registrationsKey(); key != "" {
		a.mu.Lock()
		changed := key != a.lastRegs
		a.lastRegs = key
		a.mu.Unlock()
		if changed {
			a.emitJourney()
		}
	}
}

// registrationsKey summarises the logged-in candidate's registrations
// (status, revision, delivery, payment link) without rendering any QR code;
// "" when nobody is logged in.
func (a *core) registrationsKey() string {
	a.mu.Lock()
	c, ctx := a.journey.candidate, a.ctx
	a.mu.Unlock()
	if c == nil {
		return ""
	}
	regs, err := a.opts.Store.ListByCandidate(ctx, c.IDNumber)
	if err != nil {
		return ""
	}
	type key struct {
		ID, Status, Reason, PaymentURL string
		Revision                       int
		Delivered                      time.Time
		Ticket                         string // the admission ticket's number once issued
	}
	ks := make([]key, len(regs))
	for i, r := range regs {
		ks[i] = key{r.ID, string(r.Status), r.Reason, r.PaymentURL, r.Revision, r.DeliveredAt, ""}
		if r.Ticket != nil {
			ks[i].Ticket = r.Ticket.Number
		}
	}
	b, _ := json.Marshal(ks)
	return c.IDNumber + string(b)
}

// watchStatus checks the devices every `every` and sends the status when an
// item changed, and the staff overview while the console is open.
func (a *core) watchStatus(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	var last []StatusItem
	for {
		r := a.status()
		if !slices.Equal(r.Items, last) {
			last = r.Items
			a.emit(EventStatus, r)
		}
		if a.staffOpen() {
			if o, err := a.overview(r); err == nil {
				a.emit(EventStaff, o)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// staffOpen reports whether a staff session is open.
func (a *core) staffOpen() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.opts.Now().Before(a.staff.until)
}
