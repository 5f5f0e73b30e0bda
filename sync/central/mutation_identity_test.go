package central_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"examkiosk/exam"
	"examkiosk/sync/central"
	"examkiosk/sync/provider"
	"examkiosk/sync/provider/sim"
	"examkiosk/sync/testbed"
	"examkiosk/sync/wire"
)

// The identity a provider asserts for a QR login is checked before the
// session takes it: a name of 1 to 50 characters (not blank), a valid ID
// number (a lowercase check letter is taken in upper case); a session is
// confirmed once, and a scan after that is refused.
func TestQRAssertedIdentityChecked(t *testing.T) {
	c := testbed.StartCentral(t, central.DefaultConfig())
	s := c.Server()
	ctx := t.Context()
	k := kioskClient(t, s, c.URL, nil)
	const goodID = "11010519491231002X"
	for _, tt := range []struct {
		name, channel, who, idn string
		want                    int
		wantName, wantID        string
	}{
		{"50 characters", wire.ChannelAlipay, strings.Repeat("张", 50), goodID, 200, strings.Repeat("张", 50), goodID},
		{"51 characters", wire.ChannelAlipay, strings.Repeat("张", 51), goodID, 400, "", ""},
		{"blank name", wire.ChannelAlipay, "   ", goodID, 400, "", ""},
		{"bad check digit", wire.ChannelAlipay, "李四", "110105194912310021", 400, "", ""},
		{"lowercase x, spaces", wire.ChannelAlipay, " 王五 ", " 11010519491231002x", 200, "王五", goodID},
		{"social security card", wire.ChannelSocialSecurity, "赵六", goodID, 200, "赵六", goodID},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sess, err := k.StartQRLogin(ctx, tt.channel)
			if err != nil {
				t.Fatal(err)
			}
			prov := s.DemoProvider(tt.channel)
			endpoint := c.URL + "/provider/" + tt.channel + "/qrlogin"
			tok := qrToken(sess)
			for range 2 { // a second scan changes nothing
				scan, _ := prov.Assertion(provider.MethodScan, tok, "", "")
				if st, body, _ := sim.Post(ctx, nil, endpoint, scan); st != 200 {
					t.Fatalf("scan: %d %s", st, body)
				}
			}
			confirm, _ := prov.Assertion(provider.MethodConfirm, tok, tt.who, tt.idn)
			st, body, _ := sim.Post(ctx, nil, endpoint, confirm)
			if st != tt.want {
				t.Fatalf("confirm: %d %s, want %d", st, body, tt.want)
			}
			v, err := k.PollQRLogin(ctx, sess.ID, "")
			if err != nil {
				t.Fatal(err)
			}
			if tt.want != 200 {
				if v.State != wire.QRScanned || v.Identity != nil {
					t.Errorf("after a refused identity: %+v, want still scanned", v)
				}
				return
			}
			src := string(exam.SourceAlipayQR)
			if tt.channel == wire.ChannelSocialSecurity {
				src = string(exam.SourceSocialSecurityQR)
			}
			if v.State != wire.QRConfirmed || v.Identity == nil || v.Identity.Name != tt.wantName || v.Identity.IDNumber != tt.wantID || v.Identity.Source != src {
				t.Fatalf("confirmed: %+v %+v, want %s %s from %s", v, v.Identity, tt.wantName, tt.wantID, src)
			}
			again, _ := prov.Assertion(provider.MethodConfirm, tok, "别人", goodID)
			if st, _, _ := sim.Post(ctx, nil, endpoint, again); st != 409 {
				t.Errorf("a second confirm: %d, want 409", st)
			}
			scan, _ := prov.Assertion(provider.MethodScan, tok, "", "")
			if st, _, _ := sim.Post(ctx, nil, endpoint, scan); st != 409 {
				t.Errorf("a scan after the confirm: %d, want 409", st)
			}
		})
	}
}

// A poll without wait answers at once with the session as it is, even when
// the kiosk names the current state: a confirmed session then hands out
// its identity (once), it does not report "confirmed" without it.
func TestQRPollWithoutWaitHandsOutIdentity(t *testing.T) {
	c := testbed.StartCentral(t, central.DefaultConfig())
	d := enrol(t, c)
	st, _, data := d.do(call{method: "POST", path: "/v1/qr/sessions", body: []byte(`{"channel":"alipay"}`), ctype: "application/json"})
	if st != 200 {
		t.Fatalf("QR session: %d %s", st, data)
	}
	var sess wire.QRSession
	if err := json.Unmarshal(data, &sess); err != nil {
		t.Fatal(err)
	}
	prov := c.Server().DemoProvider(wire.ChannelAlipay)
	endpoint := c.URL + "/provider/alipay/qrlogin"
	scan, _ := prov.Assertion(provider.MethodScan, qrToken(sess), "", "")
	confirm, _ := prov.Assertion(provider.MethodConfirm, qrToken(sess), "张三", "11010519491231002X")
	for _, p := range []url.Values{scan, confirm} {
		if st, body, _ := sim.Post(t.Context(), nil, endpoint, p); st != 200 {
			t.Fatalf("assertion: %d %s", st, body)
		}
	}
	poll := func() wire.QRSession {
		t.Helper()
		st, _, data := d.do(call{method: "GET", path: "/v1/qr/sessions/" + sess.ID + "?state=" + wire.QRConfirmed})
		var v wire.QRSession
		if err := json.Unmarshal(data, &v); st != 200 || err != nil {
			t.Fatalf("poll: %d %s", st, data)
		}
		return v
	}
	if v := poll(); v.Identity == nil || v.Identity.Name != "张三" || v.PasswordTicket == "" {
		t.Fatalf("poll naming the confirmed state: %+v", v)
	}
	if v := poll(); v.Identity != nil || v.State != wire.QRConsumed {
		t.Errorf("second poll: %+v, want consumed without identity", v)
	}
}

// A QR login session is bound to the kiosk that created it: another
// enrolled kiosk that polls it (by a guessed or leaked id) gets 404, not
// its state, and cannot consume its identity.
func TestQRSessionBoundToItsKiosk(t *testing.T) {
	c := testbed.StartCentral(t, central.DefaultConfig())
	d, other := enrol(t, c), enrol(t, c)
	st, _, data := d.do(call{method: "POST", path: "/v1/qr/sessions", body: []byte(`{"channel":"alipay"}`), ctype: "application/json"})
	var sess wire.QRSession
	if st != 200 || json.Unmarshal(data, &sess) != nil {
		t.Fatalf("QR session: %d %s", st, data)
	}
	prov := c.Server().DemoProvider(wire.ChannelAlipay)
	endpoint := c.URL + "/provider/alipay/qrlogin"
	for _, method := range []string{provider.MethodScan, provider.MethodConfirm} {
		p, _ := prov.Assertion(method, qrToken(sess), "张三", "11010519491231002X")
		if st, body, _ := sim.Post(t.Context(), nil, endpoint, p); st != 200 {
			t.Fatalf("%s: %d %s", method, st, body)
		}
	}
	for _, q := range []string{"", "?state=" + wire.QRScanned} {
		if st, _, data := other.do(call{method: "GET", path: "/v1/qr/sessions/" + sess.ID + q}); st != 404 {
			t.Errorf("another kiosk polls the session%s: %d %s, want 404", q, st, data)
		}
	}
	st, _, data = d.do(call{method: "GET", path: "/v1/qr/sessions/" + sess.ID})
	var v wire.QRSession
	if st != 200 || json.Unmarshal(data, &v) != nil || v.Identity == nil || v.Identity.Name != "张三" {
		t.Errorf("its own kiosk after the other's polls: %d %s", st, data)
	}
}
