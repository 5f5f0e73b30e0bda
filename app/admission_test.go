package app

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"strings"
	"testing"
	"time"

	"examkiosk/app/registration"
	"examkiosk/app/ticket"
	"examkiosk/device/printer"
	"examkiosk/internal/cupstest"
	"examkiosk/sync/testbed"
	"examkiosk/sync/wire"
)

// The words the UI sends for the ticket (zh-CN); a test file may hold them.
var ticketLabels = ticket.Labels{Title: "准考证", Number: "准考证号", Name: "姓名", IDNumber: "身份证号", Exam: "考试名称", Position: "报考岗位",
	Site: "考点", Address: "考点地址", Room: "考场", Seat: "座位号", Time: "考试时间", Verify: "扫码核验", Notes: "考生须知：开考 30 分钟后不得入场。"}

// paidWithTicket submits a registration for the candidate and applies the
// central's updates up to paid, with the ticket when tk is set.
func paidWithTicket(t *testing.T, a *App, name, idn string, tk *wire.Ticket) string {
	t.Helper()
	ctx := context.Background()
	desc := make([]float32, registration.DescriptorLen)
	for i := range desc {
		desc[i] = float32(i%7) / 10
	}
	reg, err := a.opts.Store.Submit(ctx, registration.Registration{Name: name, IDNumber: idn, Phone: "13800138000",
		Education: registration.EducationBachelor, Major: "会计学", GraduationYear: 2015, ExamID: "E1", PositionID: "P1",
		Photo: testbed.Photo(400, 560, 60, 3), Descriptors: [][]float32{desc}, FaceDistance: 0.3, LivenessPassed: true,
		IdentitySource: registration.SourceOfflineUnverified, DeviceID: "k1"})
	if err != nil {
		t.Fatal(err)
	}
	u := func(status string, tk *wire.Ticket) wire.Update {
		return wire.Update{RegistrationID: reg.ID, Revision: 1, Status: status, Ticket: tk, At: time.Now()}
	}
	if err := a.opts.Store.ApplyPull(ctx, wire.Pull{Cursor: "1", Updates: []wire.Update{u("under_review", nil), u("approved", nil), u("paid", tk)}}); err != nil {
		t.Fatal(err)
	}
	return reg.ID
}

func sampleTicket() *wire.Ticket {
	cst := time.FixedZone("CST", 8*3600)
	return &wire.Ticket{Number: "2026010010007", ExamID: "E1", ExamName: "2026年公务员考试", PositionID: "P1", PositionName: "综合管理岗",
		SiteName: "第一中学", SiteAddress: "人民路 1 号", Room: "第 1 考场", Seat: 7,
		StartsAt: time.Date(2026, 12, 12, 9, 0, 0, 0, cst), EndsAt: time.Date(2026, 12, 12, 11, 30, 0, 0, cst),
		VerifyURL: "http://127.0.0.1:8700/tickets/verify/x.y", Photo: smoothPhoto(20, 60, 200)}
}

// A paid candidate with a ticket sees the seat and prints the ticket
// through a real CUPS scheduler: the printed PDF says who and where.
// Without a ticket, a login or a printer, the refusal says why.
func TestPrintTicket(t *testing.T) {
	rec := &recorder{}
	a := testApp(t, Options{Store: catalogStore(t), Events: rec.emit})
	code := func(err error) string {
		var r *Refusal
		if !errors.As(err, &r) {
			return "not a refusal: " + err.Error()
		}
		return r.Code
	}
	if _, err := a.PrintTicket("x", ticketLabels); code(err) != "login_first" {
		t.Fatalf("not logged in: %v", err)
	}
	id := paidWithTicket(t, a, "王小明", "11010519491231002X", nil)
	a.Begin()
	if _, err := a.OfflineLogin("王小明", "11010519491231002X"); err != nil {
		t.Fatal(err)
	}
	if v := a.Journey(); len(v.Registrations) != 1 || v.Registrations[0].Ticket != nil {
		t.Fatalf("a ticket shown before the central issued it: %+v", v.Registrations)
	}
	if _, err := a.PrintTicket(id, ticketLabels); code(err) != "ticket_not_ready" {
		t.Fatalf("no ticket yet: %v", err)
	}
	// The central seats the candidate: the ticket comes with a paid update.
	if err := a.opts.Store.ApplyPull(context.Background(), wire.Pull{Cursor: "2", Updates: []wire.Update{
		{RegistrationID: id, Revision: 1, Status: "paid", Ticket: sampleTicket(), At: time.Now()}}}); err != nil {
		t.Fatal(err)
	}
	seen := a.Journey().Registrations[0].Ticket
	if seen == nil || seen.Seat != 7 || seen.Room != "第 1 考场" || seen.SiteName != "第一中学" {
		t.Fatalf("the status screen's ticket: %+v", seen)
	}
	if _, err := a.PrintTicket("someone-else", ticketLabels); code(err) != "ticket_not_ready" {
		t.Fatalf("another registration: %v", err)
	}
	if _, err := a.PrintTicket(id, ticketLabels); code(err) != "printer_not_configured" {
		t.Fatalf("no printer: %v", err)
	}

	srv := cupstest.Start(t)
	a.opts.Printer = printer.NewCUPS(srv.Config())
	st, err := a.PrintTicket(id, ticketLabels)
	if err != nil || st.State != "printed" {
		t.Fatalf("print: %+v %v", st, err)
	}
	// What the printer got went through PostScript (cups-pdf): the text set
	// in a standard font reads back as it was sent, and the photo is on the
	// page where the ticket puts it (the CJK text is checked on the PDF
	// itself in app/ticket: its extraction does not survive PostScript).
	printed := srv.Printed(t, 1, 20*time.Second)
	text := cupstest.Text(t, printed)
	for _, want := range []string{"110***********002X", "2026010010007", "2026-12-12 09:00 - 11:30"} {
		if !strings.Contains(text, want) {
			t.Errorf("the printed ticket does not say %q:\n%s", want, text)
		}
	}
	page := cupstest.Page(t, printed, 40)
	b := page.Bounds()
	r, g, bl, _ := page.At(b.Min.X+int(167.0/210*float64(b.Dx())), b.Min.Y+int(55.0/297*float64(b.Dy()))).RGBA()
	if bl>>8 < 150 || r>>8 > 90 {
		t.Errorf("the printed page has no photo in the photo box: rgb %d %d %d", r>>8, g>>8, bl>>8)
	}
	if strings.Contains(text, "11010519491231002X") {
		t.Error("the printed ticket shows the whole ID number")
	}
	if n, last := rec.count(EventPrint); n != 2 || last.(PrintState).State != "printed" {
		t.Errorf("print events: %d, last %+v", n, last)
	}

	if out, err := srv.Command("cupsdisable", srv.Queue).CombinedOutput(); err != nil {
		t.Fatalf("cupsdisable: %v %s", err, out)
	}
	if _, err := a.PrintTicket(id, ticketLabels); code(err) != "printer_offline" {
		t.Fatalf("stopped printer: %v", err)
	}
	if _, last := rec.count(EventPrint); last.(PrintState).State != "failed" || last.(PrintState).Code != "printer_offline" {
		t.Errorf("failed print event: %+v", last)
	}
	l := ticketLabels
	l.Seat = ""
	if _, err := a.PrintTicket(id, l); code(err) != "ticket_labels" {
		t.Fatalf("labels missing: %v", err)
	}
}

// smoothPhoto is a 300×420 JPEG shading from the colour (r, g, b) to white:
// a photo a printer's re-encoding keeps recognisable.
func smoothPhoto(r, g, b uint8) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 300, 420))
	for y := range 420 {
		f := float64(y) / 420
		c := color.RGBA{uint8(float64(r) + f*float64(255-r)), uint8(float64(g) + f*float64(255-g)), uint8(float64(b) + f*float64(255-b)), 255}
		for x := range 300 {
			img.Set(x, y, c)
		}
	}
	var buf bytes.Buffer
	jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90})
	return buf.Bytes()
}
