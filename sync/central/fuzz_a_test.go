package central_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/uuid"

	"examkiosk/sync/central"
	"examkiosk/sync/provider"
	"examkiosk/sync/testbed"
	"examkiosk/sync/wire"
)

// FuzzForms sends arbitrary form bodies, with arbitrary Origin and
// Content-Type, to every form a browser or a provider posts without a
// device signature: the demo QR confirm, the staff login, the payment
// notification, the provider assertion and the demo payment. None may
// answer 5xx, and none may confirm a login, pay an order or open a session
// (no valid signature, cookie or CSRF token exists in the input).
//
//	go test ./sync/central -run '^$' -fuzz FuzzForms -fuzztime 60s
func FuzzForms(f *testing.F) {
	c := testbed.StartCentral(f, central.DefaultConfig())
	s := c.Server()
	k := kioskClient(f, c.Server(), c.URL, nil)
	sess, err := k.StartQRLogin(f.Context(), wire.ChannelAlipay)
	if err != nil {
		f.Fatal(err)
	}
	tok := qrToken(sess)
	if st, _, _ := c.ConfirmQR(f.Context(), sess.URL, "", ""); st != http.StatusBadRequest { // scanned, then a refused empty confirm
		f.Fatalf("scan: %d", st)
	}
	id := uuid.NewString()
	if err := s.PutRegistrationRecord(central.Registration{ID: id, Revision: 1, DeviceID: "kiosk-x", ExamID: central.DemoExamID,
		Status: central.StatusUnderReview}); err != nil {
		f.Fatal(err)
	}
	reg, err := s.Review(id, true, "")
	if err != nil {
		f.Fatal(err)
	}
	paths := []string{"/qr/" + tok, "/login", "/pay/notify/alipay", "/provider/alipay/qrlogin", "/provider/social_security/qrlogin", "/pay/" + reg.OrderID + "/demo"}
	good, _ := s.DemoProvider(wire.ChannelAlipay).PaymentNotification(reg.OrderID, 10000, provider.TradeSuccess)
	good.Set("sign", "AAAA"+good.Get("sign")[4:]) // one flipped signature
	for i := range paths {
		f.Add(uint8(i), "name=%E5%BC%A0%E4%B8%89&id_number=11010519491231002X&csrf=00", "", "application/x-www-form-urlencoded")
		f.Add(uint8(i), good.Encode(), c.URL, "application/x-www-form-urlencoded")
		f.Add(uint8(i), "method=examkiosk.qrlogin.confirm&qr_token="+tok+"&sign_type=RSA2&sign=", "https://evil.example", "text/plain")
	}
	handler := s.Handler()
	f.Fuzz(func(t *testing.T, which uint8, body, origin, ctype string) {
		path := paths[int(which)%len(paths)]
		req := httptest.NewRequest("POST", c.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", ctype)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("POST %s %q: %d %s", path, body, rec.Code, rec.Body)
		}
		if rec.Code == http.StatusSeeOther && path == "/login" {
			t.Fatalf("login accepted: %q", body)
		}
		if r, err := s.Order(reg.OrderID); err != nil || r.Status != "unpaid" {
			t.Fatalf("order after POST %s %q: %+v %v", path, body, r, err)
		}
		if v, err := k.PollQRLogin(t.Context(), sess.ID, ""); err != nil || v.State != wire.QRScanned {
			t.Fatalf("QR session after POST %s %q: %+v %v", path, body, v, err)
		}
	})
}
