package app

import (
	"context"
	"fmt"
	"image"
	"image/jpeg"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"examkiosk/internal/testenv"
	"examkiosk/sync/central"
	"examkiosk/sync/testbed"
)

// TestRegistrationLifecycle runs the kiosk as main wires it (Open:
// real store, camera, face engine, enrolment and the sync client) against
// the reference central over loopback HTTP, and follows one registration
// from the kiosk through review and payment back to the candidate's screen:
// submitted → delivered → rejected with a reason → resubmitted (revision 2)
// → approved with a payment QR → paid.
func TestRegistrationLifecycle(t *testing.T) {
	models := testenv.ModelsDir(t)
	testenv.FacesDir(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	// The central, on a loopback port, with its demo centre, exam and code.
	ccfg := central.DefaultConfig()
	c := testbed.StartCentral(t, ccfg)
	srv := c.Server()

	// The kiosk.
	cfg := DefaultConfig()
	cfg.Centre.Name = central.DemoCentreName
	cfg.Store.Path = filepath.Join(t.TempDir(), "kiosk.db")
	cfg.Face.ModelsDir = models
	frames := t.TempDir()
	for i := 0; i < 2; i++ {
		f, _ := os.Create(filepath.Join(frames, fmt.Sprintf("%d.jpg", i)))
		jpeg.Encode(f, image.NewGray(image.Rect(0, 0, 640, 480)), nil)
		f.Close()
	}
	cfg.Camera.Device = "replay:" + frames
	cfg.Sync.CentralURL = c.URL
	cfg.Sync.PullInterval, cfg.Sync.BackoffBase, cfg.Sync.BackoffCap = 100*time.Millisecond, 50*time.Millisecond, 200*time.Millisecond
	rec := &recorder{}
	a, err := Open(ctx, cfg, Options{Version: "test", Logger: log, EnrolCode: central.DemoEnrolmentCode, Events: rec.emit})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if a.sync.Load() == nil {
		t.Fatal("the kiosk did not enrol")
	}

	wait := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	wait("the exam catalog from the central", func() bool { w, _ := a.Welcome(); return len(w.Exams) == 1 })

	// Apply.
	a.Begin()
	if _, err := a.OfflineLogin("李娜", "11010519491231002X"); err != nil {
		t.Fatal(err)
	}
	passFace(t, a, a.opts.Face)
	a.AcceptPhoto()
	form := ApplicationForm{Phone: "13800138000", Education: "master", Major: "会计学", GraduationYear: 2015, ExamID: central.DemoExamID, PositionID: "P001"}
	if _, err := a.SaveForm(form); err != nil {
		t.Fatal(err)
	}
	v, err := a.Submit()
	if err != nil {
		t.Fatal(err)
	}
	id := v.Receipt.ID
	if v, err = a.ShowStatus(); err != nil {
		t.Fatal(err)
	}
	status := func() RegistrationView {
		j := a.Journey()
		if len(j.Registrations) != 1 {
			t.Fatalf("want one registration on the status screen, got %+v", j.Registrations)
		}
		return j.Registrations[0]
	}
	wait("delivery", func() bool { return status().Delivered })
	if r := status(); r.ReviewBy.IsZero() || !r.ReviewBy.After(time.Now()) {
		t.Fatalf("a delivered registration says when its review is due: %+v", r)
	}
	regs, err := srv.Registrations("")
	if err != nil || len(regs) != 1 || regs[0].ID != id || regs[0].Name != "李娜" {
		t.Fatalf("at the central: %v %+v", err, regs)
	}

	// Rejected with a reason: the candidate sees it and resubmits.
	if _, err := srv.Review(id, false, "报考岗位专业不符"); err != nil {
		t.Fatal(err)
	}
	wait("the rejection", func() bool { return status().Status == "rejected" })
	if r := status(); r.Reason != "报考岗位专业不符" {
		t.Fatalf("rejection reason: %+v", r)
	}
	// The screen learns of the decision from an event, not by polling.
	wait("a journey event with the rejection", func() bool {
		_, last := rec.count(EventJourney)
		v, ok := last.(JourneyView)
		return ok && len(v.Registrations) == 1 && v.Registrations[0].Status == "rejected"
	})
	if n, _ := rec.count(EventSync); n == 0 {
		t.Fatal("no delivery-state event from the sync client")
	}
	// The notice allows fixing and resubmitting, or another position: this
	// candidate chooses another position (the form asks for it again).
	if v, err = a.ChangePosition(id); err != nil || v.Step != StepFace || v.Form == nil || v.Form.PositionID != "" || v.Form.Major != "会计学" {
		t.Fatalf("another position: %v %+v", err, v)
	}
	passFace(t, a, a.opts.Face)
	a.AcceptPhoto()
	form.PositionID = "P002"
	if _, err := a.SaveForm(form); err != nil {
		t.Fatal(err)
	}
	if v, err = a.Submit(); err != nil || v.Receipt.Revision != 2 || v.Receipt.Status != "resubmitted" {
		t.Fatalf("resubmitted: %v %+v", err, v.Receipt)
	}
	a.ShowStatus()
	wait("delivery of revision 2", func() bool { r := status(); return r.Revision == 2 && r.Delivered })

	// Approved: a payment QR; paid: final.
	rr, err := srv.Review(id, true, "")
	if err != nil {
		t.Fatal(err)
	}
	wait("the approval", func() bool { return status().Status == "approved" })
	if r := status(); r.PaymentQR == "" || r.PaymentURL == "" || r.Position != "财务会计岗" {
		t.Fatalf("approved: %+v", r)
	}
	if err := c.PayOrder(t.Context(), rr.OrderID); err != nil { // the simulated Alipay signs the notification
		t.Fatal(err)
	}
	wait("the payment", func() bool { return status().Status == "paid" })
	if r := status(); r.PaymentQR != "" {
		t.Fatal("a paid registration shows no payment QR")
	}
	// The demo exam's ticket window is open: paying seats the candidate,
	// and the admission ticket reaches the status screen (admission.go).
	wait("the admission ticket", func() bool { return status().Ticket != nil })
	if r := status(); r.Ticket.SiteName != central.DemoCentreName || r.Ticket.Seat != 1 || r.Ticket.StartsAt.IsZero() {
		t.Fatalf("admission ticket: %+v", r.Ticket)
	}
}

// A kiosk started without enrolment is enrolled from the staff console and
// starts delivering at once.
func TestStaffEnrol(t *testing.T) {
	models := testenv.ModelsDir(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	c := testbed.StartCentral(t, central.DefaultConfig())
	srv := c.Server()

	cfg := DefaultConfig()
	cfg.Centre.Name = central.DemoCentreName
	cfg.Kiosk.StaffPINHash = mustHashPIN(t, "135790")
	cfg.Store.Path = filepath.Join(t.TempDir(), "kiosk.db")
	cfg.Face.ModelsDir = models
	cfg.Camera.Device = "replay:" + t.TempDir()
	cfg.Sync.CentralURL = c.URL
	cfg.Sync.PullInterval = 100 * time.Millisecond
	a, err := Open(ctx, cfg, Options{Version: "test", Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if it := a.Status().Items[3]; it.Code != "not_enrolled" {
		t.Fatalf("before enrolment: %+v", it)
	}
	if err := a.StaffEnrol("DEMO"); err == nil {
		t.Fatal("enrolment needs the staff PIN")
	}
	if err := a.StaffLogin("135790"); err != nil {
		t.Fatal(err)
	}
	if err := a.StaffEnrol("NOT-A-CODE"); code(err) != "enrol_failed" {
		t.Fatalf("a wrong code: got %v", err)
	}
	if err := a.StaffEnrol(central.DemoEnrolmentCode); err != nil {
		t.Fatal(err)
	}
	if err := a.StaffEnrol(central.DemoEnrolmentCode); err == nil {
		t.Fatal("a second enrolment must be refused")
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		o, err := a.StaffOverview()
		if err != nil {
			t.Fatal(err)
		}
		if o.Sync != nil && !o.Sync.LastSuccess.IsZero() && o.Store.CatalogVersion > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the enrolled kiosk did not sync: %+v", o.Sync)
		}
		time.Sleep(50 * time.Millisecond)
	}
	devs, err := srv.Devices()
	if err != nil || len(devs) != 1 {
		t.Fatalf("devices at the central: %v %+v", err, devs)
	}
}
