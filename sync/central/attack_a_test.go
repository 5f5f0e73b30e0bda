package central_test

// The attack suite, part A: one test per row of issue #10 it covers (1, 2,
// 4, 5, 7, 9), each doing what the attacker did and asserting that it now
// fails and that nothing changed.

import (
	"bytes"
	"encoding/json"
	"image"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"examkiosk/sync/central"
	"examkiosk/sync/kiosk"
	"examkiosk/sync/provider"
	"examkiosk/sync/provider/sim"
	"examkiosk/sync/testbed"
	"examkiosk/sync/wire"
)

// clock is a settable clock shared by a central and its kiosks.
type clock struct {
	mu  sync.Mutex
	off time.Duration
	// at, when set, stops the clock there (plus off): for a test whose
	// figures must not depend on how fast the machine runs it.
	at time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at.IsZero() {
		return c.at.Add(c.off)
	}
	return time.Now().Add(c.off)
}
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

// attackerKey is a provider key of the attacker's own (made once).
var attackerKey = sync.OnceValue(func() *sim.Provider {
	p, err := sim.New("demo-" + wire.ChannelAlipay)
	if err != nil {
		panic(err)
	}
	return p
})

// browser is a person's browser: cookies kept, forms read from pages.
type browser struct {
	t *testing.T
	c *http.Client
}

func newBrowser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// do sends a request; headers are "Name: value" pairs.
func (b *browser) do(method, u string, form url.Values, headers ...string) (int, string) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token in page:\n%s", page)
	}
	return m[1]
}

// kioskClient enrols a kiosk with the demo code and returns its client.
func kioskClient(t testing.TB, srv *central.Server, centralURL string, clk *clock) *kiosk.Client {
	t.Helper()
	cfg := kiosk.DefaultConfig()
	cfg.CentralURL = centralURL
	code, _, err := srv.NewEnrolmentCode(central.DemoCentreID) // DEMO enrols one kiosk only
	if err != nil {
		t.Fatal(err)
	}
	id, err := kiosk.Enroll(t.Context(), cfg, code, "attack", "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	opts := kiosk.Options{Logger: slog.New(slog.DiscardHandler)}
	if clk != nil {
		opts.Now = clk.now
	}
	c, err := kiosk.New(cfg, id, nil, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// underReview pushes one registration and returns its id.
func underReview(t *testing.T, c *testbed.Central) (rawDevice, string) {
	t.Helper()
	d := enrol(t, c)
	id := uuid.NewString()
	if st, _, data := d.do(call{method: "POST", path: "/v1/push", body: d.pushBody(7, id)}); st != 200 {
		t.Fatalf("push: %d %s", st, data)
	}
	return d, id
}

func regStatus(t *testing.T, s *central.Server, id string) central.Registration {
	t.Helper()
	regs, err := s.Registrations("")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range regs {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("registration %s not found", id)
	return central.Registration{}
}

func auditCount(t *testing.T, s *central.Server, action string) int {
	t.Helper()
	es, err := s.Audit(10000)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range es {
		if e.Action == action {
			n++
		}
	}
	return n
}

// Row 1: POST /pay/{order}/notify with no signature marked a registration
// paid. Now only a notification signed by the provider's key, for this
// central's app_id, the order's amount and a successful trade pays.
func TestAttack1PayNotifyUnsigned(t *testing.T) {
	c := testbed.StartCentral(t, central.DefaultConfig())
	s := c.Server()
	_, id := underReview(t, c)
	reg, err := s.Review(id, true, "")
	if err != nil {
		t.Fatal(err)
	}
	order := reg.OrderID
	b := newBrowser(t)
	unchanged := func(what string) {
		t.Helper()
		if r := regStatus(t, s, id); r.Status != central.StatusApproved {
			t.Fatalf("%s: registration is %s, want approved", what, r.Status)
		}
		if n := auditCount(t, s, "paid"); n != 0 {
			t.Fatalf("%s: %d payments recorded", what, n)
		}
	}

	// The attack as it was.
	if st, _ := b.do("POST", c.URL+"/pay/"+order+"/notify", url.Values{}); st < 400 || st >= 500 {
		t.Fatalf("old notify route: %d, want 4xx", st)
	}
	unchanged("old route")

	real := s.DemoProvider(wire.ChannelAlipay)
	notify := c.URL + "/pay/notify/alipay"
	post := func(what string, params url.Values) (int, string) {
		st, body, err := sim.Post(t.Context(), nil, notify, params)
		if err != nil {
			t.Fatal(err)
		}
		return st, body
	}
	good, err := real.PaymentNotification(order, 10000, provider.TradeSuccess)
	if err != nil {
		t.Fatal(err)
	}
	unsigned := provider.PaymentNotification{NotifyID: "n1", NotifyTime: time.Now(), AppID: real.AppID, OutTradeNo: order,
		TradeNo: "t1", TotalCents: 10000, TradeStatus: provider.TradeSuccess}.Params()
	forged, _ := attackerKey().PaymentNotification(order, 10000, provider.TradeSuccess)
	tampered := url.Values{}
	for k, v := range good {
		tampered[k] = v
	}
	tampered.Set("total_amount", "0.01")
	cheap, _ := real.PaymentNotification(order, 1, provider.TradeSuccess)
	otherApp := *real
	otherApp.AppID = "another-merchant"
	foreign, _ := otherApp.PaymentNotification(order, 10000, provider.TradeSuccess)
	doubled := url.Values{}
	for k, v := range good {
		doubled[k] = append([]string(nil), v...)
	}
	doubled["out_trade_no"] = append(doubled["out_trade_no"], "ord-other")
	for _, tt := range []struct {
		name   string
		params url.Values
	}{
		{"unsigned", unsigned},
		{"signed with the attacker's key", forged},
		{"amount changed after signing", tampered},
		{"signed for ¥0.01", cheap},
		{"another merchant's app_id", foreign},
		{"a parameter given twice", doubled},
	} {
		if st, body := post(tt.name, tt.params); st < 400 || st >= 500 || body == "success" {
			t.Errorf("%s: %d %q, want 4xx", tt.name, st, body)
		}
		unchanged(tt.name)
	}
	waiting, _ := real.PaymentNotification(order, 10000, provider.TradeWaiting)
	if st, body := post("waiting", waiting); st != 200 || body != "success" {
		t.Fatalf("WAIT_BUYER_PAY: %d %q", st, body)
	}
	unchanged("WAIT_BUYER_PAY")

	// The provider's real notification pays, and again changes nothing.
	for range 2 {
		if st, body := post("genuine", good); st != 200 || body != "success" {
			t.Fatalf("genuine notification: %d %q", st, body)
		}
	}
	if r := regStatus(t, s, id); r.Status != central.StatusPaid {
		t.Fatalf("after the genuine notification: %s", r.Status)
	}
	if n := auditCount(t, s, "paid"); n != 1 {
		t.Fatalf("%d payments recorded, want 1", n)
	}
}

// qrToken is the token of a QR session's link.
func qrToken(s wire.QRSession) string { return s.URL[strings.LastIndex(s.URL, "/")+1:] }

// Row 2: the QR confirm page took any name and ID number from whoever held
// the link, before any scan, with no CSRF token or Origin check, outside
// demo mode. Now, outside demo mode, only the provider's signed assertion
// confirms; the demo page needs its CSRF token, a same-origin request and a
// scanned session.
func TestAttack2QRConfirmForged(t *testing.T) {
	// A production central whose Alipay key is configured.
	prov, err := sim.New("2021000000000001")
	if err != nil {
		t.Fatal(err)
	}
	pem, _ := provider.MarshalPublicKey(prov.PublicKey())
	keyFile := filepath.Join(t.TempDir(), "alipay.pem")
	os.WriteFile(keyFile, pem, 0o600)
	cfg := central.DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.Alipay = central.ProviderConfig{AppID: prov.AppID, PublicKeyFile: keyFile}
	s, err := central.Open(cfg, central.WithLogger(testbed.Quiet()))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.SeedDemo(); err != nil { // centre and the loopback DEMO code
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	defer hs.Close()
	k := kioskClient(t, s, hs.URL, nil)
	ctx := t.Context()
	sess, err := k.StartQRLogin(ctx, wire.ChannelAlipay)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.StartQRLogin(ctx, wire.ChannelSocialSecurity); !kiosk.IsCode(err, wire.ErrCodeForbidden) {
		t.Fatalf("unconfigured channel: %v", err)
	}
	state := func() string {
		t.Helper()
		v, err := k.PollQRLogin(ctx, sess.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		if v.Identity != nil {
			t.Fatalf("identity handed out: %+v", v.Identity)
		}
		return v.State
	}
	b := newBrowser(t)
	// The attack as it was: the link holder posts a name and an ID number.
	link := hs.URL + "/qr/" + qrToken(sess) // public_url is the default here
	st, page := b.do("GET", link, nil)
	if st != 200 || strings.Contains(page, `name="id_number"`) {
		t.Fatalf("production QR page offers a form (%d):\n%s", st, page)
	}
	if st, _ := b.do("POST", link, url.Values{"name": {"攻击者"}, "id_number": {"11010519491231002X"}}); st != 404 {
		t.Fatalf("production confirm form: %d, want 404", st)
	}
	if got := state(); got != wire.QRWaiting {
		t.Fatalf("after the typed confirm: %s, want waiting", got)
	}
	// The provider endpoint: only the provider's key, and only after a scan.
	endpoint := hs.URL + "/provider/alipay/qrlogin"
	tok := qrToken(sess)
	confirm, _ := prov.Assertion(provider.MethodConfirm, tok, "张三", "11010519491231002X")
	forged, _ := attackerKey().Assertion(provider.MethodConfirm, tok, "攻击者", "11010519491231002X")
	forged.Set("app_id", prov.AppID)
	unsigned := provider.Assertion{AppID: prov.AppID, Method: provider.MethodConfirm, QRToken: tok, Name: "攻击者",
		IDNumber: "11010519491231002X", Timestamp: time.Now()}.Params()
	for _, tt := range []struct {
		name   string
		params url.Values
		want   int
	}{{"unsigned", unsigned, 403}, {"attacker's key", forged, 403}, {"genuine but not scanned", confirm, 409}} {
		if st, body, _ := sim.Post(ctx, nil, endpoint, tt.params); st != tt.want {
			t.Errorf("%s: %d %s, want %d", tt.name, st, body, tt.want)
		}
		if got := state(); got != wire.QRWaiting {
			t.Fatalf("%s: state %s, want waiting", tt.name, got)
		}
	}
	scan, _ := prov.Assertion(provider.MethodScan, tok, "", "")
	if st, body, _ := sim.Post(ctx, nil, endpoint, scan); st != 200 || !strings.Contains(body, central.DemoCentreName) {
		t.Fatalf("scan: %d %s", st, body)
	}
	if st, body, _ := sim.Post(ctx, nil, hs.URL+"/provider/social_security/qrlogin", confirm); st != 403 {
		t.Fatalf("assertion for another channel: %d %s", st, body)
	}
	if st, body, _ := sim.Post(ctx, nil, endpoint, confirm); st != 200 {
		t.Fatalf("genuine confirm: %d %s", st, body)
	}
	v, err := k.PollQRLogin(ctx, sess.ID, "")
	if err != nil || v.State != wire.QRConfirmed || v.Identity == nil || v.Identity.Name != "张三" || v.PasswordTicket == "" {
		t.Fatalf("after the provider's confirm: %+v %v", v, err)
	}

	// The demo page: CSRF token, same origin, scanned session.
	dc := testbed.StartCentral(t, central.DefaultConfig())
	dk := kioskClient(t, dc.Server(), dc.URL, nil)
	a, _ := dk.StartQRLogin(ctx, wire.ChannelAlipay)
	bSess, _ := dk.StartQRLogin(ctx, wire.ChannelAlipay)
	phone := newBrowser(t)
	st, page = phone.do("GET", a.URL, nil)
	if st != 200 || !strings.Contains(page, "演示") || !strings.Contains(page, central.DemoCentreName) {
		t.Fatalf("demo page (%d) does not say it is the demo:\n%s", st, page)
	}
	token := csrfOf(t, page)
	form := func(csrf string) url.Values {
		return url.Values{"name": {"攻击者"}, "id_number": {"11010519491231002X"}, "csrf": {csrf}}
	}
	demoState := func(id string) string {
		v, err := dk.PollQRLogin(ctx, id, "")
		if err != nil {
			t.Fatal(err)
		}
		return v.State
	}
	for _, tt := range []struct {
		name    string
		url     string
		csrf    string
		headers []string
		client  *browser
		want    int
	}{
		{"no CSRF token", a.URL, "", nil, phone, 403},
		{"cross-site post", a.URL, token, []string{"Origin: https://evil.example", "Sec-Fetch-Site: cross-site"}, phone, 403},
		{"another browser's token", a.URL, token, nil, newBrowser(t), 403},
		{"not scanned", bSess.URL, token, nil, phone, 409},
	} {
		if st, body := tt.client.do("POST", tt.url, form(tt.csrf), tt.headers...); st != tt.want {
			t.Errorf("demo %s: %d, want %d\n%s", tt.name, st, tt.want, body)
		}
	}
	if st := demoState(a.ID); st != wire.QRScanned {
		t.Fatalf("demo session after the attacks: %s", st)
	}
	if st := demoState(bSess.ID); st != wire.QRWaiting {
		t.Fatalf("unscanned demo session after the attacks: %s", st)
	}
	if st, body := phone.do("POST", a.URL, form(token), "Origin: "+dc.URL); st != 200 || !strings.Contains(body, "已确认") {
		t.Fatalf("demo confirm: %d\n%s", st, body)
	}
}

// Row 4: without admin_token the staff pages trusted any loopback caller,
// with no accounts, CSRF or Host check; a cross-site POST approved a
// registration. Now: named reviewers, sessions, CSRF, Host allow-list,
// decisions audited by name, and token-less access only in demo mode.
func TestAttack4StaffPages(t *testing.T) {
	cfg := central.DefaultConfig()
	cfg.DataDir = t.TempDir()
	s, err := central.Open(cfg, central.WithLogger(testbed.Quiet())) // not demo, no admin_token
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.SeedDemo()
	hs := httptest.NewServer(s.Handler())
	defer hs.Close()
	d := rawDeviceFor(t, hs.URL)
	id := uuid.NewString()
	if st, _, data := d.do(call{method: "POST", path: "/v1/push", body: d.pushBody(3, id)}); st != 200 {
		t.Fatalf("push: %d %s", st, data)
	}
	review := hs.URL + "/review/" + id
	approve := url.Values{"decision": {"approve"}}
	still := func(what string) {
		t.Helper()
		if r := regStatus(t, s, id); r.Status != central.StatusUnderReview {
			t.Fatalf("%s: registration is %s", what, r.Status)
		}
	}
	anon := newBrowser(t)
	// The attack as it was: a loopback caller, a cross-site form.
	if st, _ := anon.do("GET", hs.URL+"/review", nil); st != 401 {
		t.Fatalf("anonymous loopback GET /review: %d, want 401", st)
	}
	if st, _ := anon.do("POST", review, approve, "Origin: https://evil.example"); st != 401 {
		t.Fatalf("cross-site approve: %d, want 401", st)
	}
	body, _ := json.Marshal(map[string]string{"decision": "approve"})
	resp, err := http.Post(hs.URL+"/admin/registrations/"+id+"/review", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("anonymous API approve: %d", resp.StatusCode)
	}
	still("anonymous")

	// A named reviewer logs in.
	if err := s.AddReviewer("alice", central.RoleReviewer, "correct horse 2026"); err != nil {
		t.Fatal(err)
	}
	alice := newBrowser(t)
	_, page := alice.do("GET", hs.URL+"/login", nil)
	if st, _ := alice.do("POST", hs.URL+"/login", url.Values{"name": {"alice"}, "password": {"wrong horse 2026"}, "csrf": {csrfOf(t, page)}}); st != 401 {
		t.Fatalf("wrong password: %d", st)
	}
	_, page = alice.do("GET", hs.URL+"/login", nil)
	if st, _ := alice.do("POST", hs.URL+"/login", url.Values{"name": {"alice"}, "password": {"correct horse 2026"}, "csrf": {csrfOf(t, page)}}); st != 303 {
		t.Fatalf("login: %d", st)
	}
	st, page := alice.do("GET", hs.URL+"/review", nil)
	if st != 200 || !strings.Contains(page, "alice") {
		t.Fatalf("review page after login: %d", st)
	}
	token := csrfOf(t, page)
	withToken := url.Values{"decision": {"approve"}, "csrf": {token}}
	for _, tt := range []struct {
		name    string
		form    url.Values
		headers []string
		want    int
	}{
		{"cross-site with her cookie", withToken, []string{"Origin: https://evil.example", "Sec-Fetch-Site: cross-site"}, 403},
		{"same site without the token", approve, nil, 403},
		{"another Host", withToken, []string{"Host: evil.example"}, 421},
	} {
		if st, _ := alice.do("POST", review, tt.form, tt.headers...); st != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, st, tt.want)
		}
		still(tt.name)
	}
	// Guessing a reviewer's password: five free failures, then a lockout
	// that holds even for the right password.
	mallory := newBrowser(t)
	for i := range 7 {
		_, page := mallory.do("GET", hs.URL+"/login", nil)
		st, _ := mallory.do("POST", hs.URL+"/login", url.Values{"name": {"alice"}, "password": {"guess" + string(rune('a'+i)) + " 2026"}, "csrf": {csrfOf(t, page)}})
		if want := map[bool]int{true: 401, false: 429}[i < 6]; st != want {
			t.Fatalf("guess %d: %d, want %d", i, st, want)
		}
	}
	_, page = mallory.do("GET", hs.URL+"/login", nil)
	if st, _ := mallory.do("POST", hs.URL+"/login", url.Values{"name": {"alice"}, "password": {"correct horse 2026"}, "csrf": {csrfOf(t, page)}}); st != 429 {
		t.Fatalf("right password during the lockout: %d", st)
	}
	if st, _ := alice.do("GET", hs.URL+"/devices", nil); st != 403 {
		t.Fatalf("reviewer on an admin page: %d, want 403", st)
	}
	// Her own decision goes through, under her name.
	if st, _ := alice.do("POST", review, withToken, "Origin: "+hs.URL); st != 303 {
		t.Fatalf("approve: %d", st)
	}
	if r := regStatus(t, s, id); r.Status != central.StatusApproved || r.ReviewedBy != "alice" {
		t.Fatalf("after approval: %+v", r)
	}
	es, _ := s.Audit(100)
	found := false
	for _, e := range es {
		found = found || (e.Action == "approve" && e.Actor == "alice" && e.Target == id)
	}
	if !found {
		t.Fatalf("approval not audited with the reviewer's name: %+v", es)
	}
}

// rawDeviceFor enrols a raw device with a central at url.
func rawDeviceFor(t *testing.T, u string) rawDevice {
	return enrol(t, &testbed.Central{URL: u})
}

// Row 5: anyone with a victim's ID number set the first password under any
// name, the owner was locked out for good, and the login answer told which
// ID numbers have accounts. Now a password is set only with the ticket of a
// provider-verified QR login, forgetting it re-verifies the same way, and
// unknown and wrong answer alike.
func TestAttack5PasswordClaim(t *testing.T) {
	c := testbed.StartCentral(t, central.DefaultConfig())
	s := c.Server()
	ctx := t.Context()
	k := kioskClient(t, c.Server(), c.URL, nil)
	const victim = "11010519491231002X"
	captcha := func() (string, string) {
		cp, err := k.Captcha(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return cp.ID, s.CaptchaAnswer(cp.ID)
	}
	setPW := func(ticket, idn, name, pw string) (wire.AccountLoginResponse, error) {
		id, a := captcha()
		return k.SetPassword(ctx, wire.SetPasswordRequest{Ticket: ticket, IDNumber: idn, Name: name, NewPassword: pw, CaptchaID: id, CaptchaAnswer: a})
	}
	login := func(k *kiosk.Client, idn, pw string) (wire.AccountLoginResponse, error) {
		cp, err := k.Captcha(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return k.AccountLogin(ctx, wire.AccountLoginRequest{IDNumber: idn, Password: pw, CaptchaID: cp.ID, CaptchaAnswer: s.CaptchaAnswer(cp.ID)})
	}
	// The attack as it was: claim the victim's account without any proof.
	if _, err := setPW("", victim, "攻击者", "Attacker2026"); !kiosk.IsCode(err, wire.ErrCodeForbidden) {
		t.Fatalf("password set without a ticket: %v", err)
	}
	if _, err := setPW("made-up-ticket", victim, "攻击者", "Attacker2026"); !kiosk.IsCode(err, wire.ErrCodeForbidden) {
		t.Fatalf("password set with a made-up ticket: %v", err)
	}
	unknown, err := login(k, victim, "Attacker2026")
	if err != nil || unknown.Status != wire.LoginWrongCredential || unknown.Identity != nil {
		t.Fatalf("no account was made, yet: %+v %v", unknown, err)
	}
	// The victim verifies with Alipay and sets her password.
	ticket := qrLogin(t, c, k, "王芳", victim)
	if r, err := setPW(ticket, victim, "", "Victim2026ok"); err != nil || r.Status != wire.LoginOK || r.Identity.Name != "王芳" {
		t.Fatalf("set password after a QR login: %+v %v", r, err)
	}
	if _, err := setPW(ticket, victim, "", "Attacker2026"); !kiosk.IsCode(err, wire.ErrCodeForbidden) {
		t.Fatalf("ticket reused: %v", err)
	}
	// Another kiosk cannot use a ticket; a ticket for one ID sets no other.
	other := kioskClient(t, c.Server(), c.URL, nil)
	t2 := qrLogin(t, c, k, "王芳", victim)
	cp, _ := other.Captcha(ctx)
	if _, err := other.SetPassword(ctx, wire.SetPasswordRequest{Ticket: t2, NewPassword: "Attacker2026", CaptchaID: cp.ID, CaptchaAnswer: s.CaptchaAnswer(cp.ID)}); !kiosk.IsCode(err, wire.ErrCodeForbidden) {
		t.Fatalf("ticket from another kiosk: %v", err)
	}
	if _, err := setPW(t2, "110101197001010008", "", "Attacker2026"); !kiosk.IsCode(err, wire.ErrCodeForbidden) {
		t.Fatalf("ticket for another ID number: %v", err)
	}
	if r, err := login(k, victim, "Victim2026ok"); err != nil || r.Status != wire.LoginOK {
		t.Fatalf("victim's login: %+v %v", r, err)
	}
	// Unknown ID and wrong password answer alike.
	wrong, _ := login(k, victim, "Wrong2026pw")
	none, _ := login(k, "110101197001010008", "Wrong2026pw")
	if wrong != none {
		t.Fatalf("wrong password %+v and unknown ID %+v answer differently", wrong, none)
	}
	// Forgot password: verify again, set a new one.
	t3 := qrLogin(t, c, k, "王芳", victim)
	if r, err := setPW(t3, "", "", "Renewed2026pw"); err != nil || r.Status != wire.LoginOK {
		t.Fatalf("reset: %+v %v", r, err)
	}
	if r, _ := login(k, victim, "Victim2026ok"); r.Status != wire.LoginWrongCredential {
		t.Fatalf("old password after a reset: %+v", r)
	}
	if r, _ := login(k, victim, "Renewed2026pw"); r.Status != wire.LoginOK {
		t.Fatalf("new password: %+v", r)
	}
}

// qrLogin runs a QR login through the simulated provider's signed
// assertions and returns the password ticket the kiosk received.
func qrLogin(t *testing.T, c *testbed.Central, k *kiosk.Client, name, idn string) string {
	t.Helper()
	ctx := t.Context()
	sess, err := k.StartQRLogin(ctx, wire.ChannelAlipay)
	if err != nil {
		t.Fatal(err)
	}
	p := c.Server().DemoProvider(wire.ChannelAlipay)
	endpoint := c.URL + "/provider/alipay/qrlogin"
	for _, m := range []string{provider.MethodScan, provider.MethodConfirm} {
		params, err := p.Assertion(m, qrToken(sess), name, idn)
		if err != nil {
			t.Fatal(err)
		}
		if st, body, err := sim.Post(ctx, nil, endpoint, params); err != nil || st != 200 {
			t.Fatalf("%s: %d %s %v", m, st, body, err)
		}
	}
	v, err := k.PollQRLogin(ctx, sess.ID, "")
	if err != nil || v.State != wire.QRConfirmed || v.PasswordTicket == "" {
		t.Fatalf("QR login: %+v %v", v, err)
	}
	return v.PasswordTicket
}

// templateRead is the attacker's solver: the captcha's 5×7 font at its
// scale, matched at every offset of each digit's slot.
func templateRead(img image.Image) string {
	font := central.DigitFont()
	bnd := img.Bounds()
	ink := make([]bool, bnd.Dx()*bnd.Dy())
	for y := range bnd.Dy() {
		for x := range bnd.Dx() {
			r, g, b, _ := img.At(x, y).RGBA()
			ink[y*bnd.Dx()+x] = (r+g+b)/3>>8 < 130
		}
	}
	dark := func(x, y int) bool {
		return x >= 0 && y >= 0 && x < bnd.Dx() && y < bnd.Dy() && ink[y*bnd.Dx()+x]
	}
	out := make([]byte, 4)
	for i := range 4 {
		best, bestScore := 0, -1<<30
		for ox := 8 + i*36; ox <= 22+i*36; ox++ {
			for oy := 0; oy <= 20; oy++ {
				for d := range 10 {
					score := 0
					for row := range 7 {
						for col := range 5 {
							on := font[d][row][col] == '1'
							for _, p := range [][2]int{{1, 1}, {3, 3}, {4, 5}} {
								if dark(ox+col*6+p[0], oy+row*6+p[1]) == on {
									score++
								} else {
									score--
								}
							}
						}
					}
					if score > bestScore {
						best, bestScore = d, score
					}
				}
			}
		}
		out[i] = byte('0' + best)
	}
	return string(out)
}

// Row 7: template matching read 783 of 783 captchas, and 783 wrong
// passwords were followed by the right one, accepted. Now the template
// match reads almost none, and the account is locked long before.
func TestAttack7CaptchaAndGuessing(t *testing.T) {
	const n = 100
	solved := map[bool]int{}
	for i := range n {
		digits := []byte{byte('0' + i%10), byte('0' + (i*7+3)%10), byte('0' + (i*3+1)%10), byte('0' + (i*9+5)%10)}
		for _, distort := range []bool{false, true} {
			b, err := central.RenderCaptcha(string(digits), distort)
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if templateRead(img) == string(digits) {
				solved[distort]++
			}
		}
	}
	t.Logf("template match solved %d/%d plain, %d/%d served captchas", solved[false], n, solved[true], n)
	if solved[false] < n*9/10 {
		t.Fatalf("the attacker's solver reads only %d/%d of the plain font: it is no attacker", solved[false], n)
	}
	if solved[true] > n/10 {
		t.Fatalf("template match solved %d/%d served captchas", solved[true], n)
	}

	// The clock stands still but for the test's own advances: the 783
	// guesses take over a minute of real time on a loaded machine, which
	// ended the first one-minute lockout mid-loop and let a seventh guess
	// be checked ("7 guesses checked, want 6" at load 20).
	clk := &clock{at: time.Now()}
	c := testbed.StartCentral(t, central.DefaultConfig(), central.WithClock(clk.now))
	s := c.Server()
	ctx := t.Context()
	k := kioskClient(t, c.Server(), c.URL, clk)
	const victim = "11010519491231002X"
	ticket := qrLogin(t, c, k, "王芳", victim)
	cp, _ := k.Captcha(ctx)
	if _, err := k.SetPassword(ctx, wire.SetPasswordRequest{Ticket: ticket, NewPassword: "Victim2026ok", CaptchaID: cp.ID, CaptchaAnswer: s.CaptchaAnswer(cp.ID)}); err != nil {
		t.Fatal(err)
	}
	login := func(k *kiosk.Client, idn, pw string) (wire.AccountLoginResponse, error) {
		cp, err := k.Captcha(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return k.AccountLogin(ctx, wire.AccountLoginRequest{IDNumber: idn, Password: pw, CaptchaID: cp.ID, CaptchaAnswer: s.CaptchaAnswer(cp.ID)})
	}
	// The attack as it was: 783 wrong guesses, then the right password.
	wrong, throttled := 0, 0
	for i := range 783 {
		r, err := login(k, victim, "Guess"+string(rune('a'+i%26))+"2026")
		switch {
		case kiosk.IsCode(err, wire.ErrCodeThrottled):
			throttled++
		case err == nil && r.Status == wire.LoginWrongCredential:
			wrong++
		default:
			t.Fatalf("guess %d: %+v %v", i, r, err)
		}
	}
	if wrong != 6 || throttled != 777 { // five free failures, the sixth locks
		t.Fatalf("%d guesses checked and %d throttled, want 6 and 777", wrong, throttled)
	}
	if _, err := login(k, victim, "Victim2026ok"); !kiosk.IsCode(err, wire.ErrCodeThrottled) {
		t.Fatalf("the right password during the lockout: %v", err)
	}
	// The lockout ends, and grows with the next failure.
	clk.advance(61 * time.Second)
	if r, err := login(k, victim, "Wrong2026pw"); err != nil || r.Status != wire.LoginWrongCredential {
		t.Fatalf("after the first lockout: %+v %v", r, err)
	}
	clk.advance(61 * time.Second)
	if _, err := login(k, victim, "Victim2026ok"); !kiosk.IsCode(err, wire.ErrCodeThrottled) {
		t.Fatalf("the second lockout did not grow: %v", err)
	}
	clk.advance(2 * time.Minute)
	if r, err := login(k, victim, "Victim2026ok"); err != nil || r.Status != wire.LoginOK {
		t.Fatalf("after the lockout: %+v %v", r, err)
	}
	// One kiosk trying many ID numbers is locked as a whole.
	k2 := kioskClient(t, c.Server(), c.URL, clk)
	for i := range 31 { // thirty free failures, the 31st locks the kiosk
		if r, err := login(k2, testbed.IDNumber(100+i), "Guess2026pw"); err != nil || r.Status != wire.LoginWrongCredential {
			t.Fatalf("spray %d: %+v %v", i, r, err)
		}
	}
	if _, err := login(k2, victim, "Victim2026ok"); !kiosk.IsCode(err, wire.ErrCodeThrottled) {
		t.Fatalf("a spraying kiosk is not throttled: %v", err)
	}
	if r, err := login(k, victim, "Victim2026ok"); err != nil || r.Status != wire.LoginOK {
		t.Fatalf("another kiosk is not affected: %+v %v", r, err)
	}
}

// Row 9: a kiosk-supplied id "../admin/devices/<id>/revoke" reached a
// review-page link unescaped and turned Approve into a revocation. Now an id
// is one escaped path segment.
func TestAttack9ReviewLinkEscaping(t *testing.T) {
	c := testbed.StartCentral(t, central.DefaultConfig())
	s := c.Server()
	d := enrol(t, c)
	evil := "../admin/devices/" + d.id.DeviceID + "/revoke"
	if err := s.PutRegistrationRecord(central.Registration{ID: evil, Revision: 1, DeviceID: d.id.DeviceID, Name: "x",
		Status: central.StatusUnderReview, ReceivedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	st, page := b.do("GET", c.URL+"/review", nil)
	if st != 200 {
		t.Fatalf("review page: %d", st)
	}
	if strings.Contains(page, `action="/review/../`) || strings.Contains(page, `src="/admin/registrations/../`) {
		t.Fatalf("an id reached a link unescaped:\n%s", page)
	}
	m := regexp.MustCompile(`action="(/review/[^"]*)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no review form:\n%s", page)
	}
	// The reviewer presses Approve on the row, as a browser resolves it.
	target, _ := url.Parse(c.URL)
	ref, _ := url.Parse(strings.ReplaceAll(m[1], "&amp;", "&"))
	b.do("POST", target.ResolveReference(ref).String(), url.Values{"decision": {"approve"}, "csrf": {csrfOf(t, page)}}, "Origin: "+c.URL)
	devs, err := s.Devices()
	if err != nil {
		t.Fatal(err)
	}
	for _, dv := range devs {
		if dv.ID == d.id.DeviceID && dv.Revoked {
			t.Fatal("the approve button revoked the kiosk")
		}
	}
	if auditCount(t, s, "revoke") != 0 {
		t.Fatal("a revocation was audited")
	}
}
