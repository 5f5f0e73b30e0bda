package central

import (
	"errors"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
	"golang.org/x/crypto/bcrypt"

	"examkiosk/exam"
	"examkiosk/sync/wire"
)

// qrSession is a QR login session. Sessions live in memory: they last two
// minutes, and after a restart the kiosk simply asks for a new QR code.
type qrSession struct {
	id, token, device, channel, centreName string
	state                                  string
	expires                                time.Time
	identity                               *wire.Identity
	changed                                chan struct{} // closed and replaced on every state change
}

// effectiveState returns the state, turning waiting/scanned into expired
// once the deadline passed. Caller holds s.mu.
func (q *qrSession) effectiveState(now time.Time) string {
	if (q.state == wire.QRWaiting || q.state == wire.QRScanned) && now.After(q.expires) {
		return wire.QRExpired
	}
	return q.state
}

func (q *qrSession) setState(st string) {
	q.state = st
	close(q.changed)
	q.changed = make(chan struct{})
}

func (s *Server) handleQRCreate(w http.ResponseWriter, r *http.Request, dev string, body []byte) {
	var req wire.QRLoginRequest
	if err := decodeJSON(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, wire.ErrCodeBadRequest, err.Error())
		return
	}
	if req.Channel != wire.ChannelAlipay && req.Channel != wire.ChannelSocialSecurity {
		writeError(w, http.StatusBadRequest, wire.ErrCodeBadRequest, "channel must be alipay or social_security")
		return
	}
	var d wire.Device
	if err := s.db.View(func(tx *bolt.Tx) error { return getJSON(tx.Bucket(bDevices), dev, &d) }); err != nil {
		writeError(w, http.StatusInternalServerError, wire.ErrCodeInternal, "device lookup failed")
		return
	}
	now := s.now()
	q := &qrSession{
		id: randomID(16), token: randomID(24), device: dev, channel: req.Channel, centreName: d.CentreName,
		state: wire.QRWaiting, expires: now.Add(s.cfg.QRTTL), changed: make(chan struct{}),
	}
	s.mu.Lock()
	for id, old := range s.qr { // forget sessions that ended long ago
		if now.Sub(old.expires) > 10*time.Minute {
			delete(s.qr, id)
			delete(s.qrTokens, old.token)
		}
	}
	s.qr[q.id], s.qrTokens[q.token] = q, q
	view := s.qrView(q, now)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, view)
}

// qrView renders a session for the kiosk. Caller holds s.mu.
func (s *Server) qrView(q *qrSession, now time.Time) wire.QRSession {
	return wire.QRSession{
		ID: q.id, Channel: q.channel, URL: strings.TrimRight(s.cfg.PublicURL, "/") + "/qr/" + q.token,
		State: q.effectiveState(now), ExpiresAt: q.expires,
	}
}

// handleQRPoll long-polls a session: it answers at once when the state
// differs from ?state=, otherwise when it changes, expires or ?wait= passes.
// A confirmed identity is handed out exactly once; later polls see consumed.
func (s *Server) handleQRPoll(w http.ResponseWriter, r *http.Request, dev string, _ []byte) {
	known := r.URL.Query().Get("state")
	wait, _ := time.ParseDuration(r.URL.Query().Get("wait"))
	wait = min(max(wait, 0), s.cfg.MaxLongPoll)
	timeout := time.NewTimer(wait)
	defer timeout.Stop()
	for {
		s.mu.Lock()
		q, ok := s.qr[r.PathValue("id")]
		if !ok || q.device != dev { // bound to the device that created it
			s.mu.Unlock()
			writeError(w, http.StatusNotFound, wire.ErrCodeNotFound, "no such login session for this device")
			return
		}
		now := s.now()
		st := q.effectiveState(now)
		if st != known || wait == 0 {
			view := s.qrView(q, now)
			if st == wire.QRConfirmed {
				view.Identity = q.identity
				q.setState(wire.QRConsumed)
			}
			s.mu.Unlock()
			writeJSON(w, http.StatusOK, view)
			return
		}
		changed := q.changed
		untilExpiry := q.expires.Sub(now) + 10*time.Millisecond
		s.mu.Unlock()
		expiry := time.NewTimer(max(untilExpiry, 0))
		select {
		case <-changed:
		case <-expiry.C:
		case <-timeout.C:
			wait = 0
		case <-r.Context().Done():
			expiry.Stop()
			return
		}
		expiry.Stop()
	}
}

var qrPage = template.Must(template.New("qr").Parse(`<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>扫码登录确认</title>
<style>body{font-family:sans-serif;max-width:28em;margin:2em auto;padding:0 1em}
.centre{font-size:1.4em;font-weight:bold;color:#b00}label{display:block;margin:.6em 0}
input{font-size:1em;width:100%}button{font-size:1.2em;padding:.4em 1.2em;margin-top:1em}</style></head>
<body>
<p>{{.ChannelName}}（演示：此页面代替手机应用）</p>
{{if .Message}}<p><strong>{{.Message}}</strong></p>{{end}}
{{if .CanConfirm}}
<p>您正在登录以下考点的报名自助机：</p>
<p class="centre">{{.Centre}}</p>
<p>如果您不在该考点的自助机前，请不要确认。<br>If you are not standing at a kiosk of this test centre, do not confirm.</p>
<form method="post">
<label>姓名 Name <input name="name" required></label>
<label>身份证号码 ID number <input name="id_number" required pattern="[0-9]{17}[0-9Xx]"></label>
<button type="submit">确认登录 Confirm login</button>
</form>
{{end}}
</body></html>`))

type qrPageData struct {
	ChannelName, Centre, Message string
	CanConfirm                   bool
}

func channelName(ch string) string {
	if ch == wire.ChannelSocialSecurity {
		return "电子社保卡扫码登录"
	}
	return "支付宝扫码登录"
}

// handleQRPage plays the phone app opening the QR link: it marks the
// session scanned and shows the test-centre name before confirming.
func (s *Server) handleQRPage(w http.ResponseWriter, r *http.Request) {
	now := s.now()
	s.mu.Lock()
	q, ok := s.qrTokens[r.PathValue("token")]
	var data qrPageData
	switch {
	case !ok:
		data.Message = "二维码无效，请在自助机上刷新二维码。 This QR code is not valid; refresh it on the kiosk."
	default:
		data.ChannelName, data.Centre = channelName(q.channel), q.centreName
		switch q.effectiveState(now) {
		case wire.QRWaiting:
			q.setState(wire.QRScanned)
			data.CanConfirm = true
		case wire.QRScanned:
			data.CanConfirm = true
		case wire.QRExpired:
			data.Message = "二维码已过期，请在自助机上刷新。 The QR code expired; refresh it on the kiosk."
		default:
			data.Message = "该二维码已使用。 This QR code was already used."
		}
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if !ok {
		w.WriteHeader(http.StatusNotFound)
	}
	qrPage.Execute(w, data)
}

// handleQRConfirm plays the phone app confirming the login with the user's
// authenticated identity.
func (s *Server) handleQRConfirm(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSpace(r.FormValue("name"))
	idn := strings.ToUpper(strings.TrimSpace(r.FormValue("id_number")))
	now := s.now()
	var data qrPageData
	status := http.StatusOK
	s.mu.Lock()
	q, ok := s.qrTokens[r.PathValue("token")]
	switch {
	case !ok:
		status, data.Message = http.StatusNotFound, "二维码无效。 This QR code is not valid."
	case q.effectiveState(now) == wire.QRExpired:
		status, data.Message = http.StatusGone, "二维码已过期，请在自助机上刷新。 The QR code expired; refresh it on the kiosk."
	case q.state != wire.QRScanned && q.state != wire.QRWaiting:
		status, data.Message = http.StatusConflict, "该二维码已使用。 This QR code was already used."
	case name == "" || utf8.RuneCountInString(name) > 50 || !validIDNumber(idn):
		status, data.Message = http.StatusBadRequest, "姓名或身份证号码无效，请核对。 Name or ID number is not valid."
		data.CanConfirm, data.Centre, data.ChannelName = true, q.centreName, channelName(q.channel)
	default:
		src := exam.SourceAlipayQR
		if q.channel == wire.ChannelSocialSecurity {
			src = exam.SourceSocialSecurityQR
		}
		q.identity = &wire.Identity{Name: name, IDNumber: idn, Source: string(src)}
		q.setState(wire.QRConfirmed)
		data.ChannelName, data.Message = channelName(q.channel), "已确认，请回到自助机继续。 Confirmed; continue at the kiosk."
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	qrPage.Execute(w, data)
}

// ---- captcha and account login ----

type captchaEntry struct {
	answer  string
	expires time.Time
}

const captchaTTL = 5 * time.Minute

func (s *Server) handleCaptcha(w http.ResponseWriter, r *http.Request, _ string, _ []byte) {
	answer := randomDigits(4)
	png, err := renderCaptcha(answer)
	if err != nil {
		writeError(w, http.StatusInternalServerError, wire.ErrCodeInternal, err.Error())
		return
	}
	now := s.now()
	id := randomID(12)
	s.mu.Lock()
	for k, c := range s.captchas {
		if now.After(c.expires) {
			delete(s.captchas, k)
		}
	}
	s.captchas[id] = captchaEntry{answer: answer, expires: now.Add(captchaTTL)}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, wire.Captcha{ID: id, PNG: png, ExpiresAt: now.Add(captchaTTL)})
}

// checkCaptcha consumes the captcha whatever the answer.
func (s *Server) checkCaptcha(id, answer string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.captchas[id]
	delete(s.captchas, id)
	return ok && !s.now().After(c.expires) && c.answer == strings.TrimSpace(answer)
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

func (s *Server) handleAccountLogin(w http.ResponseWriter, r *http.Request, _ string, body []byte) {
	var req wire.AccountLoginRequest
	if !s.decodeCaptcha(w, body, &req, func() (string, string) { return req.CaptchaID, req.CaptchaAnswer }) {
		return
	}
	idn := strings.ToUpper(strings.TrimSpace(req.IDNumber))
	var acc accountRecord
	err := s.db.View(func(tx *bolt.Tx) error { return getJSON(tx.Bucket(bAccounts), idn, &acc) })
	if errors.Is(err, errNotFound) || (err == nil && len(acc.Hash) == 0) {
		writeJSON(w, http.StatusOK, wire.AccountLoginResponse{Status: wire.LoginPasswordNotSet,
			Message: "首次登录，请设置密码 / first login: set a password"})
		return
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, wire.ErrCodeInternal, "account lookup failed")
		return
	}
	if bcrypt.CompareHashAndPassword(acc.Hash, []byte(req.Password)) != nil {
		writeJSON(w, http.StatusOK, wire.AccountLoginResponse{Status: wire.LoginWrongCredential,
			Message: "身份证号码或密码错误 / wrong ID number or password"})
		return
	}
	writeJSON(w, http.StatusOK, wire.AccountLoginResponse{Status: wire.LoginOK,
		Identity: &wire.Identity{Name: acc.Name, IDNumber: acc.IDNumber, Source: "account"}})
}

func (s *Server) handleSetPassword(w http.ResponseWriter, r *http.Request, _ string, body []byte) {
	var req wire.SetPasswordRequest
	if !s.decodeCaptcha(w, body, &req, func() (string, string) { return req.CaptchaID, req.CaptchaAnswer }) {
		return
	}
	idn := strings.ToUpper(strings.TrimSpace(req.IDNumber))
	name := strings.TrimSpace(req.Name)
	if !validIDNumber(idn) || name == "" {
		writeError(w, http.StatusBadRequest, wire.ErrCodeBadRequest, "身份证号码或姓名无效 / ID number or name is not valid")
		return
	}
	if msg := passwordProblem(req.NewPassword); msg != "" {
		writeError(w, http.StatusBadRequest, wire.ErrCodeBadRequest, msg)
		return
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(req.NewPassword), bcrypt.DefaultCost)
	if err != nil {
		writeError(w, http.StatusInternalServerError, wire.ErrCodeInternal, "hash password")
		return
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		var acc accountRecord
		err := getJSON(tx.Bucket(bAccounts), idn, &acc)
		if err == nil && len(acc.Hash) > 0 {
			return errPasswordSet
		}
		acc = accountRecord{IDNumber: idn, Name: name, Hash: hash, CreatedAt: s.now()}
		return putJSON(tx.Bucket(bAccounts), idn, acc)
	})
	if errors.Is(err, errPasswordSet) {
		writeError(w, http.StatusConflict, wire.ErrCodeForbidden, "密码已设置，请直接登录 / a password is already set; log in with it")
		return
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, wire.ErrCodeInternal, "store account")
		return
	}
	writeJSON(w, http.StatusOK, wire.AccountLoginResponse{Status: wire.LoginOK,
		Identity: &wire.Identity{Name: name, IDNumber: idn, Source: "account"}})
}

var errPasswordSet = errors.New("password already set")

func passwordProblem(p string) string {
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
