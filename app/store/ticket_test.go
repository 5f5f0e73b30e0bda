package store

import (
	"bytes"
	"context"
	"testing"
	"time"

	"examkiosk/app/registration"
	"examkiosk/sync/wire"
)

// The admission ticket arrives as a paid update carrying it (after, or with,
// the payment): the kiosk keeps it once, as it came; a repeat changes nothing.
func TestApplyPullTicket(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	r, _ := s.Submit(ctx, newReg(t, 1, photo(t, 10<<10, 7)))
	tk := &wire.Ticket{Number: "2026010010001", Room: "第 1 考场", Seat: 7, SiteName: "第一中学", Photo: []byte{0xff, 0xd8, 1, 2}, VerifyURL: "http://c/tickets/verify/x.y"}
	pull := func(cursor string, ups ...wire.Update) registration.Registration {
		t.Helper()
		if err := s.ApplyPull(ctx, wire.Pull{Updates: ups, Cursor: cursor}); err != nil {
			t.Fatal(err)
		}
		g, err := s.Get(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	u := func(status string, tk *wire.Ticket) wire.Update {
		return wire.Update{RegistrationID: r.ID, Revision: 1, Status: status, Ticket: tk, At: t0}
	}
	if g := pull("1", u("under_review", nil), u("approved", nil), u("paid", nil)); g.Status != registration.StatusPaid || g.Ticket != nil {
		t.Fatalf("paid: %s, ticket %v", g.Status, g.Ticket)
	}
	g := pull("2", u("paid", tk))
	if g.Ticket == nil || g.Ticket.Seat != 7 || g.Ticket.Number != tk.Number || !bytes.Equal(g.Ticket.Photo, tk.Photo) {
		t.Fatalf("ticket not kept: %+v", g.Ticket)
	}
	other := *tk
	other.Seat = 9
	if g := pull("3", u("paid", &other)); g.Ticket.Seat != 7 {
		t.Fatalf("a second ticket replaced the first: seat %d", g.Ticket.Seat)
	}

	// The retention purge keeps the ticket's photo until the exam is over
	// (plus the retention days), then removes it; the ticket stays.
	ends := time.Date(2026, 12, 12, 11, 30, 0, 0, time.UTC)
	tk.EndsAt = ends
	r2, _ := s.Submit(ctx, newReg(t, 2, photo(t, 10<<10, 8)))
	if err := s.ApplyPull(ctx, wire.Pull{Cursor: "4", Updates: []wire.Update{
		{RegistrationID: r2.ID, Revision: 1, Status: "under_review", At: t0}, {RegistrationID: r2.ID, Revision: 1, Status: "approved", At: t0},
		{RegistrationID: r2.ID, Revision: 1, Status: "paid", Ticket: tk, At: t0}}}); err != nil {
		t.Fatal(err)
	}
	days := time.Duration(s.cfg.RetentionDays) * 24 * time.Hour
	for _, c := range []struct {
		at        time.Time
		wantPhoto bool
	}{{ends.Add(days - time.Hour), true}, {ends.Add(days + time.Hour), false}} {
		if _, err := s.Purge(ctx, c.at); err != nil {
			t.Fatal(err)
		}
		g, _ := s.Get(ctx, r2.ID)
		if g.Ticket == nil || (len(g.Ticket.Photo) > 0) != c.wantPhoto {
			t.Fatalf("purge at %s: ticket %v, photo kept %v, want %v", c.at, g.Ticket != nil, g.Ticket != nil && len(g.Ticket.Photo) > 0, c.wantPhoto)
		}
	}
}
