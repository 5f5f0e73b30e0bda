package app

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"examkiosk/sync/central"
	"examkiosk/sync/kiosk"
	"examkiosk/sync/testbed"
	"examkiosk/sync/wire"
)

// captchaAnswer is what the test central's captchas answer (the image is
// for people; the kiosk-side test cannot read it).
const captchaAnswer = "4821"

// syncBuffer is a log sink safe for the handlers' concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// passwordKiosk is a kiosk enrolled with the real central on loopback,
// without camera or face models (the password step needs neither), its
// logs (debug and up) kept in logs.
func passwordKiosk(t *testing.T) (a *App, c *testbed.Central, logs *syncBuffer) {
	t.Helper()
	c = testbed.StartCentral(t, central.DefaultConfig(), central.WithCaptchaAnswers(func() string { return captchaAnswer }))
	logs = &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	st := testStore(t)
	cfg := DefaultConfig()
	cfg.Centre.Name = central.DemoCentreName
	cfg.Store.Path = st.Path()
	cfg.Face.ModelsDir = modelDir(t, map[string]string{"m.dat": "model"})
	cfg.Sync.CentralURL = c.URL
	cfg.Sync.QRPollWait = 2 * time.Second
	id, err := c.Enroll(t.Context(), cfg.Sync)
	if err != nil {
		t.Fatal(err)
	}
	client, err := kiosk.New(cfg.Sync, id, st, st, kiosk.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	a, err = New(Options{Config: cfg, Store: st, Logger: log, Sync: client, Events: func(string, any) {}})
	if err != nil {
		t.Fatal(err)
	}
	return a, c, logs
}

// qrLogin logs in by QR code, the phone confirming name and ID number on
// the central's demo page, and returns the journey after the confirmation.
func qrLogin(t *testing.T, a *App, c *testbed.Central, name, idNumber string) JourneyView {
	t.Helper()
	if _, err := a.Begin(); err != nil {
		t.Fatal(err)
	}
	q, err := a.StartQRLogin(wire.ChannelAlipay)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	phone := make(chan error, 1)
	go func() {
		status, page, err := c.ConfirmQR(ctx, q.URL, name, idNumber)
		if err == nil && status != 200 {
			err = &Refusal{Code: "phone page " + page}
		}
		phone <- err
	}()
	for {
		s, err := a.PollQRLogin(q.ID)
		if err != nil {
			t.Fatalf("poll: %v", err)
		}
		if s.State == "confirmed" {
			break
		}
		if ctx.Err() != nil || s.State == "expired" {
			t.Fatalf("the QR login was not confirmed: %s", s.State)
		}
	}
	if err := <-phone; err != nil {
		t.Fatalf("phone: %v", err)
	}
	return a.Journey()
}

// TestPasswordAfterQRLogin: a QR login verifies the candidate, who sets a
// password on the password step with the session's ticket and later logs
// in with it; the ticket dies with the session; the step can be skipped;
// "forgot password" is the same QR login and the same step.
func TestPasswordAfterQRLogin(t *testing.T) {
	a, c, logs := passwordKiosk(t)
	const name, idn = "张三", "11010519491231002X"
	const pw, pw2 = "Kaoshi#Lotus58", "Maple!River93"
	var tickets []string

	// QR login confirmed → the password step, with a ticket held in Go only.
	v := qrLogin(t, a, c, name, idn)
	if v.Step != StepPassword || !v.CanSetPassword {
		t.Fatalf("after a confirmed QR login: step %s, canSetPassword %v", v.Step, v.CanSetPassword)
	}
	tickets = append(tickets, a.journey.passwordTicket)
	if tickets[0] == "" {
		t.Fatal("no password ticket in the session")
	}

	// A guessable password and a wrong captcha are refused and leave the
	// ticket usable (the central checks both before taking it).
	if _, err := a.SetPassword("aaaaaaa1", "", captchaAnswer); code(err) != "captcha_wrong" {
		t.Fatalf("no captcha: got %v", err)
	}
	cp, err := a.AccountCaptcha()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.SetPassword("aaaaaaa1", cp.ID, captchaAnswer); code(err) != "password_weak" {
		t.Fatalf("a guessable password: got %v", err)
	}
	cp, _ = a.AccountCaptcha()
	v, err = a.SetPassword(pw, cp.ID, captchaAnswer)
	if err != nil {
		t.Fatalf("set password: %v", err)
	}
	if v.Step != StepFace || v.CanSetPassword || a.journey.passwordTicket != "" {
		t.Fatalf("after setting the password: step %s, canSetPassword %v, ticket kept %v", v.Step, v.CanSetPassword, a.journey.passwordTicket != "")
	}
	if v.Candidate == nil || v.Candidate.Source != "alipay_qr" {
		t.Fatalf("the candidate stays QR-verified: %+v", v.Candidate)
	}

	// Log out; the account login works with the new password.
	a.Logout()
	if _, err := a.Begin(); err != nil {
		t.Fatal(err)
	}
	cp, _ = a.AccountCaptcha()
	r, err := a.AccountLogin(idn, pw, cp.ID, captchaAnswer)
	if err != nil || r.Status != wire.LoginOK || r.Journey.Step != StepFace || r.Journey.Candidate.Source != "account" {
		t.Fatalf("account login with the new password: %+v %v", r, err)
	}
	// An account login has no ticket: no password step to reach.
	cp, _ = a.AccountCaptcha()
	if _, err := a.SetPassword(pw2, cp.ID, captchaAnswer); code(err) != "password_not_verified" {
		t.Fatalf("set password after an account login: got %v", err)
	}
	a.Logout()

	// The ticket is gone with the session: the next person cannot use it.
	v = qrLogin(t, a, c, name, idn)
	tickets = append(tickets, a.journey.passwordTicket)
	if v.Step != StepPassword {
		t.Fatalf("second QR login: step %s", v.Step)
	}
	if v = a.Logout(); v.Step != StepWelcome || v.CanSetPassword || a.journey.passwordTicket != "" {
		t.Fatalf("logout kept the ticket: %+v", v)
	}
	if _, err := a.Begin(); err != nil {
		t.Fatal(err)
	}
	cp, _ = a.AccountCaptcha()
	if _, err := a.SetPassword(pw2, cp.ID, captchaAnswer); code(err) != "password_not_verified" {
		t.Fatalf("set password in a new session: got %v", err)
	}
	cp, _ = a.AccountCaptcha()
	if r, err := a.AccountLogin(idn, pw, cp.ID, captchaAnswer); err != nil || r.Status != wire.LoginOK {
		t.Fatalf("the password must be unchanged: %+v %v", r, err)
	}
	a.Logout()

	// The idle timeout and the way back to welcome forget it as well.
	qrLogin(t, a, c, name, idn)
	tickets = append(tickets, a.journey.passwordTicket)
	if _, err := a.step(StepWelcome); err != nil || a.journey.passwordTicket != "" {
		t.Fatalf("back to welcome kept the ticket: %v", err)
	}

	// Skipping goes straight on to the face step, without the ticket.
	qrLogin(t, a, c, name, idn)
	tickets = append(tickets, a.journey.passwordTicket)
	v, err = a.SkipPassword()
	if err != nil || v.Step != StepFace || a.journey.passwordTicket != "" {
		t.Fatalf("skip: step %s, err %v, ticket kept %v", v.Step, err, a.journey.passwordTicket != "")
	}
	cp, _ = a.AccountCaptcha()
	if _, err := a.SetPassword(pw2, cp.ID, captchaAnswer); code(err) != "password_not_verified" {
		t.Fatalf("set password after skipping: got %v", err)
	}
	a.Logout()

	// Forgot password: the same QR login, then a new password on the same
	// step; the old one stops working.
	if _, err := a.Begin(); err != nil {
		t.Fatal(err)
	}
	cp, _ = a.AccountCaptcha()
	if r, err := a.AccountLogin(idn, pw2, cp.ID, captchaAnswer); err != nil || r.Status != wire.LoginWrongCredential {
		t.Fatalf("before the reset: %+v %v", r, err)
	}
	a.Logout()
	qrLogin(t, a, c, name, idn)
	tickets = append(tickets, a.journey.passwordTicket)
	cp, _ = a.AccountCaptcha()
	if _, err := a.SetPassword(pw2, cp.ID, captchaAnswer); err != nil {
		t.Fatalf("reset password: %v", err)
	}
	a.Logout()
	a.Begin()
	cp, _ = a.AccountCaptcha()
	if r, err := a.AccountLogin(idn, pw, cp.ID, captchaAnswer); err != nil || r.Status != wire.LoginWrongCredential {
		t.Fatalf("the forgotten password still works: %+v %v", r, err)
	}
	cp, _ = a.AccountCaptcha()
	if r, err := a.AccountLogin(idn, pw2, cp.ID, captchaAnswer); err != nil || r.Status != wire.LoginOK {
		t.Fatalf("login with the new password: %+v %v", r, err)
	}
	a.Logout()

	// No ticket reached the logs or the kiosk's store.
	db, err := os.ReadFile(a.opts.Store.Path())
	if err != nil {
		t.Fatal(err)
	}
	for i, tk := range tickets {
		if tk == "" {
			t.Fatalf("QR login %d handed out no ticket", i)
		}
		if strings.Contains(logs.String(), tk) {
			t.Errorf("ticket %d is in the log", i)
		}
		if bytes.Contains(db, []byte(tk)) {
			t.Errorf("ticket %d is in the store", i)
		}
	}
}

// A ticket the central no longer takes (used by then, or expired) is
// dropped: the step says so and the candidate continues without it.
func TestPasswordTicketRefused(t *testing.T) {
	a, c, _ := passwordKiosk(t)
	qrLogin(t, a, c, "李娜", "11010519491231002X")
	a.mu.Lock()
	a.journey.passwordTicket = "not-a-ticket-the-central-issued"
	a.mu.Unlock()
	cp, err := a.AccountCaptcha()
	if err != nil {
		t.Fatal(err)
	}
	v, err := a.SetPassword("Kaoshi#Lotus58", cp.ID, captchaAnswer)
	if code(err) != "password_ticket_expired" || v.Step != StepPassword || v.CanSetPassword {
		t.Fatalf("refused ticket: step %s, canSetPassword %v, err %v", v.Step, v.CanSetPassword, err)
	}
	if v, err = a.SkipPassword(); err != nil || v.Step != StepFace {
		t.Fatalf("continue after a refused ticket: %s %v", v.Step, err)
	}
}
