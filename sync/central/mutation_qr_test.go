package central_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"examkiosk/sync/central"
	"examkiosk/sync/provider"
	"examkiosk/sync/provider/sim"
	"examkiosk/sync/testbed"
	"examkiosk/sync/wire"
)

// newQRSession creates a QR login session of a channel for kiosk d.
func newQRSession(t *testing.T, d rawDevice, channel string) wire.QRSession {
	t.Helper()
	st, _, data := d.do(call{method: "POST", path: "/v1/qr/sessions", body: []byte(`{"channel":"` + channel + `"}`), ctype: "application/json"})
	var s wire.QRSession
	if st != 200 || json.Unmarshal(data, &s) != nil {
		t.Fatalf("QR session: %d %s", st, data)
	}
	return s
}

// pollState is the session's state as its kiosk sees it, without waiting.
func pollState(t *testing.T, d rawDevice, id string) string {
	t.Helper()
	st, _, data := d.do(call{method: "GET", path: "/v1/qr/sessions/" + id})
	var v wire.QRSession
	if st != 200 || json.Unmarshal(data, &v) != nil {
		t.Fatalf("poll: %d %s", st, data)
	}
	return v.State
}

// A session belongs to the channel the kiosk chose: the other provider's
// genuine assertion for its token, sent to that provider's endpoint, is
// refused as an unknown code and changes nothing (the candidate scanned
// the Alipay code; the social-security card's answer is not about it).
func TestQRAssertionOfAnotherChannel(t *testing.T) {
	c := testbed.StartCentral(t, central.DefaultConfig())
	d := enrol(t, c)
	sess := newQRSession(t, d, wire.ChannelAlipay)
	other := c.Server().DemoProvider(wire.ChannelSocialSecurity)
	for _, method := range []string{provider.MethodScan, provider.MethodConfirm} {
		p, _ := other.Assertion(method, qrToken(sess), "张三", "11010519491231002X")
		if st, body, _ := sim.Post(t.Context(), nil, c.URL+"/provider/social_security/qrlogin", p); st != 404 {
			t.Errorf("%s by the other channel's provider: %d %s, want 404", method, st, body)
		}
	}
	if st := pollState(t, d, sess.ID); st != wire.QRWaiting {
		t.Errorf("after the other channel's assertions: %s, want waiting", st)
	}
}

// The QR page names the app the code is for, Alipay or the electronic
// social-security card, and nothing else.
func TestQRPageNamesItsChannel(t *testing.T) {
	c := testbed.StartCentral(t, central.DefaultConfig())
	d := enrol(t, c)
	for _, tt := range []struct{ channel, name, other string }{
		{wire.ChannelAlipay, "支付宝", "电子社保卡"},
		{wire.ChannelSocialSecurity, "电子社保卡", "支付宝"},
	} {
		sess := newQRSession(t, d, tt.channel)
		st, page := newBrowser(t).do("GET", sess.URL, nil)
		if st != 200 || !strings.Contains(page, tt.name+"扫码登录") || strings.Contains(page, tt.other) {
			t.Errorf("%s page (%d) does not name %s alone:\n%s", tt.channel, st, tt.name, page)
		}
	}
}

// On the demo page, an identity the provider would not vouch for (a wrong
// check digit) shows the form again to retype, with a fresh token; once the
// session is confirmed, a second confirm is refused without a form.
func TestQRDemoConfirmRetype(t *testing.T) {
	c := testbed.StartCentral(t, central.DefaultConfig())
	d := enrol(t, c)
	sess := newQRSession(t, d, wire.ChannelAlipay)
	phone := newBrowser(t)
	st, page := phone.do("GET", sess.URL, nil)
	if st != 200 {
		t.Fatalf("QR page: %d", st)
	}
	confirm := func(idn string) (int, string) {
		return phone.do("POST", sess.URL, url.Values{"name": {"张三"}, "id_number": {idn}, "csrf": {csrfOf(t, page)}}, "Origin: "+c.URL)
	}
	st, page = confirm("110105194912310021")
	if st != 400 || !strings.Contains(page, "姓名或身份证号码无效") || !strings.Contains(page, `name="id_number"`) {
		t.Fatalf("a wrong check digit (%d): want 400, the message and the form again:\n%s", st, page)
	}
	retype := page
	if st, page = confirm("11010519491231002X"); st != 200 || !strings.Contains(page, "已确认") || strings.Contains(page, `name="id_number"`) {
		t.Fatalf("retyped (%d): want confirmed without a form:\n%s", st, page)
	}
	if st := pollState(t, d, sess.ID); st != wire.QRConfirmed {
		t.Fatalf("after the retyped confirm: %s", st)
	}
	page = retype
	if st, again := confirm("11010519491231002X"); st != 409 || !strings.Contains(again, "该二维码已使用") || strings.Contains(again, `name="id_number"`) {
		t.Errorf("a second confirm (%d): want 409, used, without a form:\n%s", st, again)
	}
}
