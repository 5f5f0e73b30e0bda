package central

import (
	"bytes"
	"cmp"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"examkiosk/internal/tomlconf"
	"examkiosk/sync/central/store"
	"examkiosk/sync/wire"
)

// Admission tickets (准考证): once an exam's ticket window opens, every paid
// registration of the exam gets a seat: the central fills the sites and
// rooms of the exam's plan (central.tickets_file) in plan order, seat by
// seat, taking the candidates in registration id order (time-ordered ids:
// the order they first submitted). A seat, once given, is the candidate's
// for good: assignment only ever adds tickets, so running it again changes
// nothing, and the seat index refuses a second candidate in any seat. The
// whole round is one store transaction, which the store serialises across
// nodes: two centrals on one PostgreSQL database cannot both give a seat.

var (
	// bAdmission holds each registration's ticket (ticketRecord), by
	// registration id.
	bAdmission = []byte("admission_tickets")
	// bSeats maps exam, site, room and seat to the registration sitting
	// there: one candidate per seat.
	bSeats = []byte("admission_seats")
	// bTicketDue holds the ids of paid registrations without a ticket yet.
	bTicketDue = []byte("admission_due")
	// kTicketBackfill marks that registrations paid before tickets existed
	// were queued.
	kTicketBackfill = []byte("admission_backfill_v1")
)

// ticketSigV1 is the first line of the message the central signs for a
// ticket's verification link.
const ticketSigV1 = "examkiosk-ticket-v1"

// TicketPlan is where and when each exam sits, read from
// central.tickets_file (TOML, one [[exam]] per exam).
type TicketPlan struct {
	Exams []ExamSitting `toml:"exam"`
}

// ExamSitting is one exam's sitting: when tickets may be printed, when the
// exam takes place and its sites.
type ExamSitting struct {
	// ExamID is the catalog's exam id.
	ExamID string `toml:"id"`
	// TicketsFrom opens the ticket window: from then on paid candidates get
	// seats and may print their tickets.
	TicketsFrom time.Time `toml:"tickets_from"`
	// StartsAt and EndsAt are when the exam sits (printed on the ticket).
	StartsAt time.Time `toml:"starts_at"`
	EndsAt   time.Time `toml:"ends_at"`
	// NumberPrefix starts every ticket number of the exam (digits, e.g. the
	// year); the rest is site, room and seat: 2, 3 and 3 digits.
	NumberPrefix string `toml:"number_prefix"`
	// Sites are filled in this order.
	Sites []ExamSite `toml:"site"`
}

// ExamSite is an exam site (考点) with its rooms, filled in order.
type ExamSite struct {
	ID      string     `toml:"id"`
	Name    string     `toml:"name"`
	Address string     `toml:"address"`
	Rooms   []ExamRoom `toml:"room"`
}

// ExamRoom is an exam room (考场) with its number of seats.
type ExamRoom struct {
	ID       string `toml:"id"`
	Name     string `toml:"name"` // printed on the ticket; the id when empty
	Capacity int    `toml:"capacity"`
}

func (r ExamRoom) label() string {
	if r.Name != "" {
		return r.Name
	}
	return r.ID
}

// Seats returns how many candidates the sitting can seat.
func (e ExamSitting) Seats() int {
	n := 0
	for _, s := range e.Sites {
		for _, r := range s.Rooms {
			n += r.Capacity
		}
	}
	return n
}

// LoadTicketPlan reads and checks a ticket plan file. Every problem is
// reported at once, each as a *tomlconf.Error naming the file, the key
// (exam[0].site[1].room[2].capacity) and its line.
func LoadTicketPlan(path string) (TicketPlan, error) {
	var p TicketPlan
	data, err := os.ReadFile(path)
	if err != nil {
		return p, &tomlconf.Error{File: path, Key: "central.tickets_file", Msg: fmt.Sprintf("cannot read it: %v", err)}
	}
	md, err := tomlconf.Decode(path, data, &p)
	if err != nil {
		return TicketPlan{}, err
	}
	var errs []error
	for _, k := range md.Undecoded() {
		errs = append(errs, &tomlconf.Error{Key: k.String(), Msg: "unknown key; the plan knows exam (id, tickets_from, starts_at, ends_at, number_prefix), exam.site (id, name, address) and exam.site.room (id, name, capacity)"})
	}
	errs = append(errs, p.check(data))
	err = errors.Join(errs...)
	tomlconf.SetFile(err, path)
	return p, err
}

// Validate checks a plan made in code (no file to point into).
func (p TicketPlan) Validate() error { return p.check(nil) }

// check reports every bad value; data (the file, when there is one) gives
// each its line.
func (p TicketPlan) check(data []byte) error {
	var errs []error
	bad := func(msg string, path ...tomlconf.Seg) {
		errs = append(errs, &tomlconf.Error{Key: tomlconf.KeyPath(path...), Line: tomlconf.Line(data, path...), Msg: msg})
	}
	seg := func(name string, i int) tomlconf.Seg { return tomlconf.Seg{Name: name, Index: i} }
	key := func(name string) tomlconf.Seg { return tomlconf.Seg{Name: name, Index: -1} }
	exams := map[string]bool{}
	for i, e := range p.Exams {
		ex := seg("exam", i)
		switch {
		case !plainID(e.ExamID):
			bad("expected the catalog's exam id (letters, digits, - and _)", ex, key("id"))
		case exams[e.ExamID]:
			bad(fmt.Sprintf("exam %q has a second [[exam]] table", e.ExamID), ex, key("id"))
		}
		exams[e.ExamID] = true
		for _, t := range []struct {
			k string
			v time.Time
		}{{"tickets_from", e.TicketsFrom}, {"starts_at", e.StartsAt}, {"ends_at", e.EndsAt}} {
			if t.v.IsZero() {
				bad("expected a date and time with its offset, e.g. 2026-12-12T09:00:00+08:00", ex, key(t.k))
			}
		}
		if !e.StartsAt.IsZero() && !e.EndsAt.After(e.StartsAt) {
			bad("the exam must end after it starts (starts_at)", ex, key("ends_at"))
		}
		if !e.TicketsFrom.IsZero() && !e.StartsAt.IsZero() && !e.TicketsFrom.Before(e.StartsAt) {
			bad("tickets must open before the exam starts (starts_at)", ex, key("tickets_from"))
		}
		if strings.Trim(e.NumberPrefix, "0123456789") != "" || len(e.NumberPrefix) > 10 {
			bad(fmt.Sprintf("expected up to 10 digits, got %q", e.NumberPrefix), ex, key("number_prefix"))
		}
		if len(e.Sites) == 0 || len(e.Sites) > 99 {
			bad(fmt.Sprintf("expected 1 to 99 [[exam.site]] tables, got %d", len(e.Sites)), ex)
		}
		sites := map[string]bool{}
		for j, s := range e.Sites {
			st := seg("site", j)
			if !plainID(s.ID) || sites[s.ID] {
				bad(fmt.Sprintf("expected an id of letters, digits, - and _, unique within the exam; got %q", s.ID), ex, st, key("id"))
			}
			sites[s.ID] = true
			if strings.TrimSpace(s.Name) == "" {
				bad("required: the site's name as printed on the ticket", ex, st, key("name"))
			}
			if len(s.Rooms) == 0 || len(s.Rooms) > 999 {
				bad(fmt.Sprintf("expected 1 to 999 [[exam.site.room]] tables, got %d", len(s.Rooms)), ex, st)
			}
			rooms := map[string]bool{}
			for k, r := range s.Rooms {
				rm := seg("room", k)
				if !plainID(r.ID) || rooms[r.ID] {
					bad(fmt.Sprintf("expected an id of letters, digits, - and _, unique within the site; got %q", r.ID), ex, st, rm, key("id"))
				}
				rooms[r.ID] = true
				if r.Capacity < 1 || r.Capacity > 999 {
					bad(fmt.Sprintf("expected 1 to 999 seats, got %d", r.Capacity), ex, st, rm, key("capacity"))
				}
			}
		}
	}
	return errors.Join(errs...)
}

func plainID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if r > unicode.MaxASCII || !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// DemoTicketPlan is the demo exam's sitting: tickets open now, the exam
// sits 40 days from today in two rooms of 30 at the demo centre.
func DemoTicketPlan(now time.Time) TicketPlan {
	day := now.Truncate(24 * time.Hour)
	starts := day.AddDate(0, 0, 40).Add(9 * time.Hour)
	return TicketPlan{Exams: []ExamSitting{{
		ExamID: DemoExamID, TicketsFrom: day.AddDate(0, 0, -1), StartsAt: starts, EndsAt: starts.Add(150 * time.Minute),
		NumberPrefix: strconv.Itoa(now.Year()),
		Sites: []ExamSite{{ID: "S01", Name: DemoCentreName, Address: "示范路 1 号（演示）",
			Rooms: []ExamRoom{{ID: "101", Name: "第 101 考场", Capacity: 30}, {ID: "102", Name: "第 102 考场", Capacity: 30}}}},
	}}}
}

// WithTicketPlan sets the ticket plan instead of central.tickets_file.
func WithTicketPlan(p TicketPlan) Option { return func(s *Server) { s.plan = &p } }

// loadTicketPlan reads central.tickets_file unless an option set the plan;
// the demo gets DemoTicketPlan when neither names one.
func (s *Server) loadTicketPlan() error {
	switch {
	case s.plan != nil:
		return s.plan.Validate()
	case s.cfg.TicketsFile != "":
		p, err := LoadTicketPlan(s.cfg.TicketsFile)
		if err != nil {
			return err
		}
		s.plan = &p
	case s.cfg.Demo:
		p := DemoTicketPlan(s.now())
		s.plan = &p
	}
	return nil
}

// ticketRecord is a registration's ticket as the central keeps it (no
// personal data: the registration id and where it sits).
type ticketRecord struct {
	RegID    string    `json:"registration_id"`
	Revision int       `json:"revision"`
	ExamID   string    `json:"exam_id"`
	SiteID   string    `json:"site_id"`
	RoomID   string    `json:"room_id"`
	Seat     int       `json:"seat"`
	Number   string    `json:"number"`
	IssuedAt time.Time `json:"issued_at"`
}

func seatKey(examID, siteID, roomID string, seat int) []byte {
	return fmt.Appendf(nil, "%s\x00%s\x00%s\x00%04d", examID, siteID, roomID, seat)
}

// queueTicket records that a registration was paid and waits for a seat.
func queueTicket(tx store.Tx, regID string) error {
	return tx.Bucket(bTicketDue).Put([]byte(regID), []byte{})
}

// AssignTickets gives a seat to every paid registration of every exam whose
// ticket window is open, and queues each new ticket for the kiosk that
// delivered the registration. It returns how many tickets it issued. A
// candidate without a seat (every room full) stays queued and is logged.
func (s *Server) AssignTickets() (int, error) {
	if s.plan == nil || len(s.plan.Exams) == 0 {
		return 0, nil
	}
	now := s.now()
	issued, unseated := 0, map[string]int{}
	err := s.db.Update(func(tx store.Tx) error {
		issued, unseated = 0, map[string]int{}
		if err := s.backfillTicketQueue(tx); err != nil {
			return err
		}
		var due []string // registration id order: ForEach is ordered by key
		if err := tx.Bucket(bTicketDue).ForEach(func(k, _ []byte) error {
			due = append(due, string(k))
			return nil
		}); err != nil {
			return err
		}
		if len(due) == 0 {
			return nil
		}
		cat, err := loadCatalog(tx)
		if err != nil {
			return err
		}
		free := map[string]*seatCursor{} // by exam, made at its first candidate
		for _, id := range due {
			rec, err := s.loadReg(tx, id)
			if errors.Is(err, errNotFound) || (err == nil && rec.Status != StatusPaid) {
				s.log.Warn("admission ticket: registration no longer paid or gone", "registration", id)
				if err := tx.Bucket(bTicketDue).Delete([]byte(id)); err != nil {
					return err
				}
				continue
			}
			if err != nil {
				return fmt.Errorf("ticket for %s: %w", id, err)
			}
			sit := s.sitting(rec.ExamID)
			if sit == nil || now.Before(sit.TicketsFrom) {
				continue // no plan yet, or the window is not open
			}
			if tx.Bucket(bAdmission).Get([]byte(id)) != nil {
				if err := tx.Bucket(bTicketDue).Delete([]byte(id)); err != nil {
					return err
				}
				continue
			}
			c := free[rec.ExamID]
			if c == nil {
				taken, err := seatsTaken(tx, rec.ExamID)
				if err != nil {
					return err
				}
				c = &seatCursor{seats: seatsOf(*sit), taken: taken}
				free[rec.ExamID] = c
			}
			t, ok := c.next()
			if !ok {
				unseated[rec.ExamID]++
				continue
			}
			t.RegID, t.Revision, t.IssuedAt = rec.ID, rec.Revision, now
			if err := s.issueTicket(tx, cat, *sit, rec, t); err != nil {
				return fmt.Errorf("ticket for %s: %w", id, err)
			}
			issued++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("assign admission tickets: %w", err)
	}
	for examID, n := range unseated {
		s.log.Error("paid candidates without a seat: add rooms to the exam in central.tickets_file", "exam", examID, "candidates", n)
	}
	if issued > 0 {
		s.log.Info("admission tickets issued", "count", issued)
	}
	return issued, nil
}

// backfillTicketQueue queues, once, the registrations paid before the
// central issued tickets.
func (s *Server) backfillTicketQueue(tx store.Tx) error {
	meta := tx.Bucket(bMeta)
	if meta.Get(kTicketBackfill) != nil {
		return nil
	}
	var paid []string
	if err := s.eachReg(tx, func(rec regRecord) error {
		if rec.Status == StatusPaid && tx.Bucket(bAdmission).Get([]byte(rec.ID)) == nil {
			paid = append(paid, rec.ID)
		}
		return nil
	}); err != nil {
		return err
	}
	for _, id := range paid {
		if err := queueTicket(tx, id); err != nil {
			return err
		}
	}
	return meta.Put(kTicketBackfill, []byte{1})
}

func (s *Server) sitting(examID string) *ExamSitting {
	if s.plan == nil {
		return nil
	}
	for i := range s.plan.Exams {
		if s.plan.Exams[i].ExamID == examID {
			return &s.plan.Exams[i]
		}
	}
	return nil
}

// seatsTaken returns the exam's seat keys in use.
func seatsTaken(tx store.Tx, examID string) (map[string]bool, error) {
	prefix := []byte(examID + "\x00")
	taken := map[string]bool{}
	err := tx.Bucket(bSeats).Scan(prefix, false, func(k, _ []byte) error {
		if !bytes.HasPrefix(k, prefix) {
			return store.ErrStop
		}
		taken[string(k)] = true
		return nil
	})
	return taken, err
}

// seatsOf lists the sitting's seats in plan order: sites, their rooms, seat
// 1, 2, … of each.
func seatsOf(sit ExamSitting) []ticketRecord {
	var out []ticketRecord
	for i, site := range sit.Sites {
		for j, room := range site.Rooms {
			for seat := 1; seat <= room.Capacity; seat++ {
				out = append(out, ticketRecord{ExamID: sit.ExamID, SiteID: site.ID, RoomID: room.ID, Seat: seat,
					Number: fmt.Sprintf("%s%02d%03d%03d", sit.NumberPrefix, i+1, j+1, seat)})
			}
		}
	}
	return out
}

// seatCursor hands out the free seats of one exam in plan order, once
// each: one pass over the seats per assignment round.
type seatCursor struct {
	seats []ticketRecord
	taken map[string]bool // seat keys in use
	pos   int
}

func (c *seatCursor) next() (ticketRecord, bool) {
	for ; c.pos < len(c.seats); c.pos++ {
		t := c.seats[c.pos]
		if k := string(seatKey(t.ExamID, t.SiteID, t.RoomID, t.Seat)); !c.taken[k] {
			c.taken[k] = true
			c.pos++
			return t, true
		}
	}
	return ticketRecord{}, false
}

// issueTicket stores a ticket, takes its seat (refusing a seat already
// taken) and queues the ticket for the registration's kiosk.
func (s *Server) issueTicket(tx store.Tx, cat *wire.Catalog, sit ExamSitting, rec regRecord, t ticketRecord) error {
	sk := seatKey(t.ExamID, t.SiteID, t.RoomID, t.Seat)
	if other := tx.Bucket(bSeats).Get(sk); other != nil {
		return fmt.Errorf("seat %s/%s/%d is already %s's", t.SiteID, t.RoomID, t.Seat, other)
	}
	if err := tx.Bucket(bSeats).Put(sk, []byte(t.RegID)); err != nil {
		return err
	}
	if err := putJSON(tx.Bucket(bAdmission), t.RegID, t); err != nil {
		return err
	}
	if err := tx.Bucket(bTicketDue).Delete([]byte(t.RegID)); err != nil {
		return err
	}
	wt, err := s.wireTicket(cat, sit, t)
	if err != nil {
		return err
	}
	if err := s.audit(tx, auditEntry{Actor: "central", Action: "ticket", Target: t.RegID,
		Detail: fmt.Sprintf("%s %s %s seat %d", t.Number, t.SiteID, t.RoomID, t.Seat)}); err != nil {
		return err
	}
	return appendUpdate(tx, rec.DeviceID, wire.Update{RegistrationID: rec.ID, Revision: rec.Revision,
		Status: StatusPaid, Ticket: &wt, At: t.IssuedAt})
}

// wireTicket is a ticket as the kiosk prints it (without the photo, which
// the pull adds from the sealed revision).
func (s *Server) wireTicket(cat *wire.Catalog, sit ExamSitting, t ticketRecord) (wire.Ticket, error) {
	wt := wire.Ticket{Number: t.Number, ExamID: t.ExamID, ExamName: t.ExamID, Seat: t.Seat,
		StartsAt: sit.StartsAt, EndsAt: sit.EndsAt, IssuedAt: t.IssuedAt}
	for _, site := range sit.Sites {
		if site.ID != t.SiteID {
			continue
		}
		wt.SiteName, wt.SiteAddress = site.Name, site.Address
		for _, r := range site.Rooms {
			if r.ID == t.RoomID {
				wt.Room = r.label()
			}
		}
	}
	if wt.SiteName == "" || wt.Room == "" {
		return wt, fmt.Errorf("site %s room %s are not in the plan of exam %s", t.SiteID, t.RoomID, t.ExamID)
	}
	for _, e := range cat.Exams {
		if e.ID == t.ExamID {
			wt.ExamName = e.Name
		}
	}
	wt.VerifyURL = strings.TrimRight(s.cfg.PublicURL, "/") + "/tickets/verify/" + s.ticketToken(t)
	return wt, nil
}

func ticketMessage(t ticketRecord) []byte {
	return fmt.Appendf(nil, "%s\n%s\n%s\n%s\n%s\n%s\n%d", ticketSigV1, t.RegID, t.Number, t.ExamID, t.SiteID, t.RoomID, t.Seat)
}

// ticketToken is the registration id and the central's Ed25519 signature
// (answer key) of the ticket: anyone holding the central's public key can
// check a printed ticket; the verify page also checks it is still the
// ticket on record.
func (s *Server) ticketToken(t ticketRecord) string {
	sig := ed25519.Sign(s.keys.answer, ticketMessage(t))
	return t.RegID + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// fillTicketPhoto adds the ID photo of the registration's revision to a
// ticket update being pulled.
func (s *Server) fillTicketPhoto(tx store.Tx, u *wire.Update) error {
	if u.Ticket == nil {
		return nil
	}
	_, doc, err := s.loadRevision(tx, u.RegistrationID, u.Revision)
	if err != nil {
		return fmt.Errorf("photo of ticket %s: %w", u.Ticket.Number, err)
	}
	var reg wire.Registration
	if err := json.Unmarshal(doc, &reg); err != nil {
		return fmt.Errorf("photo of ticket %s: %w", u.Ticket.Number, err)
	}
	u.Ticket.Photo = reg.Photo
	return nil
}

// TicketCheck is what the verify page says about a ticket.
type TicketCheck struct {
	Valid    bool      `json:"valid"`
	Number   string    `json:"number,omitempty"`
	Name     string    `json:"name,omitempty"` // masked: the first character
	IDNumber string    `json:"id_number,omitempty"`
	Exam     string    `json:"exam,omitempty"`
	Site     string    `json:"site,omitempty"`
	Room     string    `json:"room,omitempty"`
	Seat     int       `json:"seat,omitempty"`
	StartsAt time.Time `json:"starts_at,omitzero"`
}

// errBadTicket is a verification token that is malformed, not signed by
// this central or not the ticket on record.
var errBadTicket = errors.New("admission ticket not valid")

// VerifyTicket checks a ticket's verification token: the central's
// signature, and that it is the ticket on record for the registration.
func (s *Server) VerifyTicket(token string) (TicketCheck, error) {
	regID, sigText, ok := strings.Cut(token, ".")
	sig, err := base64.RawURLEncoding.DecodeString(sigText)
	if !ok || err != nil || len(sig) != ed25519.SignatureSize || len(regID) > 64 {
		return TicketCheck{}, errBadTicket
	}
	var c TicketCheck
	err = s.db.View(func(tx store.Tx) error {
		var t ticketRecord
		if err := getJSON(tx.Bucket(bAdmission), regID, &t); err != nil {
			if errors.Is(err, errNotFound) {
				return errBadTicket
			}
			return err
		}
		if !ed25519.Verify(s.AnswerPublicKey(), ticketMessage(t), sig) {
			return errBadTicket
		}
		rec, err := s.loadReg(tx, regID)
		if err != nil {
			return err
		}
		cat, err := loadCatalog(tx)
		if err != nil {
			return err
		}
		c = TicketCheck{Valid: true, Number: t.Number, IDNumber: maskID(rec.IDNumber), Seat: t.Seat,
			Exam: t.ExamID, Site: t.SiteID, Room: t.RoomID}
		if r := []rune(rec.Name); len(r) > 0 {
			c.Name = string(r[0]) + strings.Repeat("*", len(r)-1)
		}
		if sit := s.sitting(t.ExamID); sit != nil {
			if wt, err := s.wireTicket(cat, *sit, t); err == nil {
				c.Exam, c.Site, c.Room, c.StartsAt = wt.ExamName, wt.SiteName, wt.Room, wt.StartsAt
			}
		}
		return nil
	})
	return c, err
}

var verifyPage = template.Must(template.New("verify").Parse(`<!doctype html>
<html lang="{{.W.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>{{.W.T "ticket.title"}}</title>
<style>body{font-family:sans-serif;max-width:28em;margin:2em auto;padding:0 1em}.ok{color:#070}.bad{color:#b00}th{text-align:left;padding-right:1em}.lang{float:right}</style></head><body>
{{.W.Switch}}
{{with .C}}{{if .Valid}}<h1 class="ok">{{$.W.T "ticket.valid"}}</h1>
<table><tr><th>{{$.W.T "ticket.number"}}</th><td>{{.Number}}</td></tr><tr><th>{{$.W.T "ticket.name"}}</th><td>{{.Name}}</td></tr>
<tr><th>{{$.W.T "ticket.idNumber"}}</th><td>{{.IDNumber}}</td></tr><tr><th>{{$.W.T "ticket.exam"}}</th><td>{{.Exam}}</td></tr>
<tr><th>{{$.W.T "ticket.site"}}</th><td>{{.Site}}</td></tr><tr><th>{{$.W.T "ticket.room"}}</th><td>{{.Room}}</td></tr><tr><th>{{$.W.T "ticket.seat"}}</th><td>{{.Seat}}</td></tr>
{{if not .StartsAt.IsZero}}<tr><th>{{$.W.T "ticket.time"}}</th><td>{{$.W.Time .StartsAt}}</td></tr>{{end}}</table>
<p>{{$.W.T "ticket.check"}}</p>
{{else}}<h1 class="bad">{{$.W.T "ticket.invalid"}}</h1><p>{{$.W.T "ticket.invalidText"}}</p>{{end}}{{end}}
</body></html>`))

// handleVerifyTicket answers GET /tickets/verify/{token}: an HTML page for
// a phone that scanned the ticket's QR code, JSON for a client that asks
// for it (Accept: application/json).
func (s *Server) handleVerifyTicket(w http.ResponseWriter, r *http.Request) {
	c, err := s.VerifyTicket(r.PathValue("token"))
	status := http.StatusOK
	switch {
	case errors.Is(err, errBadTicket):
		status = http.StatusNotFound
	case err != nil:
		s.log.Error("verify ticket", "err", err)
		http.Error(w, "verification failed, try again", http.StatusInternalServerError)
		return
	}
	if strings.Contains(r.Header.Get("Accept"), "application/json") {
		writeJSON(w, status, c)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	verifyPage.Execute(w, map[string]any{"W": pageWords(w, r), "C": c})
}

// SeatEntry is one issued ticket in an exam's seat list.
type SeatEntry struct {
	Number         string    `json:"number"`
	RegistrationID string    `json:"registration_id"`
	Site           string    `json:"site_id"`
	Room           string    `json:"room_id"`
	Seat           int       `json:"seat"`
	IssuedAt       time.Time `json:"issued_at"`
}

// SeatList returns the tickets issued for an exam in seat order (site,
// room, seat): the door lists of the exam's rooms.
func (s *Server) SeatList(examID string) ([]SeatEntry, error) {
	out := []SeatEntry{}
	prefix := []byte(examID + "\x00")
	err := s.db.View(func(tx store.Tx) error {
		return tx.Bucket(bSeats).Scan(prefix, false, func(k, v []byte) error {
			if !bytes.HasPrefix(k, prefix) {
				return store.ErrStop
			}
			var t ticketRecord
			if err := getJSON(tx.Bucket(bAdmission), string(v), &t); err != nil {
				return fmt.Errorf("ticket of seat %q: %w", k, err)
			}
			out = append(out, SeatEntry{Number: t.Number, RegistrationID: t.RegID, Site: t.SiteID, Room: t.RoomID, Seat: t.Seat, IssuedAt: t.IssuedAt})
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("seat list of %s: %w", examID, err)
	}
	// Seat keys sort seats as text (0010 after 0009): order them as numbers.
	slices.SortStableFunc(out, func(a, b SeatEntry) int {
		return cmp.Or(strings.Compare(a.Site, b.Site), strings.Compare(a.Room, b.Room), cmp.Compare(a.Seat, b.Seat))
	})
	return out, nil
}

// handleSeatList answers GET /admin/exams/{exam}/seats (reviewers).
func (s *Server) handleSeatList(w http.ResponseWriter, r *http.Request) {
	list, err := s.SeatList(r.PathValue("exam"))
	if err != nil {
		writeError(w, http.StatusInternalServerError, wire.ErrCodeInternal, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, list)
}
