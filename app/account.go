package app

import (
	"encoding/base64"

	"examkiosk/app/registration"
	"examkiosk/sync/kiosk"
	"examkiosk/sync/wire"
)

// CaptchaView is a one-time image challenge for the account login.
type CaptchaView struct {
	ID    string `json:"id"`
	Image string `json:"image"` // data: URL of the PNG
}

// AccountLoginView is the answer to an account login: status ok (the
// journey moved on) or wrong_credentials (unknown ID number and wrong
// password alike), with the central's message.
type AccountLoginView struct {
	Status  string      `json:"status"`
	Message string      `json:"message"`
	Journey JourneyView `json:"journey"`
}

// AccountCaptcha fetches a captcha from the central for the account login.
func (a *JourneyService) AccountCaptcha() (CaptchaView, error) {
	if a.sync.Load() == nil {
		return CaptchaView{}, refuse("not_enrolled_offline")
	}
	c, err := a.sync.Load().Captcha(a.context())
	if err != nil {
		return CaptchaView{}, refuse("central_unreachable").because(err)
	}
	return CaptchaView{ID: c.ID, Image: "data:image/png;base64," + base64.StdEncoding.EncodeToString(c.PNG)}, nil
}

// AccountLogin logs in with ID number, password and captcha.
func (a *JourneyService) AccountLogin(idNumber, password, captchaID, answer string) (AccountLoginView, error) {
	if err := a.accountReady(); err != nil {
		return AccountLoginView{Journey: a.Journey()}, err
	}
	resp, err := a.sync.Load().AccountLogin(a.context(), wire.AccountLoginRequest{IDNumber: idNumber, Password: password, CaptchaID: captchaID, CaptchaAnswer: answer})
	return a.accountResult(resp, err)
}

// SetPassword sets the password of the candidate a QR login just verified
// (first time, or a forgotten one replaced) with the session's password
// ticket, then moves on as a login does. A ticket the central no longer
// takes (expired, used) is dropped: the candidate continues without.
func (a *JourneyService) SetPassword(newPassword, captchaID, answer string) (JourneyView, error) {
	if a.sync.Load() == nil {
		return a.Journey(), refuse("not_enrolled_offline")
	}
	a.mu.Lock()
	j := &a.journey
	if j.Step() != StepPassword || j.candidate == nil || j.passwordTicket == "" {
		defer a.mu.Unlock()
		return a.viewLocked(), refuse("password_not_verified")
	}
	ctx, ticket := a.ctx, j.passwordTicket
	req := wire.SetPasswordRequest{Ticket: ticket, IDNumber: j.candidate.IDNumber, Name: j.candidate.Name,
		NewPassword: newPassword, CaptchaID: captchaID, CaptchaAnswer: answer}
	j.Touch(a.opts.Now())
	a.mu.Unlock()

	_, err := a.sync.Load().SetPassword(ctx, req)
	a.mu.Lock()
	defer a.mu.Unlock()
	if j.Step() != StepPassword || j.passwordTicket != ticket {
		// The session ended (logout, idle timeout) while the central answered.
		return a.viewLocked(), refuse("login_cancelled")
	}
	if err != nil {
		if kiosk.IsCode(err, wire.ErrCodeForbidden) {
			j.passwordTicket = ""
			return a.viewLocked(), refuse("password_ticket_expired").because(err)
		}
		return a.viewLocked(), accountRefusal(err)
	}
	a.log.Info("account password set after a QR login", "source", j.candidate.Source)
	err = a.onwardLocked()
	return a.viewLocked(), err
}

// SkipPassword leaves the password step without setting one.
func (a *JourneyService) SkipPassword() (JourneyView, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.journey.Step() != StepPassword {
		return a.viewLocked(), refuse("step_not_allowed", "from", a.journey.Step(), "to", StepFace)
	}
	a.journey.Touch(a.opts.Now())
	err := a.onwardLocked()
	return a.viewLocked(), err
}

// accountRefusal is a failed account request as the UI shows it.
func accountRefusal(err error) *Refusal {
	switch {
	case kiosk.IsCode(err, wire.ErrCodeCaptcha):
		return refuse("captcha_wrong").because(err)
	case kiosk.IsCode(err, wire.ErrCodeBadRequest):
		return refuse("password_weak").because(err)
	case kiosk.IsCode(err, wire.ErrCodeThrottled):
		return refuse("account_throttled").because(err)
	}
	return refuse("central_unreachable").because(err)
}

func (a *JourneyService) accountReady() error {
	if a.sync.Load() == nil {
		return refuse("not_enrolled_offline")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.journey.Step() != StepLogin {
		return refuse("start_from_welcome")
	}
	return nil
}

func (a *JourneyService) accountResult(resp wire.AccountLoginResponse, err error) (AccountLoginView, error) {
	if err != nil {
		return AccountLoginView{Journey: a.Journey()}, accountRefusal(err)
	}
	v := AccountLoginView{Status: resp.Status, Message: resp.Message}
	a.mu.Lock()
	defer a.mu.Unlock()
	if resp.Status == wire.LoginOK && resp.Identity != nil {
		c := Candidate{Name: resp.Identity.Name, IDNumber: resp.Identity.IDNumber, Source: registration.SourceAccount}
		if err := a.loginLocked(c, ""); err != nil {
			v.Journey = a.viewLocked()
			return v, err
		}
	}
	v.Journey = a.viewLocked()
	return v, nil
}
