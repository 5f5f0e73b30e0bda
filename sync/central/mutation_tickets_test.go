package central_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"examkiosk/sync/central"
	"examkiosk/sync/testbed"
)

// TestTicketPlanChecks: every rule of a ticket plan at its limits. A plan
// at the edge (one seat, 999 seats and rooms, 99 sites, a 10-digit number
// prefix, a 64-character id) is accepted; one step past, or a plan that
// could seat a candidate wrongly (two tables for one exam, a repeated site
// or room, no date, an exam ending as it starts, tickets opening with the
// exam), is refused with its key named.
func TestTicketPlanChecks(t *testing.T) {
	type edit = func(p *central.TicketPlan)
	e := func(p *central.TicketPlan) *central.ExamSitting { return &p.Exams[0] }
	site := func(p *central.TicketPlan) *central.ExamSite { return &p.Exams[0].Sites[0] }
	room := func(p *central.TicketPlan) *central.ExamRoom { return &p.Exams[0].Sites[0].Rooms[0] }
	rooms := func(n int) []central.ExamRoom {
		var out []central.ExamRoom
		for i := range n {
			out = append(out, central.ExamRoom{ID: fmt.Sprint("r", i), Capacity: 1})
		}
		return out
	}
	sites := func(n int) []central.ExamSite {
		var out []central.ExamSite
		for i := range n {
			out = append(out, central.ExamSite{ID: fmt.Sprint("s", i), Name: "考点", Rooms: rooms(1)})
		}
		return out
	}
	for _, tc := range []struct {
		name string
		ok   []edit
		key  string
		bad  []edit
	}{
		{"exam id", []edit{
			func(p *central.TicketPlan) { e(p).ExamID = "a-B_9" },
			func(p *central.TicketPlan) { e(p).ExamID = strings.Repeat("x", 64) },
		}, "exam[0].id", []edit{
			func(p *central.TicketPlan) { e(p).ExamID = "" },
			func(p *central.TicketPlan) { e(p).ExamID = strings.Repeat("x", 65) },
			func(p *central.TicketPlan) { e(p).ExamID = "a b" },
			func(p *central.TicketPlan) { e(p).ExamID = "考试" },
			func(p *central.TicketPlan) { e(p).ExamID = "a/b" },
		}},
		{"second table for an exam", nil, "exam[1].id", []edit{
			func(p *central.TicketPlan) { p.Exams = append(p.Exams, p.Exams[0]) },
		}},
		{"tickets_from", nil, "exam[0].tickets_from", []edit{
			func(p *central.TicketPlan) { e(p).TicketsFrom = time.Time{} },
			func(p *central.TicketPlan) { e(p).TicketsFrom = e(p).StartsAt },
		}},
		{"starts_at", nil, "exam[0].starts_at", []edit{
			func(p *central.TicketPlan) { e(p).StartsAt = time.Time{} },
		}},
		{"ends_at", []edit{
			func(p *central.TicketPlan) { e(p).EndsAt = e(p).StartsAt.Add(time.Nanosecond) },
		}, "exam[0].ends_at", []edit{
			func(p *central.TicketPlan) { e(p).EndsAt = time.Time{} },
			func(p *central.TicketPlan) { e(p).EndsAt = e(p).StartsAt },
		}},
		{"number_prefix", []edit{
			func(p *central.TicketPlan) { e(p).NumberPrefix = "" },
			func(p *central.TicketPlan) { e(p).NumberPrefix = "0123456789" },
		}, "exam[0].number_prefix", []edit{
			func(p *central.TicketPlan) { e(p).NumberPrefix = "01234567890" },
			func(p *central.TicketPlan) { e(p).NumberPrefix = "26A" },
		}},
		{"sites", []edit{
			func(p *central.TicketPlan) { e(p).Sites = sites(99) },
		}, "exam[0]: expected 1 to 99", []edit{
			func(p *central.TicketPlan) { e(p).Sites = nil },
			func(p *central.TicketPlan) { e(p).Sites = sites(100) },
		}},
		{"site id", nil, "exam[0].site[2].id", []edit{
			func(p *central.TicketPlan) { e(p).Sites = append(e(p).Sites, e(p).Sites[0]) },
			func(p *central.TicketPlan) {
				e(p).Sites = append(e(p).Sites, central.ExamSite{ID: "s 2", Name: "x", Rooms: rooms(1)})
			},
		}},
		{"site name", nil, "exam[0].site[0].name", []edit{
			func(p *central.TicketPlan) { site(p).Name = " \t" },
		}},
		{"rooms", []edit{
			func(p *central.TicketPlan) { site(p).Rooms = rooms(999) },
		}, "exam[0].site[0]: expected 1 to 999", []edit{
			func(p *central.TicketPlan) { site(p).Rooms = nil },
			func(p *central.TicketPlan) { site(p).Rooms = rooms(1000) },
		}},
		{"room id", nil, "exam[0].site[0].room[2].id", []edit{
			func(p *central.TicketPlan) { site(p).Rooms = append(site(p).Rooms, site(p).Rooms[0]) },
			func(p *central.TicketPlan) {
				site(p).Rooms = append(site(p).Rooms, central.ExamRoom{ID: "", Capacity: 1})
			},
		}},
		{"capacity", []edit{
			func(p *central.TicketPlan) { room(p).Capacity = 1 },
			func(p *central.TicketPlan) { room(p).Capacity = 999 },
		}, "exam[0].site[0].room[0].capacity", []edit{
			func(p *central.TicketPlan) { room(p).Capacity = 0 },
			func(p *central.TicketPlan) { room(p).Capacity = 1000 },
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i, f := range tc.ok {
				p := ticketPlan(time.Now())
				f(&p)
				if err := p.Validate(); err != nil {
					t.Errorf("at the limit %d: %v", i, err)
				}
			}
			for i, f := range tc.bad {
				p := ticketPlan(time.Now())
				f(&p)
				if err := p.Validate(); err == nil || !strings.Contains(err.Error(), tc.key) {
					t.Errorf("past the limit %d: %v, want an error naming %s", i, err, tc.key)
				}
			}
		})
	}
	if err := ticketPlan(time.Now()).Validate(); err != nil {
		t.Fatalf("the test plan: %v", err)
	}
}

// TestDemoTicketPlan: the demo's sitting (central serve --demo without a
// tickets file) lets its candidates print tickets at once: the window
// opened the day before, the exam sits 40 days on at 09:00 UTC for two and
// a half hours, in two rooms of 30, numbered with the year.
func TestDemoTicketPlan(t *testing.T) {
	now := time.Date(2026, 11, 27, 17, 40, 0, 0, time.UTC)
	p := central.DemoTicketPlan(now)
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	e := p.Exams[0]
	day := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	if e.ExamID != central.DemoExamID || !e.TicketsFrom.Equal(day.AddDate(0, 0, -1)) || !e.StartsAt.Equal(time.Date(2027, 1, 6, 9, 0, 0, 0, time.UTC)) ||
		e.EndsAt.Sub(e.StartsAt) != 150*time.Minute || e.Seats() != 60 || e.NumberPrefix != "2026" {
		t.Fatalf("demo sitting: %s tickets from %s, %s to %s, %d seats, prefix %q", e.ExamID, e.TicketsFrom, e.StartsAt, e.EndsAt, e.Seats(), e.NumberPrefix)
	}

	// A demo central without a plan of its own seats a paid candidate.
	c := testbed.StartCentral(t, central.DefaultConfig())
	d := enrol(t, c)
	ids := paidRegistrations(t, c, d, "demo-seat", 1)
	c.Server().AssignTickets()
	tk, ok := pullTickets(t, d, time.Now())[ids[0]]
	if !ok || tk.Number != strconv.Itoa(time.Now().Year())+"01001001" || tk.Room != "第 101 考场" {
		t.Fatalf("demo central: ticket %+v (%v)", tk, ok)
	}
}

// TestTicketsFileAtOpen: central.tickets_file is read at start: a plan
// with a mistake stops the central with the file, key and line named (it
// must not start seating candidates from a wrong plan); a good one seats
// paid candidates. A plan given in code is checked the same way.
func TestTicketsFileAtOpen(t *testing.T) {
	opens := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	starts := time.Now().Add(30 * 24 * time.Hour).UTC().Format(time.RFC3339)
	ends := time.Now().Add(30*24*time.Hour + 2*time.Hour).UTC().Format(time.RFC3339)
	plan := fmt.Sprintf("[[exam]]\nid = %q\ntickets_from = %s\nstarts_at = %s\nends_at = %s\nnumber_prefix = \"77\"\n\n"+
		"[[exam.site]]\nid = \"S1\"\nname = \"第三中学\"\n\n[[exam.site.room]]\nid = \"R1\"\ncapacity = 3\n", central.DemoExamID, opens, starts, ends)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(bad, []byte(strings.Replace(plan, "capacity = 3", "capacity = 1000", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := central.DefaultConfig()
	cfg.DataDir, cfg.TicketsFile = t.TempDir(), bad
	if s, err := central.Open(cfg, central.WithLogger(testbed.Quiet())); err == nil {
		s.Close()
		t.Fatal("a central started with a ticket plan of 1000 seats in a room")
	} else if !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "line 14") || !strings.Contains(err.Error(), "capacity") {
		t.Fatalf("bad plan: %v, want the file, line 14 and the key", err)
	}
	if s, err := central.Open(cfg, central.WithLogger(testbed.Quiet()), central.WithTicketPlan(central.TicketPlan{Exams: []central.ExamSitting{{ExamID: "x"}}})); err == nil {
		s.Close()
		t.Fatal("a central started with a ticket plan without dates or sites")
	}

	good := filepath.Join(dir, "good.toml")
	if err := os.WriteFile(good, []byte(plan), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.TicketsFile = good
	c := testbed.StartCentral(t, cfg)
	d := enrol(t, c)
	ids := paidRegistrations(t, c, d, "file-seat", 1)
	c.Server().AssignTickets()
	if tk, ok := pullTickets(t, d, time.Now())[ids[0]]; !ok || tk.Number != "7701001001" || tk.SiteName != "第三中学" || tk.Room != "R1" {
		t.Fatalf("plan from the file: ticket %+v (%v)", tk, ok)
	}
}

// TestTicketRoundsAtOnce: assignment rounds running at the same time (two
// nodes' timers, or a payment's round and the timer's) give every seat to
// one candidate and no candidate two seats, on the bbolt store as on
// PostgreSQL (TestTicketsTwoNodes): each round is one store transaction
// that reads the seats taken before it.
func TestTicketRoundsAtOnce(t *testing.T) {
	plan := ticketPlan(time.Now().Add(time.Hour))
	plan.Exams[0].Sites[0].Rooms[0].Capacity = 6 // 8 seats
	later := func() time.Time { return time.Now().Add(2 * time.Hour) }
	c := testbed.StartCentral(t, central.DefaultConfig(), central.WithTicketPlan(plan))
	d := enrol(t, c)
	paidRegistrations(t, c, d, "at-once", 10)
	c.Stop()
	n := testbed.StartCentral(t, c.Cfg, central.WithClock(later), central.WithTicketPlan(plan))
	issued, got := roundsAtOnce(t, later, d.on(n), n, n, n, n)
	if issued != 8 || len(got) != 8 {
		t.Fatalf("rounds at once issued %d tickets and %d reached the kiosk, want 8 (the capacity)", issued, len(got))
	}
}

// TestTicketVerification: the page a phone opens from a ticket's QR code
// shows a valid ticket with the name masked to its first character, in
// HTML as in JSON; a token that is malformed, not signed by this central or
// of a registration without a ticket is "not valid" (404), never an error.
func TestTicketVerification(t *testing.T) {
	c := testbed.StartCentral(t, central.DefaultConfig(), central.WithTicketPlan(ticketPlan(time.Now().Add(-time.Hour))))
	d := enrol(t, c)
	ids := paidRegistrations(t, c, d, "verify", 1)
	c.Server().AssignTickets()
	tk := pullTickets(t, d, time.Now())[ids[0]]
	token := tk.VerifyURL[strings.LastIndex(tk.VerifyURL, "/")+1:]
	if tc, err := c.Server().VerifyTicket(token); err != nil || !tc.Valid || tc.Name != "测***" || tc.Number != tk.Number ||
		tc.Site != "第一中学" || tc.Room != "第 1 考场" || tc.Exam == central.DemoExamID || !tc.StartsAt.Equal(tk.StartsAt) {
		t.Fatalf("verify: %+v %v", tc, err)
	}
	get := func(url, accept string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", url, nil)
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if st, page := get(tk.VerifyURL, ""); st != 200 || !strings.Contains(page, tk.Number) || !strings.Contains(page, "测***") || !strings.Contains(page, `class="ok"`) {
		t.Fatalf("verify page: %d\n%s", st, page)
	}
	sig := token[strings.Index(token, ".")+1:]
	base := c.URL + "/tickets/verify/"
	for _, bad := range []string{
		ids[0] + sig,                             // no separator
		ids[0] + ".!!" + sig[2:],                 // not base64
		ids[0] + "." + sig[:len(sig)-4],          // a signature cut short
		ids[0][:35] + "0." + sig,                 // a registration without a ticket
		strings.Repeat("a", 65) + "." + sig,      // an id no registration has
		ids[0] + "." + strings.Repeat("A", 86),   // signed by no one
		ids[0] + "." + sig[:10] + "A" + sig[11:], // one character changed
	} {
		if sig[10] == 'A' && strings.Contains(bad, sig[:10]+"A") {
			continue
		}
		if tc, err := c.Server().VerifyTicket(bad); err == nil || tc.Valid {
			t.Errorf("%s: verified (%+v)", bad, tc)
		}
		st, body := get(base+bad, "application/json")
		var tc central.TicketCheck
		if st != 404 || json.Unmarshal([]byte(body), &tc) != nil || tc.Valid {
			t.Errorf("%s: %d %s, want 404 not valid", bad, st, body)
		}
		if st, page := get(base+bad, ""); st != 404 || !strings.Contains(page, `class="bad"`) || strings.Contains(page, tk.Number) {
			t.Errorf("%s: page %d\n%s", bad, st, page)
		}
	}
}

// TestTicketRoundLogs: a round that leaves paid candidates without a seat
// tells the operator, as an error, which exam and how many (add rooms to
// the plan); a round that issues tickets says how many; a round with
// nothing new to issue says nothing of tickets issued.
func TestTicketRoundLogs(t *testing.T) {
	plan := ticketPlan(time.Now().Add(time.Hour))
	plan.Exams[0].Sites = plan.Exams[0].Sites[1:] // one seat
	var logs syncBuffer
	later := func() time.Time { return time.Now().Add(2 * time.Hour) }
	c := testbed.StartCentral(t, central.DefaultConfig(), central.WithTicketPlan(plan))
	d := enrol(t, c)
	paidRegistrations(t, c, d, "logs", 3)
	c.Stop()
	n := testbed.StartCentral(t, c.Cfg, central.WithClock(later), central.WithTicketPlan(plan), central.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	if k, err := n.Server().AssignTickets(); err != nil || k != 1 {
		t.Fatalf("first round: %d tickets (%v), want 1", k, err)
	}
	first := logs.String()
	if !strings.Contains(first, `level=ERROR msg="paid candidates without a seat: add rooms to the exam in central.tickets_file" exam=`+central.DemoExamID+" candidates=2") ||
		!strings.Contains(first, `msg="admission tickets issued" count=1`) {
		t.Fatalf("first round's log:\n%s", first)
	}
	if k, err := n.Server().AssignTickets(); err != nil || k != 0 {
		t.Fatalf("second round: %d tickets (%v), want 0", k, err)
	}
	second := strings.TrimPrefix(logs.String(), first)
	if strings.Contains(second, "admission tickets issued") || !strings.Contains(second, "candidates=2") {
		t.Fatalf("second round's log:\n%s", second)
	}
}
