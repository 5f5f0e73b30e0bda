package central

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"examkiosk/sync/central/store"
	"examkiosk/sync/wire"
)

// qrSession is a QR login session, kept in the store (sealed: a confirmed
// one holds the identity) so that the kiosk's polls, the phone's page and
// the provider may each reach any node. Sessions last two minutes; ended
// ones are pruned ten minutes later.
type qrSession struct {
	ID         string         `json:"id"`
	Token      string         `json:"token"`
	Device     string         `json:"device"`
	Channel    string         `json:"channel"`
	CentreName string         `json:"centre_name"`
	State      string         `json:"state"`
	Expires    time.Time      `json:"expires"`
	Identity   *wire.Identity `json:"identity,omitempty"`
}

func (q qrSession) expiry() time.Time { return q.Expires.Add(10 * time.Minute) }

// qrRecheck is how often a long poll rereads its session (another node
// may have changed it); changes made by this node wake it at once.
const qrRecheck = 200 * time.Millisecond

// effectiveState returns the state, turning waiting/scanned into expired
// once the deadline passed.
func (q *qrSession) effectiveState(now time.Time) string {
	if (q.State == wire.QRWaiting || q.State == wire.QRScanned) && now.After(q.Expires) {
		return wire.QRExpired
	}
	return q.State
}

// qrTokenKey indexes a session by a hash of its token (the token itself is
// only inside the sealed session).
func qrTokenKey(token string) []byte {
	h := sha256.Sum256([]byte("examkiosk qr token\x00" + token))
	return h[:]
}

// saveQR stores a session and its token index.
func (s *Server) saveQR(tx store.Tx, q qrSession) error {
	data, err := json.Marshal(q)
	if err != nil {
		return err
	}
	if err := tx.Bucket(bQR).Put([]byte(q.ID), s.keys.box.Seal(bQR, []byte(q.ID), data)); err != nil {
		return err
	}
	return tx.Bucket(bQRTokens).Put(qrTokenKey(q.Token), []byte(q.ID))
}

// loadQR returns a session by id (errNotFound).
func (s *Server) loadQR(tx store.Tx, id string) (qrSession, error) {
	var q qrSession
	found, err := s.getEphemeral(tx, bQR, id, &q)
	if err == nil && !found {
		err = errNotFound
	}
	return q, err
}

// qrByToken returns a session by token (errNotFound).
func (s *Server) qrByToken(tx store.Tx, token string) (qrSession, error) {
	id := tx.Bucket(bQRTokens).Get(qrTokenKey(token))
	if id == nil {
		return qrSession{}, errNotFound
	}
	q, err := s.loadQR(tx, string(id))
	if err == nil && q.Token != token {
		err = errNotFound
	}
	return q, err
}

// qrWaiters are this node's long polls of one session.
type qrWaiters struct {
	ch chan struct{} // closed at this node's next change of the session
	n  int
}

// qrChanged wakes this node's long polls of a session.
func (s *Server) qrChanged(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if w, ok := s.qrWake[id]; ok {
		close(w.ch)
		w.ch = make(chan struct{})
	}
}

// qrWaiter returns a channel closed at this node's next change of a
// session, and the function that stops waiting.
func (s *Server) qrWaiter(id string) (<-chan struct{}, func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, ok := s.qrWake[id]
	if !ok {
		w = &qrWaiters{ch: make(chan struct{})}
		s.qrWake[id] = w
	}
	w.n++
	return w.ch, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if w.n--; w.n == 0 {
			delete(s.qrWake, id)
		}
	}
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
	q := qrSession{
		ID: randomID(16), Token: randomID(24), Device: dev, Channel: req.Channel, CentreName: d.CentreName,
		State: wire.QRWaiting, Expires: now.Add(s.cfg.QRTTL),
	}
	if err := s.db.Update(func(tx store.Tx) error { return s.saveQR(tx, q) }); err != nil {
		s.log.Error("store QR session", "err", err)
		writeError(w, http.StatusInternalServerError, wire.ErrCodeInternal, "QR session failed")
		return
	}
	writeJSON(w, http.StatusOK, s.qrView(q, now))
}

// qrView renders a session for the kiosk.
func (s *Server) qrView(q qrSession, now time.Time) wire.QRSession {
	return wire.QRSession{
		ID: q.ID, Channel: q.Channel, URL: strings.TrimRight(s.cfg.PublicURL, "/") + "/qr/" + q.Token,
		State: q.effectiveState(now), ExpiresAt: q.Expires,
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
	id := r.PathValue("id")
	for {
		changed, done := s.qrWaiter(id) // before reading: a change after the read wakes us
		var q qrSession
		err := s.db.View(func(tx store.Tx) (err error) { q, err = s.loadQR(tx, id); return err })
		now := s.now()
		st := q.effectiveState(now)
		switch {
		case errors.Is(err, errNotFound) || (err == nil && q.Device != dev): // bound to the device that created it
			done()
			writeError(w, http.StatusNotFound, wire.ErrCodeNotFound, "no such login session for this device")
			return
		case err != nil:
			done()
			s.log.Error("QR poll", "err", err)
			writeError(w, http.StatusInternalServerError, wire.ErrCodeInternal, "QR poll failed")
			return
		case (st != known || wait == 0) && st == wire.QRConfirmed:
			done()
			s.consumeQR(w, id, dev)
			return
		case st != known || wait == 0:
			done()
			writeJSON(w, http.StatusOK, s.qrView(q, now))
			return
		}
		expiry := time.NewTimer(max(q.Expires.Sub(now)+10*time.Millisecond, 0))
		recheck := time.NewTimer(qrRecheck)
		select {
		case <-changed:
		case <-expiry.C:
		case <-recheck.C:
		case <-timeout.C:
			wait = 0
		case <-r.Context().Done():
		}
		expiry.Stop()
		recheck.Stop()
		done()
		if r.Context().Err() != nil {
			return
		}
	}
}

// consumeQR hands a confirmed session's identity and a password ticket to
// its kiosk, once: the session turns consumed in the same transaction that
// reads it, so that two polls (on any nodes) cannot both get it.
func (s *Server) consumeQR(w http.ResponseWriter, id, dev string) {
	var q qrSession
	var view wire.QRSession
	now := s.now()
	err := s.db.Update(func(tx store.Tx) (err error) {
		if q, err = s.loadQR(tx, id); err != nil {
			return err
		}
		view = s.qrView(q, now)
		if q.effectiveState(now) != wire.QRConfirmed {
			return nil
		}
		view.Identity = q.Identity
		q.State = wire.QRConsumed
		q.Identity = nil // handed out: not kept
		return s.saveQR(tx, q)
	})
	if err != nil || q.Device != dev {
		s.log.Error("QR consume", "err", err)
		writeError(w, http.StatusInternalServerError, wire.ErrCodeInternal, "QR poll failed")
		return
	}
	if view.Identity != nil {
		view.PasswordTicket = s.newTicket(*view.Identity, dev, now)
	}
	s.qrChanged(id)
	writeJSON(w, http.StatusOK, view)
}
