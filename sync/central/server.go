package central

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

	"examkiosk/sync/seal"
	"examkiosk/sync/signing"
	"examkiosk/sync/wire"
)

// Server is the reference central system. Create it with Open, serve
// Handler, and Close it when done.
type Server struct {
	cfg      Config
	db       *bolt.DB
	sealKey  seal.KeyPair
	log      *slog.Logger
	now      func() time.Time
	verifier *signing.Verifier
	nonces   *boltNonces

	mu       sync.Mutex
	qr       map[string]*qrSession // by session id
	qrTokens map[string]*qrSession // by token
	captchas map[string]captchaEntry
}

// Option adjusts a Server.
type Option func(*Server)

// WithClock replaces time.Now (tests).
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithLogger sets the logger (slog.Default otherwise).
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// Open opens (or creates) the store in cfg.DataDir and, with cfg.Demo,
// seeds the demo data.
func Open(cfg Config, opts ...Option) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("central config: %w", err)
	}
	db, kp, err := openDB(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg: cfg, db: db, sealKey: kp, log: slog.Default(), now: time.Now,
		qr: map[string]*qrSession{}, qrTokens: map[string]*qrSession{}, captchas: map[string]captchaEntry{},
	}
	for _, o := range opts {
		o(s)
	}
	s.nonces = &boltNonces{db: db, now: s.now}
	s.verifier = &signing.Verifier{Keys: s.deviceKey, Nonces: s.nonces, Window: cfg.ClockSkew, Now: s.now}
	if cfg.Demo {
		if err := s.SeedDemo(); err != nil {
			db.Close()
			return nil, err
		}
	}
	return s, nil
}

// Close closes the store.
func (s *Server) Close() error { return s.db.Close() }

// SealPublicKey returns the X25519 key kiosks seal documents to.
func (s *Server) SealPublicKey() [seal.KeySize]byte { return s.sealKey.Public }

// RunMaintenance prunes expired nonces and expires unpaid orders every
// interval until ctx ends.
func (s *Server) RunMaintenance(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if n, err := s.nonces.prune(); err != nil {
			s.log.Error("prune nonces", "err", err)
		} else if n > 0 {
			s.log.Debug("pruned nonces", "count", n)
		}
		if n, err := s.ExpireOverdue(); err != nil {
			s.log.Error("expire overdue orders", "err", err)
		} else if n > 0 {
			s.log.Info("expired unpaid registrations", "count", n)
		}
	}
}

// Handler returns the HTTP handler for the protocol, the admin API and the
// phone-side and reviewer pages.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("POST /v1/enroll", s.handleEnroll)
	mux.Handle("POST /v1/push", s.signed(s.handlePush))
	mux.Handle("GET /v1/pull", s.signed(s.handlePull))
	mux.Handle("POST /v1/heartbeat", s.signed(s.handleHeartbeat))
	mux.Handle("POST /v1/qr/sessions", s.signed(s.handleQRCreate))
	mux.Handle("GET /v1/qr/sessions/{id}", s.signed(s.handleQRPoll))
	mux.Handle("GET /v1/captcha", s.signed(s.handleCaptcha))
	mux.Handle("POST /v1/account/login", s.signed(s.handleAccountLogin))
	mux.Handle("POST /v1/account/password", s.signed(s.handleSetPassword))

	mux.HandleFunc("GET /qr/{token}", s.handleQRPage)
	mux.HandleFunc("POST /qr/{token}", s.handleQRConfirm)
	mux.HandleFunc("GET /pay/{order}", s.handlePayPage)
	mux.HandleFunc("POST /pay/{order}/notify", s.handlePayNotify)

	mux.Handle("POST /admin/centres", s.admin(s.handleAddCentre))
	mux.Handle("POST /admin/enrolment-codes", s.admin(s.handleNewCode))
	mux.Handle("GET /admin/devices", s.admin(s.handleDevices))
	mux.Handle("POST /admin/devices/{id}/revoke", s.admin(s.handleRevoke))
	mux.Handle("PUT /admin/catalog", s.admin(s.handlePutCatalog))
	mux.Handle("GET /admin/catalog", s.admin(s.handleGetCatalog))
	mux.Handle("GET /admin/registrations", s.admin(s.handleListRegs))
	mux.Handle("GET /admin/registrations/{id}", s.admin(s.handleGetReg))
	mux.Handle("GET /admin/registrations/{id}/photo", s.admin(s.handlePhoto))
	mux.Handle("POST /admin/registrations/{id}/review", s.admin(s.handleReviewAPI))
	mux.Handle("GET /review", s.admin(s.handleReviewPage))
	mux.Handle("POST /review/{id}", s.admin(s.handleReviewForm))
	mux.Handle("GET /devices", s.admin(s.handleDevicesPage))
	s.fleetRoutes(mux) // fleet.go: /fleet, /fleet/alerts, /metrics
	mux.Handle("GET /{$}", s.admin(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/review", http.StatusSeeOther)
	}))
	return mux
}

// readBody reads at most limit bytes, in one allocation when the client
// sent Content-Length (push bodies are megabytes).
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	rd := http.MaxBytesReader(w, r.Body, limit)
	if n := r.ContentLength; n > 0 && n <= limit {
		buf := make([]byte, n)
		if _, err := io.ReadFull(rd, buf); err != nil {
			return nil, err
		}
		return buf, nil
	}
	return io.ReadAll(rd)
}

// signed reads the (bounded) body, verifies the device signature and passes
// the body and device on.
func (s *Server) signed(h func(w http.ResponseWriter, r *http.Request, dev string, body []byte)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := readBody(w, r, s.cfg.MaxBodyBytes)
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				writeError(w, http.StatusRequestEntityTooLarge, wire.ErrCodeTooLarge,
					fmt.Sprintf("request body exceeds %d bytes; send smaller batches", s.cfg.MaxBodyBytes))
				return
			}
			writeError(w, http.StatusBadRequest, wire.ErrCodeBadRequest, "read body: "+err.Error())
			return
		}
		dev, err := s.verifier.Verify(r, body)
		if err != nil {
			var se *signing.Error
			if !errors.As(err, &se) {
				s.log.Error("verify request", "err", err)
				writeError(w, http.StatusInternalServerError, wire.ErrCodeInternal, "verification failed")
				return
			}
			status := http.StatusUnauthorized
			if se.Code == wire.ErrCodeRevokedDevice {
				status = http.StatusForbidden
			}
			s.log.Warn("rejected request", "path", r.URL.Path, "device", r.Header.Get(wire.HeaderDevice), "code", se.Code, "msg", se.Msg)
			writeError(w, status, se.Code, se.Msg)
			return
		}
		h(w, r, dev, body)
	})
}

// admin guards staff pages: with an admin token, basic auth or bearer;
// without one, loopback clients only.
func (s *Server) admin(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.AdminToken == "" {
			if !isLoopback(r) {
				writeError(w, http.StatusForbidden, wire.ErrCodeForbidden, "admin pages answer loopback clients only unless central.admin_token is set")
				return
			}
			h(w, r)
			return
		}
		given := ""
		if _, p, ok := r.BasicAuth(); ok {
			given = p
		} else if t, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			given = t
		}
		if subtle.ConstantTimeCompare([]byte(given), []byte(s.cfg.AdminToken)) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="ExamKiosk central"`)
			writeError(w, http.StatusUnauthorized, wire.ErrCodeForbidden, "admin token required")
			return
		}
		h(w, r)
	})
}

func isLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, wire.ErrorResponse{Code: code, Message: msg})
}

// decodeJSON decodes a JSON value held in memory (json.Unmarshal costs less
// CPU here than a Decoder, which copies its input into growing buffers).
func decodeJSON(data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("malformed JSON: %w", err)
	}
	return nil
}

func randomID(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// ---- enrolment and devices ----

func (s *Server) handleEnroll(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 64<<10))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, wire.ErrCodeTooLarge, "enrolment request too large")
		return
	}
	var req wire.EnrollRequest
	if err := decodeJSON(body, &req); err != nil {
		writeError(w, http.StatusBadRequest, wire.ErrCodeBadRequest, err.Error())
		return
	}
	if len(req.PublicKey) != ed25519.PublicKeySize || !ed25519.Verify(req.PublicKey, wire.EnrollProofMessage(req.Code), req.Proof) {
		writeError(w, http.StatusBadRequest, wire.ErrCodeBadSignature, "public key or proof of possession is invalid")
		return
	}
	now := s.now()
	var resp wire.EnrollResponse
	err = s.db.Update(func(tx *bolt.Tx) error {
		var code codeRecord
		if err := getJSON(tx.Bucket(bCodes), req.Code, &code); err != nil {
			return errInvalidCode
		}
		if (!code.Reusable && code.UsedBy != "") || (!code.ExpiresAt.IsZero() && now.After(code.ExpiresAt)) {
			return errInvalidCode
		}
		if code.LoopbackOnly && !isLoopback(r) {
			return errInvalidCode
		}
		var centre wire.Centre
		if err := getJSON(tx.Bucket(bCentres), code.CentreID, &centre); err != nil {
			return fmt.Errorf("centre %s of code: %w", code.CentreID, err)
		}
		id, err := uuid.NewV7()
		if err != nil {
			return err
		}
		dev := wire.Device{ID: "kiosk-" + id.String(), CentreID: centre.ID, CentreName: centre.Name,
			Hostname: req.Hostname, PublicKey: req.PublicKey, EnrolledAt: now}
		if err := putJSON(tx.Bucket(bDevices), dev.ID, dev); err != nil {
			return err
		}
		code.UsedBy = dev.ID
		if err := putJSON(tx.Bucket(bCodes), code.Code, code); err != nil {
			return err
		}
		resp = wire.EnrollResponse{DeviceID: dev.ID, Centre: centre, SealKey: s.sealKey.Public[:]}
		return nil
	})
	if errors.Is(err, errInvalidCode) {
		writeError(w, http.StatusForbidden, wire.ErrCodeInvalidCode, "enrolment code is unknown, used or expired; ask the central for a new one")
		return
	}
	if err != nil {
		s.log.Error("enrol", "err", err)
		writeError(w, http.StatusInternalServerError, wire.ErrCodeInternal, "enrolment failed")
		return
	}
	s.log.Info("device enrolled", "device", resp.DeviceID, "centre", resp.Centre.ID, "hostname", req.Hostname)
	writeJSON(w, http.StatusOK, resp)
}

var errInvalidCode = errors.New("invalid enrolment code")

// AddCentre creates or replaces a test centre.
func (s *Server) AddCentre(c wire.Centre) error {
	if c.ID == "" || c.Name == "" {
		return errors.New("centre needs an id and a name")
	}
	return s.db.Update(func(tx *bolt.Tx) error { return putJSON(tx.Bucket(bCentres), c.ID, c) })
}

// NewEnrolmentCode issues a one-time enrolment code for a centre.
func (s *Server) NewEnrolmentCode(centreID string) (string, time.Time, error) {
	b := make([]byte, 5)
	rand.Read(b)
	code := strings.ToUpper(hex.EncodeToString(b))
	exp := s.now().Add(s.cfg.EnrolmentCodeTTL)
	err := s.db.Update(func(tx *bolt.Tx) error {
		if tx.Bucket(bCentres).Get([]byte(centreID)) == nil {
			return fmt.Errorf("centre %q does not exist", centreID)
		}
		return putJSON(tx.Bucket(bCodes), code, codeRecord{Code: code, CentreID: centreID, ExpiresAt: exp})
	})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("issue enrolment code: %w", err)
	}
	return code, exp, nil
}

// Devices lists enrolled devices with their last heartbeat.
func (s *Server) Devices() ([]wire.Device, error) {
	var out []wire.Device
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bDevices).ForEach(func(_, v []byte) error {
			var d wire.Device
			if err := json.Unmarshal(v, &d); err != nil {
				return err
			}
			out = append(out, d)
			return nil
		})
	})
	return out, err
}

// Revoke revokes a device: its requests are refused from now on.
func (s *Server) Revoke(id string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		var d wire.Device
		if err := getJSON(tx.Bucket(bDevices), id, &d); err != nil {
			return fmt.Errorf("device %s: %w", id, err)
		}
		if !d.Revoked {
			d.Revoked, d.RevokedAt = true, s.now()
		}
		return putJSON(tx.Bucket(bDevices), id, d)
	})
}

// SetCatalog replaces the exam catalog, bumping its version.
func (s *Server) SetCatalog(c wire.Catalog) (int64, error) {
	err := s.db.Update(func(tx *bolt.Tx) error {
		old, err := loadCatalog(tx)
		if err != nil {
			return err
		}
		c.Version = old.Version + 1
		return putJSON(tx.Bucket(bMeta), string(kCatalog), c)
	})
	return c.Version, err
}

func (s *Server) handleAddCentre(w http.ResponseWriter, r *http.Request) {
	var c wire.Centre
	if err := json.NewDecoder(r.Body).Decode(&c); err != nil {
		writeError(w, http.StatusBadRequest, wire.ErrCodeBadRequest, err.Error())
		return
	}
	if err := s.AddCentre(c); err != nil {
		writeError(w, http.StatusBadRequest, wire.ErrCodeBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func (s *Server) handleNewCode(w http.ResponseWriter, r *http.Request) {
	var req struct {
		CentreID string `json:"centre_id"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, wire.ErrCodeBadRequest, err.Error())
		return
	}
	code, exp, err := s.NewEnrolmentCode(req.CentreID)
	if err != nil {
		writeError(w, http.StatusBadRequest, wire.ErrCodeBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"code": code, "expires_at": exp})
}

func (s *Server) handleDevices(w http.ResponseWriter, r *http.Request) {
	ds, err := s.Devices()
	if err != nil {
		writeError(w, http.StatusInternalServerError, wire.ErrCodeInternal, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, ds)
}

func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) {
	if err := s.Revoke(r.PathValue("id")); err != nil {
		writeError(w, http.StatusNotFound, wire.ErrCodeNotFound, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"revoked": true})
}

func (s *Server) handlePutCatalog(w http.ResponseWriter, r *http.Request) {
	var c wire.Catalog
	if err := json.NewDecoder(r.Body).Decode(&c); err != nil {
		writeError(w, http.StatusBadRequest, wire.ErrCodeBadRequest, err.Error())
		return
	}
	v, err := s.SetCatalog(c)
	if err != nil {
		writeError(w, http.StatusInternalServerError, wire.ErrCodeInternal, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]int64{"version": v})
}

func (s *Server) handleGetCatalog(w http.ResponseWriter, r *http.Request) {
	var c *wire.Catalog
	err := s.db.View(func(tx *bolt.Tx) (err error) { c, err = loadCatalog(tx); return err })
	if err != nil {
		writeError(w, http.StatusInternalServerError, wire.ErrCodeInternal, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// ---- heartbeat and pull ----

func (s *Server) handleHeartbeat(w http.ResponseWriter, r *http.Request, dev string, body []byte) {
	var h wire.Health
	if err := decodeJSON(body, &h); err != nil {
		writeError(w, http.StatusBadRequest, wire.ErrCodeBadRequest, err.Error())
		return
	}
	now := s.now()
	err := s.db.Update(func(tx *bolt.Tx) error {
		var d wire.Device
		if err := getJSON(tx.Bucket(bDevices), dev, &d); err != nil {
			return err
		}
		d.LastHeartbeat, d.Health = now, &h
		return putJSON(tx.Bucket(bDevices), dev, d)
	})
	if err != nil {
		s.log.Error("heartbeat", "device", dev, "err", err)
		writeError(w, http.StatusInternalServerError, wire.ErrCodeInternal, "heartbeat not stored")
		return
	}
	writeJSON(w, http.StatusOK, wire.HeartbeatResponse{ServerTime: now})
}

const pullLimit = 500

func (s *Server) handlePull(w http.ResponseWriter, r *http.Request, dev string, _ []byte) {
	seq, catV, err := parseCursor(r.URL.Query().Get("cursor"))
	if err != nil {
		writeError(w, http.StatusBadRequest, wire.ErrCodeBadRequest, err.Error())
		return
	}
	var p wire.Pull
	err = s.db.View(func(tx *bolt.Tx) error {
		p.Updates = []wire.Update{}
		last := seq
		if b := tx.Bucket(bUpdates).Bucket([]byte(dev)); b != nil {
			c := b.Cursor()
			for k, v := c.Seek(binary.BigEndian.AppendUint64(nil, seq+1)); k != nil; k, v = c.Next() {
				if len(p.Updates) == pullLimit {
					p.More = true
					break
				}
				var u wire.Update
				if err := json.Unmarshal(v, &u); err != nil {
					return err
				}
				p.Updates = append(p.Updates, u)
				last = binary.BigEndian.Uint64(k)
			}
		}
		cat, err := loadCatalog(tx)
		if err != nil {
			return err
		}
		if cat.Version != catV {
			p.Catalog = cat
		}
		p.Cursor = formatCursor(last, cat.Version)
		return nil
	})
	if err != nil {
		s.log.Error("pull", "device", dev, "err", err)
		writeError(w, http.StatusInternalServerError, wire.ErrCodeInternal, "pull failed")
		return
	}
	writeJSON(w, http.StatusOK, p)
}
