package central_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"examkiosk/sync/central"
	"examkiosk/sync/testbed"
	"examkiosk/sync/wire"
)

// An approved registration whose order is not paid by its deadline
// expires (and only that one: neither a paid one nor one still within its
// deadline), and the candidate may register for the exam again.
func TestExpireOverdue(t *testing.T) {
	cfg := central.DefaultConfig()
	cfg.PaymentWindow = time.Hour
	clk := &clock{}
	c := testbed.StartCentral(t, cfg, central.WithClock(clk.now))
	s := c.Server()
	now := time.Now().UTC()
	// The exam's payment period has ended: each order gets the hour of payment_window.
	if _, err := s.SetCatalog(wire.Catalog{Exams: []wire.Exam{{ID: central.DemoExamID, Name: "考试", RegisterFrom: now.AddDate(0, 0, -1),
		RegisterUntil: now.AddDate(0, 0, 1), PayUntil: now.Add(-time.Minute), FeeCents: 100, Positions: []wire.Position{{ID: "P003", Name: "岗"}}}}}); err != nil {
		t.Fatal(err)
	}
	overdue, _ := approvedOrder(t, c, 41)
	paid, paidOrder := approvedOrder(t, c, 42)
	if err := c.PayOrder(t.Context(), paidOrder.ID); err != nil {
		t.Fatal(err)
	}
	if n, err := s.ExpireOverdue(); err != nil || n != 0 {
		t.Fatalf("within the deadline: %d expired (%v)", n, err)
	}
	later := pushed(t, c, 43)
	clk.advance(61 * time.Minute)
	if _, err := s.Review(later, true, ""); err != nil { // due an hour after the new now
		t.Fatal(err)
	}
	if n, err := s.ExpireOverdue(); err != nil || n != 1 {
		t.Fatalf("an hour later: %d expired (%v), want 1", n, err)
	}
	for id, want := range map[string]string{overdue: central.StatusExpired, paid: central.StatusPaid, later: central.StatusApproved} {
		if r := regStatus(t, s, id); r.Status != want {
			t.Errorf("registration %s is %s, want %s", id, r.Status, want)
		}
	}
	if n, err := s.ExpireOverdue(); err != nil || n != 0 {
		t.Errorf("again: %d expired (%v), want 0", n, err)
	}
	if n := auditCount(t, s, "paid"); n != 1 {
		t.Errorf("%d payments", n)
	}
	// An expired registration does not hold the candidate's place.
	clk.advance(-61 * time.Minute)
	again := enrol(t, c)
	id := uuid.NewString()
	if st, _, data := again.do(call{method: "POST", path: "/v1/push", body: again.pushBody(41, id)}); st != 200 || !strings.Contains(string(data), wire.StatusAccepted) {
		t.Errorf("registering again after expiry: %d %s", st, data)
	}
}

// A reviewer who logs out has no session any more: the same cookie opens
// no staff page. The audit log (admin only) records the login and the
// logout under her name.
func TestLogoutAndAuditLog(t *testing.T) {
	cfg := central.DefaultConfig()
	cfg.AdminToken = "s3cret-admin-token"
	s, hs := openStaffCentral(t, cfg)
	if err := s.AddReviewer("bob", central.RoleReviewer, "correct battery 2026"); err != nil {
		t.Fatal(err)
	}
	bob := newBrowser(t)
	_, page := bob.do("GET", hs.URL+"/login", nil)
	if st, _ := bob.do("POST", hs.URL+"/login", url.Values{"name": {"bob"}, "password": {"correct battery 2026"}, "csrf": {csrfOf(t, page)}}); st != 303 {
		t.Fatalf("login: %d", st)
	}
	st, page := bob.do("GET", hs.URL+"/review", nil)
	if st != 200 {
		t.Fatalf("review page: %d", st)
	}
	if st, _ := bob.do("GET", hs.URL+"/admin/audit", nil); st != 403 {
		t.Errorf("a reviewer reads the audit log: %d, want 403", st)
	}
	u, _ := url.Parse(hs.URL)
	held := bob.c.Jar.Cookies(u) // the session as a copied cookie would have it
	if st, _ := bob.do("POST", hs.URL+"/logout", url.Values{"csrf": {csrfOf(t, page)}}, "Origin: "+hs.URL); st != 303 {
		t.Fatalf("logout: %d", st)
	}
	if st, _ := bob.do("GET", hs.URL+"/review", nil); st != 401 {
		t.Errorf("review page after logout: %d, want 401", st)
	}
	// The session is gone on the server, not only from the browser.
	req, _ := http.NewRequest("GET", hs.URL+"/review", nil)
	for _, c := range held {
		req.AddCookie(c)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("review page with the cookie held before the logout: %d, want 401", resp.StatusCode)
	}
	req, _ = http.NewRequest("GET", hs.URL+"/admin/audit", nil)
	req.Header.Set("Authorization", "Bearer "+cfg.AdminToken)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var es []struct{ Actor, Action string }
	if err := json.NewDecoder(resp.Body).Decode(&es); err != nil || resp.StatusCode != 200 {
		t.Fatalf("audit log: %d %v", resp.StatusCode, err)
	}
	var bobs []string
	for _, e := range es {
		if e.Actor == "bob" {
			bobs = append(bobs, e.Action)
		}
	}
	if !strings.Contains(strings.Join(bobs, " "), "logout") {
		t.Errorf("bob's audit entries %v lack the logout", bobs)
	}
}

// The admin API returns one registration by id, and 404 for an id it does
// not hold.
func TestAdminGetRegistration(t *testing.T) {
	c := testbed.StartCentral(t, central.DefaultConfig())
	id := pushed(t, c, 51)
	get := func(id string) (int, central.Registration) {
		t.Helper()
		resp, err := http.Get(c.URL + "/admin/registrations/" + id)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r central.Registration
		if resp.StatusCode == 200 {
			if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
				t.Fatal(err)
			}
		}
		return resp.StatusCode, r
	}
	if st, r := get(id); st != 200 || r.ID != id || r.Status != central.StatusUnderReview || r.IDNumber != testbed.IDNumber(51) {
		t.Errorf("GET %s: %d %+v", id, st, r)
	}
	if st, _ := get(uuid.NewString()); st != 404 {
		t.Errorf("GET of an unknown registration: %d, want 404", st)
	}
}

// A browser that opens a staff page without a session is sent to the login
// page, which brings it back; behind HTTPS the session and form cookies are
// __Host- cookies (bound to the host, Secure, path /).
func TestStaffLoginRedirectAndHostCookies(t *testing.T) {
	for _, https := range []bool{false, true} {
		cfg := central.DefaultConfig()
		cfg.DataDir = t.TempDir()
		s, err := central.Open(cfg, central.WithLogger(testbed.Quiet()))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		hs := httptest.NewUnstartedServer(s.Handler())
		if https {
			hs.StartTLS()
		} else {
			hs.Start()
		}
		defer hs.Close()
		client := hs.Client()
		client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		req, _ := http.NewRequest("GET", hs.URL+"/review?page=2", nil)
		req.Header.Set("Accept", "text/html")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode != 303 || loc != "/login?next="+url.QueryEscape("/review?page=2") {
			t.Errorf("https %v: staff page without a session: %d to %q", https, resp.StatusCode, loc)
		}
		resp, err = client.Get(hs.URL + "/login")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		var names []string
		for _, c := range resp.Cookies() {
			names = append(names, c.Name)
			if strings.HasPrefix(c.Name, "__Host-") != https {
				t.Errorf("https %v: cookie %s", https, c.Name)
			}
		}
		if len(names) == 0 {
			t.Errorf("https %v: the login page sets no form cookie", https)
		}
	}
}

// Staff pages answer only for the hosts of this central: the host of
// public_url (in any case) is one of them, another host gets 421.
func TestStaffPagesOnPublicHost(t *testing.T) {
	cfg := central.DefaultConfig()
	cfg.PublicURL = "http://Exam.Example.org:8443"
	_, hs := openStaffCentral(t, cfg)
	b := newBrowser(t)
	for host, want := range map[string]int{"exam.example.org:8443": 200, "EXAM.example.org": 200, "evil.example": 421} {
		if st, _ := b.do("GET", hs.URL+"/login", nil, "Host: "+host); st != want {
			t.Errorf("login page for Host %s: %d, want %d", host, st, want)
		}
	}
}

// openStaffCentral opens a central outside demo mode (in a temporary
// folder), served until the test ends.
func openStaffCentral(t *testing.T, cfg central.Config) (*central.Server, *httptest.Server) {
	t.Helper()
	cfg.DataDir = t.TempDir()
	s, err := central.Open(cfg, central.WithLogger(testbed.Quiet()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	return s, hs
}
