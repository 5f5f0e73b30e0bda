package central

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"examkiosk/sync/wire"
)

// Candidate accounts at their limits (accounts.go): the captcha's and the
// password ticket's lifetimes to the nanosecond, the throttled answer's
// Retry-After and minutes, the password rule's edges, the masked ID number
// of the logs, and no error logged by a login that goes as it should.

// acctClock is a clock the test moves.
type acctClock struct {
	mu sync.Mutex
	at time.Time
}

func (c *acctClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.at }
func (c *acctClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at = c.at.Add(d)
}

// acctErrors records the messages the server logs at level ERROR: an
// operator alerts on them, so a login that goes as it should logs none.
type acctErrors struct {
	mu   sync.Mutex
	msgs []string
}

func (h *acctErrors) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelError }
func (h *acctErrors) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.msgs = append(h.msgs, r.Message)
	return nil
}
func (h *acctErrors) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *acctErrors) WithGroup(string) slog.Handler      { return h }

func (h *acctErrors) none(t *testing.T) {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.msgs) > 0 {
		t.Errorf("errors logged: %q", h.msgs)
	}
}

// acctServer opens a central on a temporary store with a clock the test
// moves and a logger that records errors.
func acctServer(t *testing.T) (*Server, *acctClock, *acctErrors) {
	t.Helper()
	errs := &acctErrors{}
	s, clk := acctOpen(t, DefaultConfig(), errs)
	return s, clk, errs
}

// acctOpen opens a central with cfg on a temporary store, a clock the
// test moves (from 2026-05-10 09:00 UTC) and the log handler h.
func acctOpen(t *testing.T, cfg Config, h slog.Handler) (*Server, *acctClock) {
	t.Helper()
	cfg.DataDir = t.TempDir()
	clk := &acctClock{at: time.Date(2026, 5, 10, 9, 0, 0, 0, time.UTC)}
	s, err := Open(cfg, WithClock(clk.now), WithLogger(slog.New(h)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, clk
}

// acctCall runs an account handler for device dev with body v.
func acctCall(t *testing.T, h func(http.ResponseWriter, *http.Request, string, []byte), dev string, v any) *httptest.ResponseRecorder {
	t.Helper()
	body, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	h(w, httptest.NewRequest(http.MethodPost, "/v1/account", nil), dev, body)
	return w
}

// acctCaptcha fetches a captcha from the handler and returns it with its answer.
func acctCaptcha(t *testing.T, s *Server) (wire.Captcha, string) {
	t.Helper()
	w := httptest.NewRecorder()
	s.handleCaptcha(w, httptest.NewRequest(http.MethodGet, "/v1/account/captcha", nil), "k1", nil)
	var c wire.Captcha
	if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &c) != nil || c.ID == "" || len(c.PNG) == 0 {
		t.Fatalf("captcha: %d %s", w.Code, w.Body.String())
	}
	return c, s.CaptchaAnswer(c.ID)
}

// A captcha answers for five minutes to the nanosecond, once; the kiosk
// is told when it expires.
func TestCaptchaLifetime(t *testing.T) {
	s, clk, errs := acctServer(t)
	t0 := clk.now()
	c, a := acctCaptcha(t, s)
	if !c.ExpiresAt.Equal(t0.Add(5 * time.Minute)) {
		t.Fatalf("captcha expires at %s, want %s (5 min)", c.ExpiresAt, t0.Add(5*time.Minute))
	}
	clk.add(5 * time.Minute)
	if !s.checkCaptcha(c.ID, " "+a+" ") {
		t.Fatal("captcha refused at exactly 5 min")
	}
	if s.checkCaptcha(c.ID, a) {
		t.Fatal("captcha accepted twice")
	}
	c, a = acctCaptcha(t, s)
	clk.add(5*time.Minute + time.Nanosecond)
	if s.checkCaptcha(c.ID, a) {
		t.Fatal("captcha accepted past 5 min")
	}
	c, a = acctCaptcha(t, s)
	if s.checkCaptcha(c.ID, a+"1") || s.checkCaptcha(c.ID, a) {
		t.Fatal("a wrong answer must use the captcha up")
	}
	errs.none(t)
}

// A password ticket is the verifying kiosk's for ten minutes to the
// nanosecond: another kiosk's attempt neither takes nor spends it.
func TestPasswordTicketLifetime(t *testing.T) {
	s, clk, errs := acctServer(t)
	id := wire.Identity{Name: "赵六", IDNumber: "11010519491231002X", Source: "alipay_qr"}
	tk := s.newTicket(id, "k1", clk.now())
	if tk == "" {
		t.Fatal("no ticket")
	}
	if _, ok := s.takeTicket(tk, "k2"); ok {
		t.Fatal("another kiosk took the ticket")
	}
	clk.add(10 * time.Minute)
	if got, ok := s.takeTicket(tk, "k1"); !ok || got.Identity != id || got.Device != "k1" {
		t.Fatalf("ticket at exactly 10 min: %+v %v", got, ok)
	}
	if _, ok := s.takeTicket(tk, "k1"); ok {
		t.Fatal("ticket taken twice")
	}
	tk = s.newTicket(id, "k1", clk.now())
	clk.add(10*time.Minute + time.Nanosecond)
	if _, ok := s.takeTicket(tk, "k1"); ok {
		t.Fatal("ticket taken past 10 min")
	}
	errs.none(t)
}

// The throttled answer: HTTP 429 with Retry-After one second past the
// lock (a kiosk that waits that long is let in) and the minutes to wait in
// the message; a login that is not a valid ID number counts against the
// kiosk and answers as a wrong password does.
func TestAccountLoginThrottledAnswer(t *testing.T) {
	s, clk, errs := acctServer(t)
	login := func(idn, pw string) *httptest.ResponseRecorder {
		c, a := acctCaptcha(t, s)
		return acctCall(t, s.handleAccountLogin, "k1", wire.AccountLoginRequest{IDNumber: idn, Password: pw, CaptchaID: c.ID, CaptchaAnswer: a})
	}
	wrong := func(w *httptest.ResponseRecorder) bool {
		var r wire.AccountLoginResponse
		return w.Code == http.StatusOK && json.Unmarshal(w.Body.Bytes(), &r) == nil && r.Status == wire.LoginWrongCredential && r.Identity == nil
	}
	if w := login("110105194912310021", "Exam2026pass"); !wrong(w) { // a wrong check character
		t.Fatalf("invalid ID number: %d %s", w.Code, w.Body.String())
	}
	if st, err := s.throttleState(tkDevice("k1"), tkID("110105194912310021")); err != nil || st[0].Failures != 1 || st[1].Failures != 0 {
		t.Fatalf("invalid ID number counted as %+v, %v; want one failure of the kiosk only", st, err)
	}
	if w := login("11010519491231002X", strings.Repeat("a1", 64)+"b"); !wrong(w) { // 129 characters
		t.Fatalf("overlong password: %d %s", w.Code, w.Body.String())
	}
	const idn = "11010519491231002X" // no account: the ID's 5 free failures, then 1 min
	for i := range 4 {
		if w := login(idn, "Exam2026pass"); !wrong(w) {
			t.Fatalf("failure %d: %d %s", i+2, w.Code, w.Body.String())
		}
	}
	if w := login(idn, "Exam2026pass"); !wrong(w) { // the 6th: locks for a minute
		t.Fatalf("6th failure: %d %s", w.Code, w.Body.String())
	}
	for _, tt := range []struct {
		after      time.Duration
		retryAfter string
		minutes    string
	}{
		{0, "61", "请1分钟后再试"},
		{30 * time.Second, "31", "请1分钟后再试"},
		{29*time.Second + 500*time.Millisecond, "1", "请1分钟后再试"},
	} {
		clk.add(tt.after)
		w := login(idn, "Exam2026pass")
		var e wire.ErrorResponse
		if w.Code != http.StatusTooManyRequests || json.Unmarshal(w.Body.Bytes(), &e) != nil || e.Code != wire.ErrCodeThrottled {
			t.Fatalf("locked login: %d %s", w.Code, w.Body.String())
		}
		if got := w.Header().Get("Retry-After"); got != tt.retryAfter {
			t.Errorf("Retry-After %q, want %q", got, tt.retryAfter)
		}
		if !strings.Contains(e.Message, tt.minutes) {
			t.Errorf("message %q, want %q", e.Message, tt.minutes)
		}
	}
	clk.add(500 * time.Millisecond) // the lock's end: let in (and refused)
	if w := login(idn, "Exam2026pass"); !wrong(w) {
		t.Fatalf("after the lock: %d %s", w.Code, w.Body.String())
	}
	errs.none(t)
}

// Setting a password: a ticket for one person does not set another's; the
// person then logs in with it, and nothing is logged as an error.
func TestSetPasswordOnlyForTheTicketsIdentity(t *testing.T) {
	s, clk, errs := acctServer(t)
	id := wire.Identity{Name: "赵六", IDNumber: "11010519491231002X", Source: "alipay_qr"}
	set := func(ticket, idn, pw string) *httptest.ResponseRecorder {
		c, a := acctCaptcha(t, s)
		return acctCall(t, s.handleSetPassword, "k1", wire.SetPasswordRequest{Ticket: ticket, IDNumber: idn, NewPassword: pw, CaptchaID: c.ID, CaptchaAnswer: a})
	}
	if w := set(s.newTicket(id, "k1", clk.now()), "110101199003070011", "Exam2026pass"); w.Code != http.StatusForbidden {
		t.Fatalf("another person's ID number: %d %s", w.Code, w.Body.String())
	}
	if _, err := s.getAccount(id.IDNumber); err == nil {
		t.Fatal("account set by a refused request")
	}
	if w := set(s.newTicket(id, "k1", clk.now()), "", "Exam2026pass"); w.Code != http.StatusOK {
		t.Fatalf("set password: %d %s", w.Code, w.Body.String())
	}
	c, a := acctCaptcha(t, s)
	w := acctCall(t, s.handleAccountLogin, "k1", wire.AccountLoginRequest{IDNumber: strings.ToLower(id.IDNumber), Password: "Exam2026pass", CaptchaID: c.ID, CaptchaAnswer: a})
	var r wire.AccountLoginResponse
	if json.Unmarshal(w.Body.Bytes(), &r) != nil || r.Status != wire.LoginOK || r.Identity == nil || r.Identity.IDNumber != id.IDNumber || r.Identity.Name != id.Name {
		t.Fatalf("login: %d %s", w.Code, w.Body.String())
	}
	errs.none(t)
}

// The logs name an ID number by its region and check character only.
func TestMaskID(t *testing.T) {
	for in, want := range map[string]string{
		"11010519491231002X": "110105**********2X",
		"1101051949":         "110105**49",
		"110105194":          "***",
		"":                   "***",
	} {
		if got := maskID(in); got != want {
			t.Errorf("maskID(%q) = %q, want %q", in, got, want)
		}
	}
}

// The password rule at its edges: every digit and letter counts (a
// password whose only digit is 0 or 9, whose only letter is a, z, A or Z),
// 8 and 64 characters but not 7 or 65, a password of zxcvbn score exactly
// 2 but not 1, and one built on the person's own (Latin-script) name.
func TestPasswordRuleEdges(t *testing.T) {
	const idn = "11010519491231002X"
	long := strings.Repeat("Kx9mT2vLqW", 7)
	for _, tt := range []struct {
		pw   string
		ok   bool
		name string
	}{
		{"Zebra0Quilt", true, "only digit 0"},
		{"Mango9Fjord", true, "only digit 9"},
		{"a8264071953", true, "only letter a"},
		{"z8264071953", true, "only letter z"},
		{"A8264071953", true, "only letter A"},
		{"Z8264071953", true, "only letter Z"},
		{"82640719530", false, "digits only"},
		{"q7Vx2mKp", true, "8 characters, score 2"},
		{"q7Vx2mK", false, "7 characters"},
		{long[:64], true, "64 characters"},
		{long[:65], false, "65 characters"},
		{"Monkey2026", false, "score 1"},
		{"Nurlanbek2026", false, "the person's name"},
	} {
		if got := passwordProblem(tt.pw, idn, " Nurlanbek "); (got == "") != tt.ok {
			t.Errorf("%q (%s): problem %q, want ok=%v", tt.pw, tt.name, got, tt.ok)
		}
	}
	if got := passwordProblem("Nurlanbek2026", idn, "赵六"); got != "" {
		t.Errorf("Nurlanbek2026 for another person: %q", got)
	}
}
