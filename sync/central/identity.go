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
	msg    string // a catalog key (words.go) or, from the provider's checks, a message
}

// Error is the message in both languages, for the provider's API and logs.
func (e *assertionError) Error() string {
	if _, ok := pageText[e.msg]; ok {
		return words{}.Both(e.msg)
	}
	return e.msg
}

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
			refused = &assertionError{http.StatusNotFound, "qr.invalid"}
			return nil
		}
		if err != nil {
			return err
		}
		centre = q.CentreName
		st := q.effectiveState(now)
		switch {
		case st == wire.QRExpired:
			refused = &assertionError{http.StatusGone, "qr.expired"}
		case st != wire.QRWaiting && st != wire.QRScanned:
			refused = &assertionError{http.StatusConflict, "qr.used"}
		case a.Method == provider.MethodScan:
			if st == wire.QRWaiting {
				q.State = wire.QRScanned
				changed = q.ID
			}
		case st != wire.QRScanned:
			refused = &assertionError{http.StatusConflict, "qr.notScanned"}
		case name == "" || utf8.RuneCountInString(name) > 50 || !validIDNumber(idn):
			refused = &assertionError{http.StatusBadRequest, "qr.badIdentity"}
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
		s.log.Warn("identity assertion refused", "channel", r.PathValue("channel"), "err", ae.Error(), "remote", r.RemoteAddr)
		writeError(w, ae.status, wire.ErrCodeForbidden, ae.Error())
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
<html lang="{{.W.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>{{.W.T "qr.title"}}</title>
<style>body{font-family:sans-serif;max-width:28em;margin:2em auto;padding:0 1em}
.centre{font-size:1.4em;font-weight:bold;color:#b00}.demo{background:#fee;border:1px solid #b00;padding:.5em}label{display:block;margin:.6em 0}
input{font-size:1em;width:100%}button{font-size:1.2em;padding:.4em 1.2em;margin-top:1em}.lang{float:right}</style></head>
<body>
{{.W.Switch}}
{{with .Channel}}<p>{{$.W.T "qr.heading" ($.W.T .)}}</p>{{end}}
{{if .Demo}}<p class="demo">{{.W.T "qr.demo" (.W.T .Channel)}}</p>{{end}}
{{if .Message}}<p><strong>{{.W.T .Message}}</strong></p>{{end}}
{{if .CanConfirm}}
<p>{{.W.T "qr.at"}}</p>
<p class="centre">{{.Centre}}</p>
<p>{{.W.T "qr.notHere"}}</p>
<form method="post"><input type="hidden" name="csrf" value="{{.CSRF}}">
<label>{{.W.T "qr.name"}} <input name="name" required></label>
<label>{{.W.T "qr.idNumber"}} <input name="id_number" required pattern="[0-9]{17}[0-9Xx]"></label>
<button type="submit">{{.W.T "qr.confirm"}}</button>
</form>
{{else if .ScanWith}}<p>{{.W.T "qr.scanWith" (.W.T .Channel)}}</p>{{end}}
</body></html>`))

// qrPageData is what the phone's QR page shows: Channel and Message are
// catalog keys (words.go).
type qrPageData struct {
	W                              words
	Channel, Centre, Message, CSRF string
	CanConfirm, Demo, ScanWith     bool
}

// channelKey is the catalog key of a QR login channel's name.
func channelKey(ch string) string {
	if ch == wire.ChannelSocialSecurity {
		return "channel.social_security"
	}
	return "channel.alipay"
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
	data := qrPageData{W: pageWords(w, r), Channel: channelKey(ch)}
	status := http.StatusOK
	sim := s.DemoProvider(ch)
	switch {
	case ch == "":
		status, data.Channel, data.Message = http.StatusNotFound, "", "qr.invalid"
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
	data := qrPageData{W: pageWords(w, r), Channel: channelKey(ch), Demo: true}
	status := http.StatusOK
	if !s.checkFormToken(r) {
		status, data.Message = http.StatusForbidden, "form.expired.rescan"
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
			data.Message = "qr.confirmed"
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	qrPage.Execute(w, data)
}
