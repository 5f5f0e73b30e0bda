package central

import (
	"net/http"
	"strings"
	"time"

	"examkiosk/sync/central/store"
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
	if _, ok := s.providers[req.Channel]; !ok {
		writeError(w, http.StatusServiceUnavailable, wire.ErrCodeForbidden, "该扫码登录方式未开通，请使用其他方式登录 / this QR login channel is not configured on the central: use another way to log in")
		return
	}
	var d wire.Device
	if err := s.db.View(func(tx store.Tx) error { return getJSON(tx.Bucket(bDevices), dev, &d) }); err != nil {
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
				view.PasswordTicket = s.newTicket(q, now)
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
