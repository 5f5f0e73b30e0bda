package central

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/trustelem/zxcvbn"
	"golang.org/x/crypto/bcrypt"

	"examkiosk/sync/wire"
)

// Candidate accounts: an ID number and a password for the account login.
// A password is only ever set for an identity a provider just verified (a
// QR login's password ticket), first time or forgotten alike; unknown ID
// numbers and wrong passwords answer alike; every ID number and every
// kiosk is throttled with a growing lockout (throttle.go).

// ---- captcha ----

// captchaEntry is a captcha's answer, kept in the store (sealed) so that
// any node can check it.
type captchaEntry struct {
	Answer  string    `json:"answer"`
	Expires time.Time `json:"expires"`
}

const captchaTTL = 5 * time.Minute

func (s *Server) handleCaptcha(w http.ResponseWriter, r *http.Request, _ string, _ []byte) {
	answer := s.captchaAnswer()
	png, err := renderCaptcha(answer)
	if err != nil {
		writeError(w, http.StatusInternalServerError, wire.ErrCodeInternal, err.Error())
		return
	}
	now := s.now()
	id := randomID(12)
	if err := s.putEphemeral(bCaptchas, id, captchaEntry{Answer: answer, Expires: now.Add(captchaTTL)}); err != nil {
		s.log.Error("store captcha", "err", err)
		writeError(w, http.StatusInternalServerError, wire.ErrCodeInternal, "captcha failed")
		return
	}
	writeJSON(w, http.StatusOK, wire.Captcha{ID: id, PNG: png, ExpiresAt: now.Add(captchaTTL)})
}

// checkCaptcha consumes the captcha whatever the answer.
func (s *Server) checkCaptcha(id, answer string) bool {
	var c captchaEntry
	ok, err := s.takeEphemeral(bCaptchas, id, &c, nil)
	if err != nil {
		s.log.Error("check captcha", "err", err)
	}
	return ok && !s.now().After(c.Expires) && c.Answer == strings.TrimSpace(answer)
}

// decodeCaptcha decodes an account request into req and checks the captcha
// it carries (captcha reads its id and answer after decoding). When either
// fails it answers the kiosk itself and returns false.
func (s *Server) decodeCaptcha(w http.ResponseWriter, body []byte, req any, captcha func() (id, answer string)) bool {
	if err := decodeJSON(body, req); err != nil {
		writeError(w, http.StatusBadRequest, wire.ErrCodeBadRequest, err.Error())
		return false
	}
	if !s.checkCaptcha(captcha()) {
		writeError(w, http.StatusBadRequest, wire.ErrCodeCaptcha, "验证码错误，请重新输入 / wrong or expired captcha; get a new one")
		return false
	}
	return true
}

// ---- password tickets ----

// passwordTicket is a verified identity's right to set its password, given
// to the kiosk that ran the QR login; kept in the store (sealed: it names
// the candidate) so that any node can take it.
type passwordTicket struct {
	Identity wire.Identity `json:"identity"`
	Device   string        `json:"device"`
	Expires  time.Time     `json:"expires"`
}

const passwordTicketTTL = 10 * time.Minute

// newTicket issues a password ticket for a confirmed session ("" when it
// cannot be stored: the kiosk then offers no password setting).
func (s *Server) newTicket(id wire.Identity, device string, now time.Time) string {
	t := randomID(24)
	if err := s.putEphemeral(bTickets, t, passwordTicket{Identity: id, Device: device, Expires: now.Add(passwordTicketTTL)}); err != nil {
		s.log.Error("store password ticket", "err", err)
		return ""
	}
	return t
}

// takeTicket returns and consumes a device's valid ticket.
func (s *Server) takeTicket(ticket, device string) (passwordTicket, bool) {
	var t passwordTicket
	// Another device's attempt leaves the ticket to its kiosk.
	ok, err := s.takeEphemeral(bTickets, ticket, &t, func() bool { return t.Device == device })
	if err != nil {
		s.log.Error("take password ticket", "err", err)
	}
	if !ok || s.now().After(t.Expires) {
		return passwordTicket{}, false
	}
	return t, true
}

// ---- account login ----

// dummyBcrypt is compared against for an unknown ID number, so that it costs
// what a wrong password costs.
const dummyBcrypt = "$2a$10$7xeyley3FyGaWpj6NsDs6Op6vT9hNSL/KmDPgnqT9iBCDKaU4VOHe"

const wrongCredentials = "身份证号码或密码错误。尚未设置或忘记密码：请用支付宝或电子社保卡扫码登录后设置 / wrong ID number or password. No password yet, or forgot it: log in with a QR code, then set one"

func (s *Server) writeThrottled(w http.ResponseWriter, wait time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
	m := strconv.Itoa(retryMinutes(wait))
	writeError(w, http.StatusTooManyRequests, wire.ErrCodeThrottled,
		"登录失败次数过多，请"+m+"分钟后再试，或用支付宝或电子社保卡扫码登录 / too many failed logins: try again in "+m+" min, or log in with a QR code")
}

func (s *Server) handleAccountLogin(w http.ResponseWriter, r *http.Request, dev string, body []byte) {
	var req wire.AccountLoginRequest
	if !s.decodeCaptcha(w, body, &req, func() (string, string) { return req.CaptchaID, req.CaptchaAnswer }) {
		return
	}
	idn := strings.ToUpper(strings.TrimSpace(req.IDNumber))
	keys := map[string]throttlePolicy{tkDevice(dev): deviceThrottle}
	if validIDNumber(idn) {
		keys[tkID(idn)] = idThrottle
	}
	if wait, err := s.throttled(tkID(idn), tkDevice(dev)); err != nil {
		writeError(w, http.StatusInternalServerError, wire.ErrCodeInternal, "throttle lookup failed")
		return
	} else if wait > 0 {
		s.writeThrottled(w, wait)
		return
	}
	if !validIDNumber(idn) || len(req.Password) > 128 {
		if err := s.throttleFailed(keys); err != nil {
			s.log.Error("record failed login", "err", err)
		}
		writeJSON(w, http.StatusOK, wire.AccountLoginResponse{Status: wire.LoginWrongCredential, Message: wrongCredentials})
		return
	}
	acc, err := s.getAccount(idn)
	if err != nil && !errors.Is(err, errNotFound) {
		writeError(w, http.StatusInternalServerError, wire.ErrCodeInternal, "account lookup failed")
		return
	}
	hash := acc.Hash
	if len(hash) == 0 {
		hash = []byte(dummyBcrypt)
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(req.Password)) != nil || len(acc.Hash) == 0 {
		if err := s.throttleFailed(keys); err != nil {
			s.log.Error("record failed login", "err", err)
		}
		writeJSON(w, http.StatusOK, wire.AccountLoginResponse{Status: wire.LoginWrongCredential, Message: wrongCredentials})
		return
	}
	s.throttleClear(tkID(idn))
	writeJSON(w, http.StatusOK, wire.AccountLoginResponse{Status: wire.LoginOK,
		Identity: &wire.Identity{Name: acc.Name, IDNumber: acc.IDNumber, Source: "account"}})
}

// handleSetPassword sets the password of the identity a QR login verified
// (its ticket), replacing a forgotten one, and clears that ID's lockout.
func (s *Server) handleSetPassword(w http.ResponseWriter, r *http.Request, dev string, body []byte) {
	var req wire.SetPasswordRequest
	if !s.decodeCaptcha(w, body, &req, func() (string, string) { return req.CaptchaID, req.CaptchaAnswer }) {
		return
	}
	if msg := passwordProblem(req.NewPassword, req.IDNumber, req.Name); msg != "" {
		writeError(w, http.StatusBadRequest, wire.ErrCodeBadRequest, msg)
		return
	}
	t, ok := s.takeTicket(req.Ticket, dev)
	idn := strings.ToUpper(strings.TrimSpace(req.IDNumber))
	if !ok || (idn != "" && idn != t.Identity.IDNumber) {
		writeError(w, http.StatusForbidden, wire.ErrCodeForbidden,
			"设置密码前请先用支付宝或电子社保卡扫码登录以核验身份 / verify your identity with a QR login (Alipay or social-security card) first, then set the password")
		return
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(req.NewPassword), bcrypt.DefaultCost)
	if err != nil {
		writeError(w, http.StatusInternalServerError, wire.ErrCodeInternal, "hash password")
		return
	}
	id := t.Identity
	err = s.setAccountPassword(id, hash, "device:"+dev)
	if err != nil {
		writeError(w, http.StatusInternalServerError, wire.ErrCodeInternal, "store account")
		return
	}
	s.throttleClear(tkID(id.IDNumber))
	writeJSON(w, http.StatusOK, wire.AccountLoginResponse{Status: wire.LoginOK,
		Identity: &wire.Identity{Name: id.Name, IDNumber: id.IDNumber, Source: "account"}})
}

// maskID keeps the region and the check character of an ID number for logs.
func maskID(idn string) string {
	if len(idn) < 10 {
		return "***"
	}
	return idn[:6] + strings.Repeat("*", len(idn)-8) + idn[len(idn)-2:]
}

// minPasswordScore is the zxcvbn score a password needs: 2 means more than
// about 10^6 guesses, which the per-ID and per-device throttles make
// unreachable online (5 free failures, then lockouts growing to a day), and
// the slow hash makes costly offline. It refuses what a person guesses
// first: repeats and sequences (aaaaaaa1, abcdefg1, 12345678a), common
// passwords and words (password1, qwerty123), and the candidate's own ID
// number, birthday or name.
const minPasswordScore = 2

// passwordProblem says what is wrong with a new password ("" when it is
// fine); related are the person's own data it must not be built from (ID
// number, name).
func passwordProblem(p string, related ...string) string {
	hasLetter, hasDigit := false, false
	for _, c := range p {
		switch {
		case c >= '0' && c <= '9':
			hasDigit = true
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			hasLetter = true
		}
	}
	if len(p) < 8 || len(p) > 64 || !hasLetter || !hasDigit {
		return "密码须为8至64位并同时包含字母和数字 / password must be 8–64 characters with letters and digits"
	}
	var inputs []string
	for _, r := range related {
		if r = strings.TrimSpace(r); r != "" {
			inputs = append(inputs, r)
		}
		if validIDNumber(r) {
			// Birthday, its month and day, the last six: whoever knows the
			// ID number tries these first.
			for _, part := range []string{r, r[6:14], r[len(r)-6:]} {
				if strings.Contains(strings.ToUpper(p), part) {
					return "密码不能包含身份证号码或出生日期 / password must not contain the ID number or the birthday"
				}
			}
			inputs = append(inputs, r[6:14], r[10:14], r[len(r)-6:])
		}
	}
	if zxcvbn.PasswordStrength(p, append(inputs, "examkiosk", "kaoshi", "baoming")).Score < minPasswordScore {
		return "密码太容易被猜到（重复或连续字符、常用密码、生日或身份证号），请换一个 / password is too easy to guess (repeats, sequences, common passwords, birthday or ID number); choose another"
	}
	return ""
}

func randomDigits(n int) string {
	b := []byte(randomID(n))
	out := make([]byte, n)
	for i := range out {
		v, _ := strconv.ParseUint(string(b[2*i:2*i+2]), 16, 8)
		out[i] = '0' + byte(v%10)
	}
	return string(out)
}
