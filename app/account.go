package app

import (
	"encoding/base64"

	"examkiosk/app/registration"
	"examkiosk/sync/wire"
)

// CaptchaView is a one-time image challenge for the account login.
type CaptchaView struct {
	ID    string `json:"id"`
	Image string `json:"image"` // data: URL of the PNG
}

// AccountLoginView is the answer to an account login or a first-time
// password: status ok (the journey moved on), password_not_set (set one
// first) or wrong_credential, with the central's message.
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

// SetPassword sets the first-time password of an account and logs in.
func (a *JourneyService) SetPassword(idNumber, name, newPassword, captchaID, answer string) (AccountLoginView, error) {
	if err := a.accountReady(); err != nil {
		return AccountLoginView{Journey: a.Journey()}, err
	}
	resp, err := a.sync.Load().SetPassword(a.context(), wire.SetPasswordRequest{IDNumber: idNumber, Name: name, NewPassword: newPassword, CaptchaID: captchaID, CaptchaAnswer: answer})
	return a.accountResult(resp, err)
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
		return AccountLoginView{Journey: a.Journey()}, refuse("central_unreachable").because(err)
	}
	v := AccountLoginView{Status: resp.Status, Message: resp.Message}
	a.mu.Lock()
	defer a.mu.Unlock()
	if resp.Status == wire.LoginOK && resp.Identity != nil {
		c := Candidate{Name: resp.Identity.Name, IDNumber: resp.Identity.IDNumber, Source: registration.SourceAccount}
		if err := a.loginLocked(c); err != nil {
			v.Journey = a.viewLocked()
			return v, err
		}
	}
	v.Journey = a.viewLocked()
	return v, nil
}
