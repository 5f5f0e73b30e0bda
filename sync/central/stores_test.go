package central_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"examkiosk/sync/central"
	"examkiosk/sync/central/store/storetest"
	"examkiosk/sync/provider"
	"examkiosk/sync/provider/sim"
	"examkiosk/sync/testbed"
	"examkiosk/sync/wire"
)

// The central's tests run on the store of $EXAMKIOSK_CENTRAL_STORE (bolt
// when unset); those through testbed.EachStore run on both. PostgreSQL
// tests share one throwaway cluster, a fresh database each.
func TestMain(m *testing.M) { storetest.Main(m) }

// Row 8 on PostgreSQL: every value the database holds (a dump of the kv
// table and of the photos beside it in kv_blob, as a stolen backup would
// have them) reveals no personal data.
func TestPostgresHoldsNoPlainPersonalData(t *testing.T) {
	cfg := central.DefaultConfig()
	testbed.UseStore(t, &cfg, storetest.Postgres)
	c := testbed.StartCentral(t, cfg)
	d := enrol(t, c)
	photo := testbed.Photo(320, 440, 90, 8)
	r := testbed.Registration(testbed.RegID("pg8"), 1, d.id.DeviceID, testbed.IDNumber(8), photo)
	r.Name, r.Phone = "保密考生乙", "13912345679"
	if res := d.pushRegs(r); res[0].Status != wire.StatusAccepted {
		t.Fatalf("push: %+v", res)
	}
	c.Stop()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, cfg.Database)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT bucket || key || value FROM kv UNION ALL SELECT id || value FROM kv_blob")
	if err != nil {
		t.Fatal(err)
	}
	var dump []byte
	n := 0
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			t.Fatal(err)
		}
		dump = append(dump, b...)
		n++
	}
	if rows.Err() != nil || n < 5 {
		t.Fatalf("dumped %d rows (%v): the test reads nothing", n, rows.Err())
	}
	for what, s := range map[string][]byte{"name": []byte(r.Name), "ID number": []byte(r.IDNumber), "phone": []byte(r.Phone),
		"photo": photo[len(photo)/2 : len(photo)/2+64]} {
		if bytes.Contains(dump, s) {
			t.Errorf("the database holds the %s in the clear", what)
		}
	}
}

// Two central nodes on one PostgreSQL serve the same kiosk: a device
// enrolled on one is known to the other, a request replayed to the other
// node is refused (the nonce is shared), a review on one reaches the kiosk
// through the other, a captcha fetched from one is checked (once) by the
// other, and a QR login moves across them.
func TestTwoNodesOnePostgres(t *testing.T) {
	cfg := central.DefaultConfig()
	testbed.UseStore(t, &cfg, storetest.Postgres)
	a := testbed.StartCentral(t, cfg)
	b := testbed.StartCentral(t, cfg) // same database, same key directory
	d := enrol(t, a)
	onB := d
	onB.url = b.URL

	body := d.pushBody(0, "two-1")
	var first *http.Request
	if st, _, data := d.do(call{method: "POST", path: "/v1/push", body: body, mutate: func(r *http.Request) { first = r.Clone(context.Background()) }}); st != 200 {
		t.Fatalf("push to node A: %d %s", st, data)
	}
	st, er, _ := onB.do(call{method: "POST", path: "/v1/push", body: body, mutate: func(r *http.Request) {
		r.Host = first.Host // as a load balancer in front of both would pass it
		for _, h := range []string{wire.HeaderTimestamp, wire.HeaderNonce, wire.HeaderSignature} {
			r.Header.Set(h, first.Header.Get(h))
		}
	}})
	if st != 401 || er.Code != wire.ErrCodeNonceReused {
		t.Fatalf("request replayed to node B: %d %q, want 401 %s", st, er.Code, wire.ErrCodeNonceReused)
	}
	if st, _, data := onB.do(call{method: "POST", path: "/v1/push", body: onB.pushBody(1, "two-2")}); st != 200 {
		t.Fatalf("push to node B: %d %s", st, data)
	}
	for _, n := range []*testbed.Central{a, b} {
		if c, err := n.Server().RevisionCount(); err != nil || c != 2 {
			t.Fatalf("node %s holds %d revisions (%v), want 2", n.URL, c, err)
		}
	}
	if _, err := a.Server().Review(testbed.RegID("two-2"), true, ""); err != nil {
		t.Fatal(err)
	}
	st, _, data := onB.do(call{method: "GET", path: "/v1/pull"})
	var p wire.Pull
	if st != 200 || json.Unmarshal(data, &p) != nil {
		t.Fatalf("pull from node B: %d %s", st, data)
	}
	approved := false
	for _, u := range p.Updates {
		approved = approved || (u.RegistrationID == testbed.RegID("two-2") && u.Status == central.StatusApproved)
	}
	if !approved {
		t.Fatalf("node B's pull lacks node A's approval: %+v", p.Updates)
	}

	st, _, data = d.do(call{method: "GET", path: "/v1/captcha"})
	var cp wire.Captcha
	if st != 200 || json.Unmarshal(data, &cp) != nil || cp.ID == "" {
		t.Fatalf("captcha from node A: %d", st)
	}
	answer := a.Server().CaptchaAnswer(cp.ID)
	login := func(dev rawDevice) string {
		req, _ := json.Marshal(wire.AccountLoginRequest{IDNumber: testbed.IDNumber(77), Password: "Wrong-but-long-1", CaptchaID: cp.ID, CaptchaAnswer: answer})
		_, er, _ := dev.do(call{method: "POST", path: "/v1/account/login", body: req})
		return er.Code
	}
	if code := login(onB); code == wire.ErrCodeCaptcha {
		t.Fatal("node B refused node A's captcha")
	}
	if code := login(d); code != wire.ErrCodeCaptcha {
		t.Fatalf("the captcha was accepted twice (second use on node A: %q)", code)
	}

	// A QR login started on node A: the provider reaches node B, and a long
	// poll waiting on node A sees it; the identity is handed out once.
	req, _ := json.Marshal(wire.QRLoginRequest{Channel: wire.ChannelAlipay})
	st, _, data = d.do(call{method: "POST", path: "/v1/qr/sessions", body: req})
	var sess wire.QRSession
	if st != 200 || json.Unmarshal(data, &sess) != nil {
		t.Fatalf("QR session on node A: %d %s", st, data)
	}
	polled := make(chan wire.QRSession, 1)
	go func() {
		_, _, data := d.do(call{method: "GET", path: "/v1/qr/sessions/" + sess.ID + "?state=waiting&wait=10s"})
		var v wire.QRSession
		json.Unmarshal(data, &v)
		polled <- v
	}()
	time.Sleep(100 * time.Millisecond)
	prov := b.Server().DemoProvider(wire.ChannelAlipay)
	token := sess.URL[strings.LastIndex(sess.URL, "/")+1:]
	assert := func(n *testbed.Central, method, name, idn string) {
		params, err := prov.Assertion(method, token, name, idn)
		if err != nil {
			t.Fatal(err)
		}
		if st, body, err := sim.Post(t.Context(), nil, n.URL+"/provider/alipay/qrlogin", params); err != nil || st != 200 {
			t.Fatalf("%s on %s: %d %s %v", method, n.URL, st, body, err)
		}
	}
	start := time.Now()
	assert(b, provider.MethodScan, "", "")
	select {
	case v := <-polled:
		if v.State != wire.QRScanned {
			t.Fatalf("node A's long poll answered %q, want scanned", v.State)
		}
		t.Logf("node A's long poll saw node B's scan after %s", time.Since(start).Round(time.Millisecond))
	case <-time.After(5 * time.Second):
		t.Fatal("node A's long poll did not see node B's scan")
	}
	assert(a, provider.MethodConfirm, "钱七", testbed.IDNumber(78))
	pollOn := func(dev rawDevice) wire.QRSession {
		_, _, data := dev.do(call{method: "GET", path: "/v1/qr/sessions/" + sess.ID})
		var v wire.QRSession
		json.Unmarshal(data, &v)
		return v
	}
	if v := pollOn(onB); v.State != wire.QRConfirmed || v.Identity == nil || v.Identity.Name != "钱七" || v.PasswordTicket == "" {
		t.Fatalf("poll on node B: %+v", v)
	}
	if v := pollOn(d); v.State != wire.QRConsumed || v.Identity != nil {
		t.Fatalf("second poll on node A: %+v, want consumed without identity", v)
	}
}

// The enrolment-attempt limit of an address counts across nodes.
func TestTwoNodesShareEnrolLimit(t *testing.T) {
	cfg := central.DefaultConfig()
	testbed.UseStore(t, &cfg, storetest.Postgres)
	cfg.EnrolAttempts = 2
	a := testbed.StartCentral(t, cfg)
	b := testbed.StartCentral(t, cfg)
	try := func(n *testbed.Central) int {
		resp, err := http.Post(n.URL+"/v1/enroll", "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := try(a); st == http.StatusTooManyRequests {
		t.Fatal("first attempt refused")
	}
	if st := try(b); st == http.StatusTooManyRequests {
		t.Fatal("second attempt refused")
	}
	if st := try(a); st != http.StatusTooManyRequests {
		t.Fatalf("third attempt (two on node A, one on node B): %d, want 429", st)
	}
}
