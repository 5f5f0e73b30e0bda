package central_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"examkiosk/sync/central"
	"examkiosk/sync/testbed"
)

// Staff accounts are reviewers or admins, nothing else, with passwords of
// at least 12 characters: 11 are refused even when hard to guess, 12 are
// taken.
func TestAddReviewerRoleAndPasswordLength(t *testing.T) {
	s, _ := openStaffCentral(t, central.DefaultConfig())
	for _, role := range []string{"root", "Admin", ""} {
		if err := s.AddReviewer("carol", role, "Vq7#Lm2$Rx9z"); err == nil {
			t.Errorf("role %q taken", role)
		}
	}
	if err := s.AddReviewer("dave", central.RoleAdmin, "Vq7#Lm2$Rx9z"); err != nil {
		t.Errorf("an admin with a 12-character password: %v", err)
	}
	if err := s.AddReviewer("erin", central.RoleReviewer, "Vq7#Lm2$Rx9"); err == nil {
		t.Error("an 11-character password taken")
	}
	if err := s.AddReviewer("erin", central.RoleReviewer, "Vq7#Lm2$Rx9zW"); err != nil {
		t.Errorf("a reviewer with a 13-character password: %v", err)
	}
}

// In demo mode the loopback names (localhost, 127.0.0.1, ::1) open the
// staff pages too; any other Host is still refused. Outside demo mode
// localhost is not this central unless configured.
func TestDemoHostsAreLoopbackOnly(t *testing.T) {
	c := testbed.StartCentral(t, central.DefaultConfig())
	_, port, _ := strings.Cut(strings.TrimPrefix(c.URL, "http://"), ":")
	b := newBrowser(t)
	for host, want := range map[string]int{"localhost:" + port: 200, "LOCALHOST": 200, "127.0.0.1:" + port: 200, "[::1]:" + port: 200,
		"evil.example": 421, "localhost.evil.example": 421, "10.0.0.1": 421} {
		if st, _ := b.do("GET", c.URL+"/login", nil, "Host: "+host); st != want {
			t.Errorf("demo: login page for Host %s: %d, want %d", host, st, want)
		}
	}
	_, hs := openStaffCentral(t, central.DefaultConfig())
	if st, _ := b.do("GET", hs.URL+"/login", nil, "Host: localhost"); st != 421 {
		t.Errorf("outside demo mode: login page for Host localhost: %d, want 421", st)
	}
}

// A login form is taken only from this central's own pages: a browser's
// Sec-Fetch-Site (same-origin or none, typed by the user) and, when it
// sends no such header, the Origin or else the Referer must be this
// central. A request without any of them comes from a program and is
// judged by its token. Refused posts answer 403 before the password is
// looked at; taken ones go on to it (401 for a wrong one).
func TestLoginFormOrigin(t *testing.T) {
	s, hs := openStaffCentral(t, central.DefaultConfig())
	b := newBrowser(t)
	_, page := b.do("GET", hs.URL+"/login", nil)
	token := csrfOf(t, page)
	for i, tc := range []struct {
		name    string
		headers []string
		want    int
	}{
		{"a program", nil, 401},
		{"same-origin", []string{"Sec-Fetch-Site: same-origin", "Origin: " + hs.URL}, 401},
		{"typed by the user", []string{"Sec-Fetch-Site: none"}, 401},
		{"cross-site, no Origin", []string{"Sec-Fetch-Site: cross-site"}, 403},
		{"same-site (another host of the domain)", []string{"Sec-Fetch-Site: same-site"}, 403},
		{"Origin of this central", []string{"Origin: " + hs.URL}, 401},
		{"Origin of another site", []string{"Origin: https://evil.example"}, 403},
		{"Origin of another site, Referer of this one", []string{"Origin: https://evil.example", "Referer: " + hs.URL + "/login"}, 403},
		{"Referer of this central", []string{"Referer: " + hs.URL + "/login"}, 401},
		{"Referer of another site", []string{"Referer: https://evil.example/login"}, 403},
		{"Origin null", []string{"Origin: null"}, 403},
	} {
		form := url.Values{"name": {"nobody" + string(rune('a'+i))}, "password": {"wrong battery 2026"}, "csrf": {token}}
		if st, _ := b.do("POST", hs.URL+"/login", form, tc.headers...); st != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, st, tc.want)
		}
	}
	// And the right password from the page itself logs in.
	if err := s.AddReviewer("frank", central.RoleReviewer, "correct battery 2026"); err != nil {
		t.Fatal(err)
	}
	form := url.Values{"name": {"frank"}, "password": {"correct battery 2026"}, "csrf": {token}}
	if st, _ := b.do("POST", hs.URL+"/login", form, "Sec-Fetch-Site: same-origin", "Origin: "+hs.URL); st != 303 {
		t.Errorf("login from the page: %d, want 303", st)
	}
}

// The session cookie lasts as long as the session (session_ttl), and
// logging out tells the browser to drop it at once.
func TestStaffCookieLifetime(t *testing.T) {
	cfg := central.DefaultConfig()
	s, hs := openStaffCentral(t, cfg)
	if err := s.AddReviewer("grace", central.RoleReviewer, "correct battery 2026"); err != nil {
		t.Fatal(err)
	}
	client := hs.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	b := newBrowser(t)
	_, page := b.do("GET", hs.URL+"/login", nil)
	u, _ := url.Parse(hs.URL)
	post := func(path string, form url.Values, cookies []*http.Cookie) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("POST", hs.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", hs.URL)
		for _, c := range cookies {
			req.AddCookie(c)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	staffCookie := func(resp *http.Response) *http.Cookie {
		t.Helper()
		for _, c := range resp.Cookies() {
			if c.Name == "examkiosk-staff" {
				return c
			}
		}
		t.Fatalf("%s: no staff cookie set (%v)", resp.Request.URL.Path, resp.Header["Set-Cookie"])
		return nil
	}
	resp := post("/login", url.Values{"name": {"grace"}, "password": {"correct battery 2026"}, "csrf": {csrfOf(t, page)}}, b.c.Jar.Cookies(u))
	if resp.StatusCode != 303 {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	session := staffCookie(resp)
	if want := int(cfg.SessionTTL.Seconds()); session.MaxAge != want || session.Value == "" {
		t.Errorf("session cookie Max-Age %d, want %d (session_ttl)", session.MaxAge, want)
	}
	b.c.Jar.SetCookies(u, []*http.Cookie{session})
	_, page = b.do("GET", hs.URL+"/review", nil)
	resp = post("/logout", url.Values{"csrf": {csrfOf(t, page)}}, b.c.Jar.Cookies(u))
	if resp.StatusCode != 303 {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	if c := staffCookie(resp); c.Value != "" || c.MaxAge >= 0 {
		t.Errorf("logout's staff cookie %q, Max-Age %d: want it deleted (Max-Age=0)", c.Value, c.MaxAge)
	}
}
