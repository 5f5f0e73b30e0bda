package central_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"examkiosk/sync/central"
	"examkiosk/sync/central/store/storetest"
	"examkiosk/sync/testbed"
	"examkiosk/sync/wire"
)

// ticketPlan seats 4: site A rooms r1 (2) and r2 (1), site B room r1 (1).
func ticketPlan(opens time.Time) central.TicketPlan {
	starts := opens.Add(30 * 24 * time.Hour)
	return central.TicketPlan{Exams: []central.ExamSitting{{
		ExamID: central.DemoExamID, TicketsFrom: opens, StartsAt: starts, EndsAt: starts.Add(2 * time.Hour), NumberPrefix: "26",
		Sites: []central.ExamSite{
			{ID: "A", Name: "第一中学", Address: "一路 1 号", Rooms: []central.ExamRoom{{ID: "r1", Name: "第 1 考场", Capacity: 2}, {ID: "r2", Capacity: 1}}},
			{ID: "B", Name: "第二中学", Rooms: []central.ExamRoom{{ID: "r1", Capacity: 1}}},
		},
	}}}
}

// paidRegistrations pushes n registrations from d, approves and pays them.
func paidRegistrations(t *testing.T, c *testbed.Central, d rawDevice, label string, n int) []string {
	t.Helper()
	photo := testbed.Photo(320, 440, 80, 5)
	var regs []wire.Registration
	var ids []string
	for i := range n {
		id := testbed.RegID(fmt.Sprintf("%s-%d", label, i))
		regs = append(regs, testbed.Registration(id, 1, d.id.DeviceID, testbed.IDNumber(700+i), photo))
		ids = append(ids, id)
	}
	for _, r := range d.pushRegs(regs...) {
		if r.Status != wire.StatusAccepted {
			t.Fatalf("push: %+v", r)
		}
	}
	for _, id := range ids {
		reg, err := c.Server().Review(id, true, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := c.PayOrder(t.Context(), reg.OrderID); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(ids) // the order seats are given in
	return ids
}

// pullTickets pulls every update from the start and returns the tickets by
// registration id (failing on a second ticket for one registration).
// at is the device's clock (zero: now).
func pullTickets(t *testing.T, d rawDevice, at time.Time) map[string]wire.Ticket {
	t.Helper()
	out := map[string]wire.Ticket{}
	cursor := ""
	for {
		st, _, data := d.do(call{method: "GET", path: "/v1/pull?cursor=" + cursor, at: at})
		var p wire.Pull
		if st != 200 || json.Unmarshal(data, &p) != nil {
			t.Fatalf("pull: %d %s", st, data)
		}
		for _, u := range p.Updates {
			if u.Ticket == nil {
				continue
			}
			if _, dup := out[u.RegistrationID]; dup {
				t.Fatalf("a second ticket for %s", u.RegistrationID)
			}
			if u.Status != central.StatusPaid {
				t.Fatalf("ticket in an update of status %s", u.Status)
			}
			out[u.RegistrationID] = *u.Ticket
		}
		cursor = p.Cursor
		if !p.More {
			return out
		}
	}
}

func TestTicketAssignment(t *testing.T) { testbed.EachStore(t, ticketAssignment) }

func ticketAssignment(t *testing.T, cfg central.Config) {
	var offset atomic.Int64
	clock := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	opens := time.Now().Add(time.Hour)
	c := testbed.StartCentral(t, cfg, central.WithClock(clock), central.WithTicketPlan(ticketPlan(opens)))
	d := enrol(t, c)
	ids := paidRegistrations(t, c, d, "seat", 5)

	// The window is not open: paid, but no seat yet.
	if n, err := c.Server().AssignTickets(); err != nil || n != 0 {
		t.Fatalf("before the window: %d tickets (%v)", n, err)
	}
	if got := pullTickets(t, d, clock()); len(got) != 0 {
		t.Fatalf("tickets before the window opened: %+v", got)
	}

	offset.Store(int64(2 * time.Hour))
	n, err := c.Server().AssignTickets()
	if err != nil || n != 4 {
		t.Fatalf("window open: %d tickets (%v), want 4 (the capacity)", n, err)
	}
	got := pullTickets(t, d, clock())
	// Registration id order fills the plan in order, seat by seat.
	want := []struct {
		site, room string
		seat       int
		number     string
	}{{"第一中学", "第 1 考场", 1, "2601001001"}, {"第一中学", "第 1 考场", 2, "2601001002"}, {"第一中学", "r2", 1, "2601002001"}, {"第二中学", "r1", 1, "2602001001"}}
	seats := map[string]string{}
	for i, w := range want {
		tk, ok := got[ids[i]]
		if !ok {
			t.Fatalf("registration %d has no ticket (%d tickets)", i, len(got))
		}
		if tk.SiteName != w.site || tk.Room != w.room || tk.Seat != w.seat || tk.Number != w.number {
			t.Errorf("registration %d: %s %s seat %d no. %s, want %s %s seat %d no. %s", i, tk.SiteName, tk.Room, tk.Seat, tk.Number, w.site, w.room, w.seat, w.number)
		}
		where := fmt.Sprintf("%s/%s/%d", tk.SiteName, tk.Room, tk.Seat)
		if other, dup := seats[where]; dup {
			t.Fatalf("%s and %s share seat %s", other, ids[i], where)
		}
		seats[where] = ids[i]
		if len(tk.Photo) < 1000 || tk.ExamName == central.DemoExamID || tk.StartsAt.IsZero() || !strings.Contains(tk.VerifyURL, "/tickets/verify/") {
			t.Errorf("ticket %d incomplete: photo %d bytes, exam %q, starts %s, verify %q", i, len(tk.Photo), tk.ExamName, tk.StartsAt, tk.VerifyURL)
		}
	}
	if _, ok := got[ids[4]]; ok {
		t.Fatalf("a fifth candidate was seated in a plan of 4 seats")
	}
	// The seat list for the door staff, in seat order (admin API).
	var list []central.SeatEntry
	if resp, err := http.Get(c.URL + "/admin/exams/" + central.DemoExamID + "/seats"); err != nil {
		t.Fatal(err)
	} else {
		json.NewDecoder(resp.Body).Decode(&list)
		resp.Body.Close()
	}
	if len(list) != 4 || list[0].RegistrationID != ids[0] || list[3].Site != "B" || list[2].Room != "r2" || list[1].Seat != 2 {
		t.Fatalf("seat list: %+v", list)
	}

	// Stable: again, and after a restart, nothing changes.
	if n, err := c.Server().AssignTickets(); err != nil || n != 0 {
		t.Fatalf("second round: %d tickets (%v), want 0", n, err)
	}
	if err := c.Restart(); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Server().AssignTickets(); err != nil || n != 0 {
		t.Fatalf("after a restart: %d tickets (%v), want 0", n, err)
	}
	if again := pullTickets(t, d, clock()); len(again) != 4 || again[ids[0]].Seat != got[ids[0]].Seat {
		t.Fatalf("tickets changed on re-run: %d tickets", len(again))
	}

	// The QR's link verifies; an altered one does not.
	tk := got[ids[2]]
	check := func(url string, wantStatus int) central.TicketCheck {
		t.Helper()
		req, _ := http.NewRequest("GET", url, nil)
		req.Header.Set("Accept", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var tc central.TicketCheck
		if resp.StatusCode != wantStatus || json.Unmarshal(body, &tc) != nil {
			t.Fatalf("verify %s: %d %s, want %d", url, resp.StatusCode, body, wantStatus)
		}
		return tc
	}
	if tc := check(tk.VerifyURL, 200); !tc.Valid || tc.Number != tk.Number || tc.Seat != 1 || tc.Room != "r2" || strings.Contains(tc.IDNumber, testbed.IDNumber(702)[6:14]) {
		t.Fatalf("verify: %+v", tc)
	}
	other := got[ids[3]].VerifyURL
	forged := tk.VerifyURL[:strings.LastIndex(tk.VerifyURL, ".")] + other[strings.LastIndex(other, "."):]
	if tc := check(forged, 404); tc.Valid {
		t.Fatalf("a signature of another ticket verified: %+v", tc)
	}

	// Another room opens up in the plan: the fifth candidate gets it, the
	// others keep theirs.
	plan := ticketPlan(opens)
	plan.Exams[0].Sites[1].Rooms = append(plan.Exams[0].Sites[1].Rooms, central.ExamRoom{ID: "r2", Capacity: 1})
	c.Stop()
	c2 := testbed.StartCentral(t, c.Cfg, central.WithClock(clock), central.WithTicketPlan(plan))
	if n, err := c2.Server().AssignTickets(); err != nil || n != 1 {
		t.Fatalf("with a room added: %d tickets (%v), want 1", n, err)
	}
	final := pullTickets(t, d.on(c2), clock())
	if len(final) != 5 || final[ids[4]].Number != "2602002001" || final[ids[0]].Number != got[ids[0]].Number {
		t.Fatalf("after adding a room: %d tickets, fifth %+v", len(final), final[ids[4]])
	}
}

// Two central nodes on one PostgreSQL database assign at the same time:
// every seat goes to one candidate, no candidate gets two.
func TestTicketsTwoNodes(t *testing.T) {
	cfg := central.DefaultConfig()
	testbed.UseStore(t, &cfg, storetest.Postgres)
	plan := ticketPlan(time.Now().Add(time.Hour))
	plan.Exams[0].Sites[0].Rooms[0].Capacity = 9                    // 11 seats
	a := testbed.StartCentral(t, cfg, central.WithTicketPlan(plan)) // the window opens in an hour
	d := enrol(t, a)
	paidRegistrations(t, a, d, "two", 14)
	later := func() time.Time { return time.Now().Add(2 * time.Hour) }
	n1 := testbed.StartCentral(t, a.Cfg, central.WithClock(later), central.WithTicketPlan(plan))
	n2 := testbed.StartCentral(t, a.Cfg, central.WithClock(later), central.WithTicketPlan(plan))
	issued, got := roundsAtOnce(t, later, d.on(n2), n1, n2, n1, n2)
	if issued != 11 || len(got) != 11 {
		t.Fatalf("two nodes issued %d tickets and %d reached the kiosk, want 11 (the capacity)", issued, len(got))
	}
}

// roundsAtOnce runs a ticket round on each node given, all at once, and
// returns how many tickets they issued and the tickets the kiosk then
// pulls (through puller); it fails the test if two tickets share a seat.
func roundsAtOnce(t *testing.T, now func() time.Time, puller rawDevice, nodes ...*testbed.Central) (int64, map[string]wire.Ticket) {
	t.Helper()
	var wg sync.WaitGroup
	var total atomic.Int64
	for _, n := range nodes {
		wg.Go(func() {
			k, err := n.Server().AssignTickets()
			if err != nil {
				t.Error(err)
			}
			total.Add(int64(k))
		})
	}
	wg.Wait()
	got := pullTickets(t, puller, now())
	seats := map[string]bool{}
	for _, tk := range got {
		where := fmt.Sprintf("%s/%s/%d", tk.SiteName, tk.Room, tk.Seat)
		if seats[where] || seats[tk.Number] {
			t.Fatalf("two candidates in %s (ticket %s)", where, tk.Number)
		}
		seats[where], seats[tk.Number] = true, true
	}
	return total.Load(), got
}

func TestLoadTicketPlan(t *testing.T) {
	good := `[[exam]]
id = "demo-exam-2026"
tickets_from = 2026-12-01T09:00:00+08:00
starts_at = 2026-12-12T09:00:00+08:00
ends_at = 2026-12-12T11:30:00+08:00

[[exam.site]]
id = "S01"
name = "第一中学"

[[exam.site.room]]
id = "101"
capacity = 30

[[exam.site.room]]
id = "102"
capacity = 25
`
	write := func(body string) string {
		p := filepath.Join(t.TempDir(), "tickets.toml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	p, err := central.LoadTicketPlan(write(good))
	if err != nil || len(p.Exams) != 1 || p.Exams[0].Seats() != 55 {
		t.Fatalf("good plan: %+v, %v", p, err)
	}
	for _, tt := range []struct{ name, body, want string }{
		{"capacity", strings.Replace(good, "capacity = 25", "capacity = 0", 1), "line 17: exam[0].site[0].room[1].capacity: expected 1 to 999 seats"},
		{"unknown key", strings.Replace(good, "capacity = 30", "capacity = 30\nseats = 3", 1), "key exam.site.room.seats: unknown key"},
		{"order", strings.Replace(good, "ends_at = 2026-12-12T11:30", "ends_at = 2026-12-12T08:30", 1), "line 5: exam[0].ends_at: the exam must end after it starts"},
		{"syntax", strings.Replace(good, "[[exam.site]]", "[[exam.site]", 1), "line 7"},
		{"room id", strings.Replace(good, `id = "102"`, `id = "101"`, 1), "line 16: exam[0].site[0].room[1].id"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := write(tt.body)
			_, err := central.LoadTicketPlan(path)
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), path) {
				t.Fatalf("got %v, want the file and %q", err, tt.want)
			}
		})
	}
}

// on is the device talking to another central node.
func (d rawDevice) on(c *testbed.Central) rawDevice {
	d.url = c.URL
	return d
}
