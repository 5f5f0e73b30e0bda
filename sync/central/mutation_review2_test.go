package central_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"examkiosk/sync/central"
	"examkiosk/sync/testbed"
	"examkiosk/sync/wire"
)

// Registrations lists oldest received first, with or without a status,
// whatever order the kiosks' ids sort in (a kiosk's clock may be behind).
func TestRegistrationsOldestFirst(t *testing.T) {
	c := testbed.StartCentral(t, central.DefaultConfig())
	d := enrol(t, c)
	photo := testbed.Photo(320, 440, 90, 61)
	var want []string
	for i, n := range []int{3, 2, 1} { // ids sort the other way round
		r := testbed.Registration(testbed.RegNum(n), 1, d.id.DeviceID, testbed.IDNumber(610+i), photo)
		if res := d.pushRegs(r); res[0].Status != wire.StatusAccepted {
			t.Fatalf("push %s: %+v", r.ID, res)
		}
		want = append(want, r.ID)
	}
	for _, status := range []string{"", central.StatusUnderReview} {
		regs, err := c.Server().Registrations(status)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range regs {
			got = append(got, r.ID)
		}
		if !slices.Equal(got, want) {
			t.Errorf("Registrations(%q): %v, want %v (oldest received first)", status, got, want)
		}
	}
	if regs, err := c.Server().Registrations(central.StatusApproved); err != nil || len(regs) != 0 {
		t.Errorf("approved: %d registrations (%v), want none", len(regs), err)
	}
}

// The kiosk hears of a payment at once, before the admission tickets open,
// and of an order that expired unpaid; once the tickets open the paid
// candidate gets a seat and the expired one none.
func TestPaymentAndExpiryReachTheKiosk(t *testing.T) {
	cfg := central.DefaultConfig()
	cfg.PaymentWindow = time.Hour
	clk := &clock{}
	opens := time.Now().Add(2 * time.Hour)
	c := testbed.StartCentral(t, cfg, central.WithClock(clk.now), central.WithTicketPlan(ticketPlan(opens)))
	s := c.Server()
	now := time.Now()
	// The exam's payment period has ended: each order gets the hour of payment_window.
	if _, err := s.SetCatalog(wire.Catalog{Exams: []wire.Exam{{ID: central.DemoExamID, Name: "考试", RegisterFrom: now.AddDate(0, 0, -1),
		RegisterUntil: now.AddDate(0, 0, 1), PayUntil: now.Add(-time.Minute), FeeCents: 100, Positions: []wire.Position{{ID: "P003", Name: "岗"}}}}}); err != nil {
		t.Fatal(err)
	}
	// A ticket round before anyone paid (the central's maintenance runs
	// one at start): a payment must queue its own ticket.
	if n, err := s.AssignTickets(); err != nil || n != 0 {
		t.Fatalf("tickets before any payment: %d (%v)", n, err)
	}
	d := enrol(t, c)
	photo := testbed.Photo(320, 440, 90, 62)
	paid := testbed.Registration(testbed.RegID("kiosk-hears-paid"), 1, d.id.DeviceID, testbed.IDNumber(620), photo)
	unpaid := testbed.Registration(testbed.RegID("kiosk-hears-expired"), 1, d.id.DeviceID, testbed.IDNumber(621), photo)
	for _, r := range d.pushRegs(paid, unpaid) {
		if r.Status != wire.StatusAccepted {
			t.Fatalf("push: %+v", r)
		}
	}
	for _, r := range []wire.Registration{paid, unpaid} {
		if _, err := s.Review(r.ID, true, ""); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.PayOrder(t.Context(), regStatus(t, s, paid.ID).OrderID); err != nil {
		t.Fatal(err)
	}
	clk.advance(61 * time.Minute)
	if n, err := s.ExpireOverdue(); err != nil || n != 1 {
		t.Fatalf("expired %d (%v), want 1", n, err)
	}
	statuses := func(at time.Time) map[string][]string {
		t.Helper()
		out := map[string][]string{}
		st, _, data := d.do(call{method: "GET", path: "/v1/pull?cursor=", at: at})
		var p wire.Pull
		if st != 200 || json.Unmarshal(data, &p) != nil {
			t.Fatalf("pull: %d %s", st, data)
		}
		for _, u := range p.Updates {
			s := u.Status
			if u.Ticket != nil {
				s += "+ticket"
			}
			out[u.RegistrationID] = append(out[u.RegistrationID], s)
		}
		return out
	}
	got := statuses(clk.now())
	if w := []string{central.StatusUnderReview, central.StatusApproved, central.StatusPaid}; !slices.Equal(got[paid.ID], w) {
		t.Errorf("kiosk's updates for the paid registration %v, want %v", got[paid.ID], w)
	}
	if w := []string{central.StatusUnderReview, central.StatusApproved, central.StatusExpired}; !slices.Equal(got[unpaid.ID], w) {
		t.Errorf("kiosk's updates for the expired registration %v, want %v", got[unpaid.ID], w)
	}
	clk.advance(2 * time.Hour) // the tickets open
	if n, err := s.AssignTickets(); err != nil || n != 1 {
		t.Errorf("tickets issued when the window opens: %d (%v), want 1 (the paid candidate)", n, err)
	}
	got = statuses(clk.now())
	if g := got[paid.ID]; len(g) == 0 || g[len(g)-1] != central.StatusPaid+"+ticket" {
		t.Errorf("kiosk's updates for the paid registration %v: no ticket", g)
	}
	if g := got[unpaid.ID]; slices.ContainsFunc(g, func(s string) bool { return strings.HasSuffix(s, "+ticket") }) {
		t.Errorf("the expired registration got a ticket: %v", g)
	}
}

// The review API takes "approve" or "reject" and nothing else: another
// word changes nothing.
func TestReviewAPIDecisionWords(t *testing.T) {
	c := testbed.StartCentral(t, central.DefaultConfig())
	id := pushed(t, c, 63)
	post := func(req map[string]string) (int, central.Registration) {
		t.Helper()
		body, _ := json.Marshal(req)
		resp, err := http.Post(c.URL+"/admin/registrations/"+id+"/review", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r central.Registration
		json.NewDecoder(resp.Body).Decode(&r)
		return resp.StatusCode, r
	}
	for _, word := range []string{"maybe", "Reject", ""} {
		if st, _ := post(map[string]string{"decision": word, "reason": "照片模糊 / photo blurred"}); st != 400 {
			t.Errorf("decision %q: %d, want 400", word, st)
		}
		if r := regStatus(t, c.Server(), id); r.Status != central.StatusUnderReview {
			t.Fatalf("after decision %q the registration is %s", word, r.Status)
		}
	}
	if st, r := post(map[string]string{"decision": "reject", "reason": "照片模糊 / photo blurred"}); st != 200 || r.Status != central.StatusRejected || r.Reason != "照片模糊 / photo blurred" {
		t.Errorf("reject: %d %+v", st, r)
	}
}

// GET /admin/registrations pages with ?limit= from 1 to 10,000 (1,000
// without one); anything else, and a cursor it did not give, is refused;
// an empty list is [] and the last page has no X-Next-After.
func TestAdminListLimits(t *testing.T) {
	c := testbed.StartCentral(t, central.DefaultConfig())
	d := enrol(t, c)
	photo := testbed.Photo(320, 440, 90, 64)
	var ids []string
	for i := range 3 {
		r := testbed.Registration(testbed.RegID(fmt.Sprint("list-", i)), 1, d.id.DeviceID, testbed.IDNumber(640+i), photo)
		if res := d.pushRegs(r); res[0].Status != wire.StatusAccepted {
			t.Fatalf("push: %+v", res)
		}
		ids = append(ids, r.ID)
	}
	list := func(query string) (int, string, []string, string) {
		t.Helper()
		resp, err := http.Get(c.URL + "/admin/registrations" + query)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var buf bytes.Buffer
		buf.ReadFrom(resp.Body)
		var regs []central.Registration
		json.Unmarshal(buf.Bytes(), &regs)
		var got []string
		for _, r := range regs {
			got = append(got, r.ID)
		}
		return resp.StatusCode, resp.Header.Get("X-Next-After"), got, strings.TrimSpace(buf.String())
	}
	for _, q := range []string{"?limit=0", "?limit=-1", "?limit=10001", "?limit=x", "?status=under_review&after=zz", "?status=under_review&after=00"} {
		if st, _, _, body := list(q); st != 400 {
			t.Errorf("GET %s: %d %s, want 400", q, st, body)
		}
	}
	for _, q := range []string{"", "?status=under_review", "?limit=10000", "?status=under_review&limit=10000", "?limit=3"} {
		st, next, got, body := list(q)
		if st != 200 || next != "" || len(got) != 3 {
			t.Errorf("GET %s: %d, next %q, %d registrations, want 200, no next page, 3: %s", q, st, next, len(got), body)
		}
	}
	st, next, got, _ := list("?status=under_review&limit=1")
	if st != 200 || next == "" || !slices.Equal(got, ids[:1]) {
		t.Fatalf("first page of one: %d, next %q, %v, want [%s] and a next page", st, next, got, ids[0])
	}
	st, next2, got, _ := list("?status=under_review&limit=2&after=" + next)
	if st != 200 || next2 != "" || !slices.Equal(got, ids[1:]) {
		t.Errorf("second page: %d, next %q, %v, want %v and no next page", st, next2, got, ids[1:])
	}
	if st, next, _, body := list("?status=" + central.StatusPaid); st != 200 || next != "" || body != "[]" {
		t.Errorf("no paid registrations: %d, next %q, %s, want 200 and []", st, next, body)
	}
}
