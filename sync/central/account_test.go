package central

import (
	"bytes"
	"image/png"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"examkiosk/sync/kiosk"
	"examkiosk/sync/wire"
)

func TestIDNumber(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"11010519491231002X", true},
		{"110105194912310021", false}, // wrong check character
		{"11010519491331002X", false}, // month 13
		{"1101051949123100", false},
		{"11010519491231002x", false}, // callers upper-case first
		{"A1010519491231002X", false},
	}
	for _, tt := range tests {
		if got := validIDNumber(tt.in); got != tt.want {
			t.Errorf("validIDNumber(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestCaptchaImage(t *testing.T) {
	b, err := renderCaptcha("0479")
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil || img.Bounds().Dx() != 160 {
		t.Fatalf("captcha png: %v %v", img.Bounds(), err)
	}
	if _, err := renderCaptcha("12a4"); err == nil {
		t.Fatal("non-digit accepted")
	}
}

func TestAccountLogin(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.Demo = true
	s := quietOpen(t, cfg)
	defer s.Close()
	hs := httptest.NewServer(s.Handler())
	defer hs.Close()
	kcfg := kiosk.DefaultConfig()
	kcfg.CentralURL = hs.URL
	id, err := kiosk.Enroll(t.Context(), kcfg, DemoEnrolmentCode, "t", "t", nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := kiosk.New(kcfg, id, nil, nil, kiosk.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	const idn = "11010519491231002X"
	// answer fetches a captcha and reads its answer (or a wrong one).
	answer := func(right bool) (string, string) {
		cp, err := c.Captcha(ctx)
		if err != nil || len(cp.PNG) == 0 {
			t.Fatalf("captcha: %v", err)
		}
		a := s.CaptchaAnswer(cp.ID)
		if !right {
			a = "x" + a
		}
		return cp.ID, a
	}
	login := func(pw string, rightCaptcha bool) (wire.AccountLoginResponse, error) {
		cid, a := answer(rightCaptcha)
		return c.AccountLogin(ctx, wire.AccountLoginRequest{IDNumber: idn, Password: pw, CaptchaID: cid, CaptchaAnswer: a})
	}
	// setPW uses a ticket as a QR login of this kiosk would have left it
	// (TestAttack5PasswordClaim runs the whole QR login).
	setPW := func(pw string) (wire.AccountLoginResponse, error) {
		if err := s.putEphemeral(bTickets, "t-"+pw, passwordTicket{Identity: wire.Identity{Name: "赵六", IDNumber: idn, Source: "alipay_qr"}, Device: id.DeviceID, Expires: s.now().Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
		cid, a := answer(true)
		return c.SetPassword(ctx, wire.SetPasswordRequest{Ticket: "t-" + pw, NewPassword: pw, CaptchaID: cid, CaptchaAnswer: a})
	}

	if _, err := login("whatever1", false); !kiosk.IsCode(err, wire.ErrCodeCaptcha) {
		t.Fatalf("wrong captcha: %v", err)
	}
	if r, err := login("whatever1", true); err != nil || r.Status != wire.LoginWrongCredential {
		t.Fatalf("first login = %+v, %v; want wrong_credentials", r, err)
	}
	if _, err := setPW("short"); !kiosk.IsCode(err, wire.ErrCodeBadRequest) {
		t.Fatalf("weak password: %v", err)
	}
	if r, err := setPW("Exam2026pass"); err != nil || r.Status != wire.LoginOK || r.Identity.Name != "赵六" {
		t.Fatalf("set password = %+v, %v", r, err)
	}
	if r, err := login("wrong2026x", true); err != nil || r.Status != wire.LoginWrongCredential || r.Identity != nil {
		t.Fatalf("wrong password = %+v, %v", r, err)
	}
	if r, err := login("Exam2026pass", true); err != nil || r.Status != wire.LoginOK || r.Identity.IDNumber != idn || r.Identity.Source != "account" {
		t.Fatalf("login = %+v, %v", r, err)
	}
	// A captcha is single use.
	cid, a := answer(true)
	c.AccountLogin(ctx, wire.AccountLoginRequest{IDNumber: idn, Password: "Exam2026pass", CaptchaID: cid, CaptchaAnswer: a})
	if _, err := c.AccountLogin(ctx, wire.AccountLoginRequest{IDNumber: idn, Password: "Exam2026pass", CaptchaID: cid, CaptchaAnswer: a}); !kiosk.IsCode(err, wire.ErrCodeCaptcha) {
		t.Fatalf("reused captcha: %v", err)
	}
}
