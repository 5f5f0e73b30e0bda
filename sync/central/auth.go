package central

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"examkiosk/sync/central/store"
	"examkiosk/sync/signing"
	"examkiosk/sync/wire"
)

// Request authentication of the kiosk protocol (under /v1/): who may send
// what, how much, how fast and how many at once, and the central's signature
// on every answer.

// slots caps requests in flight overall and per device.
type slots struct {
	mu           sync.Mutex
	total        int
	perDevice    map[string]int
	max, maxEach int
}

func newSlots(max, maxEach int) *slots {
	return &slots{perDevice: map[string]int{}, max: max, maxEach: maxEach}
}

// acquire takes a slot overall (dev "") or for a device; false when full.
func (l *slots) acquire(dev string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if dev == "" {
		if l.total >= l.max {
			return false
		}
		l.total++
		return true
	}
	if l.perDevice[dev] >= l.maxEach {
		return false
	}
	l.perDevice[dev]++
	return true
}

func (l *slots) release(dev string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if dev == "" {
		l.total--
		return
	}
	if l.perDevice[dev]--; l.perDevice[dev] <= 0 {
		delete(l.perDevice, dev)
	}
}

// attempts counts events per key in fixed windows (enrolment attempts per
// client address), in the store so that every node counts toward one
// limit; keys are blinded like throttle keys and records sealed.
type attempts struct {
	window time.Duration
	max    int
}

// attemptWindow is one key's count in the window that ends at End.
type attemptWindow struct {
	End time.Time `json:"end"`
	N   int       `json:"n"`
}

func (w attemptWindow) expiry() time.Time { return w.End }

// allowAttempt counts one attempt for key at now and reports whether it is
// within the limit of a.
func (s *Server) allowAttempt(a *attempts, key string, now time.Time) (bool, error) {
	var w attemptWindow
	k := s.keys.throttleKey("attempt\x00" + key)
	err := s.db.Update(func(tx store.Tx) error {
		w = attemptWindow{}
		if _, err := s.getEphemeral(tx, bAttempts, k, &w); err != nil {
			return err
		}
		if now.After(w.End) {
			w = attemptWindow{End: now.Add(a.window)}
		}
		w.N++
		return s.putEphemeralTx(tx, bAttempts, k, w)
	})
	return w.N <= a.max, err
}

// clientHost is the peer's IP address (for rate limits only, never for
// trust).
func clientHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// refuse answers a request refused from its headers without keeping its
// body. A body that has already arrived, or arrives at once, is discarded
// (at most refuseDrainBytes within refuseDrainTime, into no buffer of its
// own) so that the client, still writing, reads the answer instead of a
// connection reset: a kiosk whose clock is off must learn that from the
// answer. Anything larger or slower is cut: the connection is closed after
// the answer instead of draining whatever the client still sends.
func refuse(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	if r.ContentLength != 0 {
		rc := http.NewResponseController(w)
		drained := false
		if r.ContentLength > 0 && r.ContentLength <= refuseDrainBytes {
			rc.SetReadDeadline(time.Now().Add(refuseDrainTime))
			n, _ := io.Copy(io.Discard, io.LimitReader(r.Body, refuseDrainBytes))
			drained = n == r.ContentLength
		}
		if !drained {
			w.Header().Set("Connection", "close")
		}
		rc.SetReadDeadline(time.Now())
	}
	writeError(w, status, code, msg)
}

// refuseDrainBytes and refuseDrainTime bound what refuse discards of a
// refused body (net/http's own bound for unread bodies is 256 KiB).
const (
	refuseDrainBytes = 256 << 10
	refuseDrainTime  = 250 * time.Millisecond
)

// readBody reads a body of at most limit bytes, allocating as it arrives
// (never from the announced Content-Length), within the time its length
// allows at cfg.BodyMinRate.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	expect := limit
	if r.ContentLength >= 0 && r.ContentLength < limit {
		expect = r.ContentLength
	}
	deadline := time.Now().Add(s.cfg.BodyGrace + time.Duration(expect/s.cfg.BodyMinRate)*time.Second)
	rc := http.NewResponseController(w)
	rc.SetReadDeadline(deadline)
	defer rc.SetReadDeadline(time.Time{})
	var buf bytes.Buffer
	if r.ContentLength >= 0 {
		buf.Grow(int(expect) + bytes.MinRead) // one buffer, not doublings and copies of a 4 MB push
	}
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, limit))
	return buf.Bytes(), err
}

// signed authenticates a kiosk request from its headers before reading any
// body (signature v2 covers the body hash), enforces the per-endpoint body
// limit and the concurrency caps, then checks the body against its signed
// hash and passes the device and body on.
func (s *Server) signed(limit int64, h func(w http.ResponseWriter, r *http.Request, dev string, body []byte)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.slots.acquire("") {
			w.Header().Set("Retry-After", "5")
			refuse(w, r, http.StatusTooManyRequests, wire.ErrCodeTooManyRequests, "中心繁忙，请稍后重试 / the central is busy; retry later")
			return
		}
		defer s.slots.release("")
		auth, err := s.verifier.VerifyHeaders(r)
		if err != nil {
			var se *signing.Error
			if !errors.As(err, &se) {
				s.log.Error("verify request", "err", err)
				refuse(w, r, http.StatusInternalServerError, wire.ErrCodeInternal, "verification failed")
				return
			}
			status := http.StatusUnauthorized
			if se.Code == wire.ErrCodeRevokedDevice {
				status = http.StatusForbidden
			}
			s.log.Warn("rejected request", "path", r.URL.Path, "device", truncate(r.Header.Get(wire.HeaderDevice), 64), "code", se.Code, "msg", se.Msg)
			refuse(w, r, status, se.Code, se.Msg)
			return
		}
		if !s.slots.acquire(auth.Device) {
			w.Header().Set("Retry-After", "2")
			refuse(w, r, http.StatusTooManyRequests, wire.ErrCodeTooManyRequests,
				fmt.Sprintf("too many requests of this device at once (at most %d)", s.cfg.MaxConcurrentPerDevice))
			return
		}
		defer s.slots.release(auth.Device)
		if r.ContentLength > limit {
			refuse(w, r, http.StatusRequestEntityTooLarge, wire.ErrCodeTooLarge,
				fmt.Sprintf("request body exceeds %d bytes; send smaller batches", limit))
			return
		}
		body, err := s.readBody(w, r, limit)
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				refuse(w, r, http.StatusRequestEntityTooLarge, wire.ErrCodeTooLarge,
					fmt.Sprintf("request body exceeds %d bytes; send smaller batches", limit))
				return
			}
			refuse(w, r, http.StatusBadRequest, wire.ErrCodeBadRequest, "read body: "+err.Error())
			return
		}
		if err := auth.CheckBody(body); err != nil {
			writeError(w, http.StatusUnauthorized, wire.ErrCodeBadSignature, err.(*signing.Error).Msg)
			return
		}
		h(w, r, auth.Device, body)
	})
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// answerWriter buffers an answer so that the central can sign it.
type answerWriter struct {
	http.ResponseWriter
	status int
	buf    bytes.Buffer
}

func (a *answerWriter) WriteHeader(status int) {
	if a.status == 0 {
		a.status = status
	}
}

func (a *answerWriter) Write(p []byte) (int, error) {
	if a.status == 0 {
		a.status = http.StatusOK
	}
	return a.buf.Write(p)
}

// Unwrap lets http.ResponseController reach the connection.
func (a *answerWriter) Unwrap() http.ResponseWriter { return a.ResponseWriter }

// signAnswers signs every answer of h with the central's answer key, bound
// to the request's nonce, with the central's time (kiosks use it for their
// clock offset only when the signature verifies).
func (s *Server) signAnswers(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		aw := &answerWriter{ResponseWriter: w}
		h.ServeHTTP(aw, r)
		if aw.status == 0 {
			aw.status = http.StatusOK
		}
		signing.SignAnswer(w.Header(), s.keys.answer, r.Header.Get(wire.HeaderNonce), aw.status, aw.buf.Bytes(), s.now())
		w.Header().Set("Content-Length", strconv.Itoa(aw.buf.Len()))
		w.WriteHeader(aw.status)
		if _, err := w.Write(aw.buf.Bytes()); err != nil {
			s.log.Debug("write answer", "path", r.URL.Path, "err", err)
		}
	})
}
