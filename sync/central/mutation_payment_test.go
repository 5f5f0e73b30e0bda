package central_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"examkiosk/sync/central"
	"examkiosk/sync/provider"
	"examkiosk/sync/testbed"
	"examkiosk/sync/wire"
)

// approvedOrder pushes a registration of candidate n, approves it and
// returns its id and order.
func approvedOrder(t *testing.T, c *testbed.Central, n int) (string, central.Order) {
	t.Helper()
	id := pushed(t, c, n)
	reg, err := c.Server().Review(id, true, "")
	if err != nil {
		t.Fatal(err)
	}
	o, err := c.Server().Order(reg.OrderID)
	if err != nil {
		t.Fatal(err)
	}
	return id, o
}

// pushed pushes a registration of candidate n from a new kiosk and
// returns its id.
func pushed(t *testing.T, c *testbed.Central, n int) string {
	t.Helper()
	d := enrol(t, c)
	id := uuid.NewString()
	if st, _, data := d.do(call{method: "POST", path: "/v1/push", body: d.pushBody(n, id)}); st != 200 || !strings.Contains(string(data), wire.StatusAccepted) {
		t.Fatalf("push: %d %s", st, data)
	}
	return id
}

// A genuine payment that arrives after the order's deadline does not pay
// it (the provider is told to retry, staff refund it); one within the
// deadline does, once: a second trade for a paid order is acknowledged
// (the provider stops notifying) but is not recorded as a second payment.
func TestPaymentDeadlineAndSecondTrade(t *testing.T) {
	cfg := central.DefaultConfig()
	cfg.PaymentWindow = time.Hour
	clk := &clock{}
	var logs syncBuffer // staff refund what the log calls paid twice
	c := testbed.StartCentral(t, cfg, central.WithClock(clk.now), central.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	s := c.Server()
	alipay := s.DemoProvider(wire.ChannelAlipay)
	now := time.Now().UTC()
	// An exam whose payment period has ended pays within the window.
	if _, err := s.SetCatalog(wire.Catalog{Exams: []wire.Exam{{ID: central.DemoExamID, Name: "考试", RegisterFrom: now.AddDate(0, 0, -1),
		RegisterUntil: now.AddDate(0, 0, 1), PayUntil: now.Add(-time.Minute), FeeCents: 12345, Positions: []wire.Position{{ID: "P003", Name: "岗"}}}}}); err != nil {
		t.Fatal(err)
	}

	late, lateOrder := approvedOrder(t, c, 31)
	if lateOrder.AmountCents != 12345 || lateOrder.PayBy.Before(now.Add(59*time.Minute)) || lateOrder.PayBy.After(now.Add(61*time.Minute)) {
		t.Fatalf("order %+v: want ¥123.45 due an hour from now", lateOrder)
	}
	onTime, onTimeOrder := approvedOrder(t, c, 32)
	first, _ := alipay.PaymentNotification(onTimeOrder.ID, 12345, provider.TradeSuccess)
	if o, err := s.ApplyPaymentNotification(first); err != nil || o.Status != "paid" {
		t.Fatalf("payment within the deadline: %+v, %v", o, err)
	}
	// The provider repeats its notification until it reads "success": a
	// repeat is no second payment.
	if o, err := s.ApplyPaymentNotification(first); err != nil || o.Status != "paid" {
		t.Fatalf("the same notification again: %+v, %v", o, err)
	}
	if strings.Contains(logs.String(), "paid twice") {
		t.Errorf("a repeated notification of one trade logged as paid twice (staff would refund it):\n%s", logs.String())
	}
	second, _ := alipay.PaymentNotification(onTimeOrder.ID, 12345, provider.TradeSuccess)
	if o, err := s.ApplyPaymentNotification(second); err != nil || o.Status != "paid" {
		t.Fatalf("a second trade for a paid order: %+v, %v (want acknowledged)", o, err)
	}
	if n := auditCount(t, s, "paid"); n != 1 {
		t.Errorf("%d payments recorded after two trades for one order, want 1", n)
	}
	if !strings.Contains(logs.String(), "paid twice") || !strings.Contains(logs.String(), second.Get("trade_no")) {
		t.Errorf("a second trade for a paid order is not logged for refund:\n%s", logs.String())
	}
	es, err := s.Audit(100)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if e.Action == "paid" && (e.Target != onTime || !strings.Contains(e.Detail, first.Get("trade_no")) || !strings.Contains(e.Detail, "123.45")) {
			t.Errorf("payment recorded as %+v, want the first trade %s of ¥123.45 for %s", e, first.Get("trade_no"), onTime)
		}
	}

	clk.advance(61 * time.Minute)
	pay, _ := alipay.PaymentNotification(lateOrder.ID, 12345, provider.TradeSuccess)
	o, err := s.ApplyPaymentNotification(pay)
	if err == nil || o.Status == "paid" {
		t.Fatalf("payment after the deadline: %+v, %v; want refused", o, err)
	}
	if r := regStatus(t, s, late); r.Status != central.StatusApproved {
		t.Errorf("registration paid late is %s, want approved", r.Status)
	}
	st, body, err := postNotification(t, c, pay)
	if err != nil || st < 400 || st >= 500 || body == "success" {
		t.Errorf("late notification answered %d %q (%v), want 4xx and no success", st, body, err)
	}
}

// syncBuffer is a bytes.Buffer safe for the central's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func postNotification(t *testing.T, c *testbed.Central, params url.Values) (int, string, error) {
	t.Helper()
	b := newBrowser(t)
	st, body := b.do("POST", c.URL+"/pay/notify/alipay", params)
	if st == 0 {
		return 0, "", errors.New("no answer")
	}
	return st, body, nil
}

// The demo payment page pays an order through the simulated provider's
// signed notification, only with the page's form token, and only an order
// that exists.
func TestDemoPayPage(t *testing.T) {
	c := testbed.StartCentral(t, central.DefaultConfig())
	s := c.Server()
	id, o := approvedOrder(t, c, 33)
	b := newBrowser(t)
	st, page := b.do("GET", c.URL+"/pay/"+o.ID, nil)
	if st != 200 || !strings.Contains(page, "/pay/"+o.ID+"/demo") {
		t.Fatalf("pay page: %d\n%s", st, page)
	}
	token := csrfOf(t, page)
	origin := "Origin: " + c.URL
	if st, _ := b.do("POST", c.URL+"/pay/"+o.ID+"/demo", url.Values{"csrf": {"0123"}}, origin); st != 403 {
		t.Errorf("demo payment without the form token: %d, want 403", st)
	}
	if st, _ := b.do("POST", c.URL+"/pay/ord-none/demo", url.Values{"csrf": {token}}, origin); st != 404 {
		t.Errorf("demo payment of an order that does not exist: %d, want 404", st)
	}
	if r := regStatus(t, s, id); r.Status != central.StatusApproved {
		t.Fatalf("after refused demo payments: %s", r.Status)
	}
	b2 := newBrowser(t)
	if st, _ := b2.do("POST", c.URL+"/pay/"+o.ID+"/demo", url.Values{"csrf": {token}}, origin); st != 403 {
		t.Errorf("demo payment with another browser's token: %d, want 403", st)
	}
	st, body := b.do("POST", c.URL+"/pay/"+o.ID+"/demo", url.Values{"csrf": {token}}, origin)
	if st != 303 {
		t.Fatalf("demo payment: %d %s", st, body)
	}
	if r := regStatus(t, s, id); r.Status != central.StatusPaid {
		t.Errorf("after the demo payment: %s, want paid", r.Status)
	}
	if n := auditCount(t, s, "paid"); n != 1 {
		t.Errorf("%d payments recorded", n)
	}
}

// A payment made while the admission-ticket window is open seats the
// candidate at once: the kiosk's next pull has the ticket, with no
// maintenance round in between.
func TestPaymentSeatsAtOnceWhenTicketsOpen(t *testing.T) {
	var logs syncBuffer
	c := testbed.StartCentral(t, central.DefaultConfig(), central.WithTicketPlan(ticketPlan(time.Now().Add(-time.Hour))),
		central.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	d := enrol(t, c)
	ids := paidRegistrations(t, c, d, "seat-now", 1)
	got := pullTickets(t, d, time.Now())
	if tk, ok := got[ids[0]]; !ok || tk.Number == "" {
		t.Fatalf("after the payment: tickets %+v, want one for %s", got, ids[0])
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("errors logged for a payment that went well:\n%s", logs.String())
	}
}
