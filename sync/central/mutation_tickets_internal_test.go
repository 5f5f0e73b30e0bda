package central

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"examkiosk/sync/central/store"
)

// ticketServer opens a central whose plan seats 3 for exam "e1", tickets
// open an hour ago, and stores registrations with the given statuses
// (ids in that order) without queueing them.
func ticketServer(t *testing.T, statuses ...string) (*Server, []string) {
	t.Helper()
	starts := time.Now().Add(30 * 24 * time.Hour)
	plan := TicketPlan{Exams: []ExamSitting{{ExamID: "e1", TicketsFrom: time.Now().Add(-time.Hour), StartsAt: starts, EndsAt: starts.Add(time.Hour),
		Sites: []ExamSite{{ID: "S", Name: "一中", Rooms: []ExamRoom{{ID: "R", Capacity: 3}}}}}}}
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	s, err := Open(cfg, WithTicketPlan(plan), WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	var ids []string
	err = s.db.Update(func(tx store.Tx) error {
		for i, st := range statuses {
			id := "0193b2c4-7e1f-7000-8000-0000000003" + string(rune('a'+i)) + "0"
			ids = append(ids, id)
			rec := regRecord{Registration: Registration{ID: id, Revision: 1, ExamID: "e1", DeviceID: "kiosk-1", IDNumber: "11010519491231002X", Status: st}}
			if err := s.storeReg(tx, rec); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return s, ids
}

func (s *Server) ticketOf(t *testing.T, id string) (ticketRecord, bool) {
	t.Helper()
	var tk ticketRecord
	err := s.db.View(func(tx store.Tx) error { return getJSON(tx.Bucket(bAdmission), id, &tk) })
	return tk, err == nil
}

func (s *Server) ticketsDue(t *testing.T) int {
	t.Helper()
	n := 0
	s.db.View(func(tx store.Tx) (err error) { n, err = tx.Bucket(bTicketDue).Count(); return err })
	return n
}

// TestIssueTicketRefusesATakenSeat: the seat index gives a seat to one
// candidate only: issuing a ticket for a seat another registration holds
// is refused, naming the holder, and the round writes nothing.
func TestIssueTicketRefusesATakenSeat(t *testing.T) {
	s, ids := ticketServer(t, StatusPaid, StatusPaid)
	sit := *s.sitting("e1")
	seat := seatsOf(sit)[0]
	err := s.db.Update(func(tx store.Tx) error {
		cat, err := loadCatalog(tx)
		if err != nil {
			return err
		}
		for _, id := range ids {
			rec, err := s.loadReg(tx, id)
			if err != nil {
				return err
			}
			tk := seat
			tk.RegID, tk.Revision, tk.IssuedAt = id, 1, time.Now()
			if err := s.issueTicket(tx, cat, sit, rec, tk); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "already") || !strings.Contains(err.Error(), ids[0]) {
		t.Fatalf("a second ticket for seat 1: %v, want a refusal naming %s", err, ids[0])
	}
	for _, id := range ids {
		if _, ok := s.ticketOf(t, id); ok {
			t.Errorf("%s has a ticket after the refused round", id)
		}
	}
}

// TestTicketQueue: a round seats the paid registrations of an open window
// and drops from the queue what no longer needs a seat (a registration
// gone, or no longer paid, or already seated: no second ticket), and keeps
// a registration whose exam has no sitting yet. The registrations paid
// before the central issued tickets are queued once, at the first round.
func TestTicketQueue(t *testing.T) {
	s, ids := ticketServer(t, StatusPaid, StatusApproved, StatusPaid, StatusPaid)
	// The first round queues the paid registrations stored before tickets
	// existed (0, 2, 3) and seats them in id order.
	if n, err := s.AssignTickets(); err != nil || n != 3 {
		t.Fatalf("first round: %d tickets (%v), want 3 (the paid ones stored before tickets)", n, err)
	}
	for i, id := range []string{ids[0], ids[2], ids[3]} {
		if tk, ok := s.ticketOf(t, id); !ok || tk.Seat != i+1 {
			t.Errorf("%s: ticket %+v (%v), want seat %d", id, tk, ok, i+1)
		}
	}
	if _, ok := s.ticketOf(t, ids[1]); ok {
		t.Errorf("an unpaid registration was seated")
	}
	// Queued: a registration that is gone, one no longer paid, one already
	// seated, and one of an exam without a sitting.
	err := s.db.Update(func(tx store.Tx) error {
		other := regRecord{Registration: Registration{ID: "0193b2c4-7e1f-7000-8000-0000000003f0", Revision: 1, ExamID: "e2", DeviceID: "kiosk-1", Status: StatusPaid}}
		if err := s.storeReg(tx, other); err != nil {
			return err
		}
		for _, id := range []string{"0193b2c4-7e1f-7000-8000-0000000003e0", ids[1], ids[0], other.ID} {
			if err := queueTicket(tx, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := s.AssignTickets(); err != nil || n != 0 {
		t.Fatalf("second round: %d tickets (%v), want 0", n, err)
	}
	if tk, _ := s.ticketOf(t, ids[0]); tk.Seat != 1 {
		t.Errorf("a seated registration queued again moved to seat %d", tk.Seat)
	}
	if n := s.ticketsDue(t); n != 1 {
		t.Errorf("%d registrations still queued, want 1 (the exam without a sitting)", n)
	}
	// A paid registration stored without its queue entry after the first
	// round is not found by a later one: the back-fill ran once.
	err = s.db.Update(func(tx store.Tx) error {
		late := regRecord{Registration: Registration{ID: "0193b2c4-7e1f-7000-8000-0000000003d0", Revision: 1, ExamID: "e1", DeviceID: "kiosk-1", Status: StatusPaid}}
		return s.storeReg(tx, late)
	})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := s.AssignTickets(); err != nil || n != 0 {
		t.Fatalf("after the back-fill: %d tickets (%v), want 0 (the registrations are not scanned again)", n, err)
	}
}

// TestNoPlanNoTickets: a central without a ticket plan (no tickets_file,
// not the demo) issues no tickets and keeps its paid candidates queued for
// when a plan comes.
func TestNoPlanNoTickets(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	s := quietOpen(t, cfg)
	defer s.Close()
	err := s.db.Update(func(tx store.Tx) error {
		rec := regRecord{Registration: Registration{ID: "0193b2c4-7e1f-7000-8000-0000000009a0", Revision: 1, ExamID: "e1", DeviceID: "kiosk-1", Status: StatusPaid}}
		if err := s.storeReg(tx, rec); err != nil {
			return err
		}
		return queueTicket(tx, rec.ID)
	})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := s.AssignTickets(); err != nil || n != 0 || s.ticketsDue(t) != 1 {
		t.Fatalf("without a plan: %d tickets (%v), %d queued, want none and 1 queued", n, err, s.ticketsDue(t))
	}
}
