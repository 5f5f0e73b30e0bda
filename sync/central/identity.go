package central

import (
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"examkiosk/exam"
	"examkiosk/sync/central/store"
	"examkiosk/sync/provider"
	"examkiosk/sync/wire"
)

// Identity: a QR login's identity reaches the central only as a provider's
// signed assertion (Alipay's mini-program, the electronic social-security
// card), verified with the provider's public key. The provider first tells
// that its app opened the QR link (scan: the central answers the test-centre
// name the app shows), then that the user it authenticated confirmed
// (confirm: real name and ID number as the provider verified them).

// errAssertion marks an assertion refused (4xx); the session is unchanged.
type assertionError struct {
	status int
	msg    string
}

func (e *assertionError) Error() string { return e.msg }

// applyAssertion verifies a provider's signed assertion for a QR login and
// moves its session on: scan (waiting → scanned) or confirm (scanned →
// confirmed with the asserted identity). It returns the session's centre
// name. A refused assertion changes nothing.
func (s *Server) applyAssertion(channel string, params url.Values) (string, error) {
	if err := s.verifyProvider(channel, params); err != nil {
		return "", &assertionError{http.StatusForbidden, "assertion refused: " + err.Error()}
	}
	a, err := provider.ParseAssertion(params)
	if err != nil {
		return "", &assertionError{http.StatusBadRequest, err.Error()}
	}
	if !s.freshProviderTime(a.Timestamp) {
		return "", &assertionError{http.StatusBadRequest, fmt.Sprintf("assertion timestamp %s is more than %s away", a.Timestamp.Format(time.RFC3339), s.cfg.ClockSkew)}
	}
	idn := strings.ToUpper(strings.TrimSpace(a.IDNumber))
	name := strings.TrimSpace(a.Name)
	now := s.now()
	var centre string
	var refused *assertionError
	var changed string
	err = s.db.Update(func(tx store.Tx) error {
		centre, refused, changed = "", nil, ""
		q, err := s.qrByToken(tx, a.QRToken)
		if errors.Is(err, errNotFound) || (err == nil && q.Channel != channel) {
			refused = &assertionError{http.StatusNotFound, "二维码无效，请在自助机上刷新二维码 / this QR code is not valid: refresh it on the kiosk"}
			return nil
		}
		if err != nil {
			return err
		}
		centre = q.CentreName
		st := q.effectiveState(now)
		switch {
		case st == wire.QRExpired:
			refused = &assertionError{http.StatusGone, "二维码已过期，请在自助机上刷新 / the QR code expired: refresh it on the kiosk"}
		case st != wire.QRWaiting && st != wire.QRScanned:
			refused = &assertionError{http.StatusConflict, "该二维码已使用 / this QR code was already used"}
		case a.Method == provider.MethodScan:
			if st == wire.QRWaiting {
				q.State = wire.QRScanned
				changed = q.ID
			}
		case st != wire.QRScanned:
			refused = &assertionError{http.StatusConflict, "请先扫码 / the code was not scanned yet"}
		case name == "" || utf8.RuneCountInString(name) > 50 || !validIDNumber(idn):
			refused = &assertionError{http.StatusBadRequest, "姓名或身份证号码无效 / name or ID number is not valid"}
		default:
			src := exam.SourceAlipayQR
			if q.Channel == wire.ChannelSocialSecurity {
				src = exam.SourceSocialSecurityQR
			}
			q.Identity = &wire.Identity{Name: name, IDNumber: idn, Source: string(src)}
			q.State = wire.QRConfirmed
			changed = q.ID
		}
		if changed == "" {
			return nil
		}
		return s.saveQR(tx, q)
	})
	if err != nil {
		return "", err
	}
	if changed != "" {
		s.qrChanged(changed)
	}
	if refused != nil {
		return centre, refused
	}
	return centre, nil
}

// handleProviderAssertion is the provider's server calling the central:
// POST /provider/{channel}/qrlogin with the signed assertion as a form.
func (s *Server) handleProviderAssertion(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 16<<10))
	params, perr := url.ParseQuery(string(body))
	if err != nil || perr != nil {
		writeError(w, http.StatusBadRequest, wire.ErrCodeBadRequest, "malformed assertion form")
		return
	}
	centre, err := s.applyAssertion(r.PathValue("channel"), params)
	if ae := (*assertionError)(nil); errors.As(err, &ae) {
		s.log.Warn("identity assertion refused", "channel", r.PathValue("channel"), "err", ae.msg, "remote", r.RemoteAddr)
		writeError(w, ae.status, wire.ErrCodeForbidden, ae.msg)
		return
	}
	if err != nil {
		s.log.Error("identity assertion", "channel", r.PathValue("channel"), "err", err)
		writeError(w, http.StatusInternalServerError, wire.ErrCodeInternal, "assertion failed")
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"centre_name": centre, "method": params.Get("method")})
}

var qrPage = template.Must(template.New("qr").Parse(`<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>扫码登录确认</title>
<style>body{font-family:sans-serif;max-width:28em;margin:2em auto;padding:0 1em}
.centre{font-size:1.4em;font-weight:bold;color:#b00}.demo{background:#fee;border:1px solid #b00;padding:.5em}label{display:block;margin:.6em 0}
input{font-size:1em;width:100%}button{font-size:1.2em;padding:.4em 1.2em;margin-top:1em}</style></head>
<body>
<p>{{.ChannelName}}</p>
{{if .Demo}}<p class="demo">演示模式：此页面代替{{.ChannelName}}的手机应用。模拟的身份提供方（本机密钥）为下面填写的姓名和身份证号码签名，它们未经核验。<br>
Demo mode: this page stands in for the provider's phone app. A simulated identity provider (a local key pair) signs the name and ID number typed below; they are not verified.</p>{{end}}
{{if .Message}}<p><strong>{{.Message}}</strong></p>{{end}}
{{if .CanConfirm}}
<p>您正在登录以下考点的报名自助机：</p>
<p class="centre">{{.Centre}}</p>
<p>如果您不在该考点的自助机前，请不要确认。<br>If you are not standing at a kiosk of this test centre, do not confirm.</p>
<form method="post"><input type="hidden" name="csrf" value="{{.CSRF}}">
<label>姓名 Name <input name="name" required></label>
<label>身份证号码 ID number <input name="id_number" required pattern="[0-9]{17}[0-9Xx]"></label>
<button type="submit">确认登录 Confirm login</button>
</form>
{{else if .ScanWith}}<p>请使用{{.ChannelName}}扫描自助机上的二维码。<br>Scan the code on the kiosk with the provider's app.</p>{{end}}
</body></html>`))

type qrPageData struct {
	ChannelName, Centre, Message, CSRF string
	CanConfirm, Demo, ScanWith         bool
}

func channelName(ch string) string {
	if ch == wire.ChannelSocialSecurity {
		return "电子社保卡扫码登录"
	}
	return "支付宝扫码登录"
}

// qrChannel returns the channel of a QR token ("" when unknown).
func (s *Server) qrChannel(token string) string {
	var q qrSession
	if err := s.db.View(func(tx store.Tx) (err error) { q, err = s.qrByToken(tx, token); return err }); err != nil {
		return ""
	}
	return q.Channel
}

// handleQRPage answers the QR link opened in a browser. Outside demo mode
// it only says which app to scan it with (the provider's app talks to
// /provider/…). In demo mode it plays the provider's app: the simulated
// provider asserts the scan, and the page shows the test-centre name and a
// form whose identity the simulator then signs.
func (s *Server) handleQRPage(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	ch := s.qrChannel(token)
	data := qrPageData{ChannelName: channelName(ch)}
	status := http.StatusOK
	sim := s.DemoProvider(ch)
	switch {
	case ch == "":
		status, data.ChannelName, data.Message = http.StatusNotFound, "", "二维码无效，请在自助机上刷新二维码。 This QR code is not valid; refresh it on the kiosk."
	case sim == nil:
		data.ScanWith = true
	default:
		data.Demo = true
		params, err := sim.Assertion(provider.MethodScan, token, "", "")
		if err == nil {
			data.Centre, err = s.applyAssertion(ch, params)
		}
		if ae := (*assertionError)(nil); errors.As(err, &ae) {
			status, data.Message = ae.status, ae.msg
		} else if err != nil {
			status, data.Message = http.StatusInternalServerError, err.Error()
		} else {
			data.CanConfirm, data.CSRF = true, s.formToken(w, r)
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	qrPage.Execute(w, data)
}

// handleQRConfirm (demo mode only) has the simulated provider sign the
// typed identity and applies it like any provider's assertion. It needs the
// page's CSRF token, a same-origin request and a scanned session.
func (s *Server) handleQRConfirm(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	ch := s.qrChannel(token)
	sim := s.DemoProvider(ch)
	if sim == nil {
		http.NotFound(w, r)
		return
	}
	data := qrPageData{ChannelName: channelName(ch), Demo: true}
	status := http.StatusOK
	if !s.checkFormToken(r) {
		status, data.Message = http.StatusForbidden, "表单已过期或来自其他网站，请重新扫码 / the form expired or came from another site: scan the code again"
	} else {
		name, idn := r.PostFormValue("name"), r.PostFormValue("id_number")
		params, err := sim.Assertion(provider.MethodConfirm, token, strings.TrimSpace(name), strings.ToUpper(strings.TrimSpace(idn)))
		if err == nil {
			data.Centre, err = s.applyAssertion(ch, params)
		}
		var ae *assertionError
		switch {
		case errors.As(err, &ae):
			status, data.Message = ae.status, ae.msg
			data.CanConfirm = ae.status == http.StatusBadRequest
			if data.CanConfirm {
				data.CSRF = s.formToken(w, r)
			}
		case err != nil:
			status, data.Message = http.StatusInternalServerError, err.Error()
		default:
			data.Message = "已确认，请回到自助机继续。 Confirmed; continue at the kiosk."
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	qrPage.Execute(w, data)
}
