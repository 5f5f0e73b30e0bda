package central

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/google/uuid"

	"examkiosk/sync/central/store"
	"examkiosk/sync/provider/sim"
	"examkiosk/sync/seal"
	"examkiosk/sync/signing"
	"examkiosk/sync/wire"
)

// Server is the reference central system. Create it with Open, serve
// Handler, and Close it when done.
type Server struct {
	cfg      Config
	db       store.DB
	keys     *keys
	log      *slog.Logger
	now      func() time.Time
	verifier *signing.Verifier
	nonces   *storeNonces
	slots    *slots
	enrols   *attempts

	mu     sync.Mutex
	qrWake map[string]*qrWaiters // by QR session id: this node's long polls

	providers map[string]providerKey   // by channel
	demoSims  map[string]*sim.Provider // by channel, demo mode only
	formKey   []byte                   // HMAC key of anonymous form tokens

	captchaAnswer func() string // the next captcha's answer (4 random digits)

	faces *faceSearch // the cross-kiosk duplicate search (faces.go)
	plan  *TicketPlan // admission-ticket plan (tickets.go); nil: no tickets
}

// Option adjusts a Server.
type Option func(*Server)

// WithClock replaces time.Now (tests).
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithCaptchaAnswers chooses the captchas' answers instead of 4 random
// digits (tests: a kiosk-side test cannot read the image).
func WithCaptchaAnswers(next func() string) Option {
	return func(s *Server) { s.captchaAnswer = next }
}

// WithLogger sets the logger (slog.Default otherwise).
func WithLogger(l *slog.Logger) Option { return func(s *Server) { s.log = l } }

// Open opens (or creates) the store in cfg.DataDir and, with cfg.Demo,
// seeds the demo data.
func Open(cfg Config, opts ...Option) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("central config: %w", err)
	}
	db, k, err := openDB(cfg)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg: cfg, db: db, keys: k, log: slog.Default(), now: time.Now,
		slots:  newSlots(cfg.MaxConcurrent, cfg.MaxConcurrentPerDevice),
		enrols: &attempts{window: cfg.EnrolWindow, max: cfg.EnrolAttempts},
		qrWake: map[string]*qrWaiters{},
	}
	s.captchaAnswer = func() string { return randomDigits(4) }
	s.faces = newFaceSearch(s)
	for _, o := range opts {
		o(s)
	}
	if err := s.loadProviders(); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.loadTicketPlan(); err != nil {
		db.Close()
		return nil, fmt.Errorf("central ticket plan: %w", err)
	}
	if s.formKey, err = s.formSecret(); err != nil {
		db.Close()
		return nil, fmt.Errorf("central form key: %w", err)
	}
	s.nonces = &storeNonces{db: db, now: s.now}
	s.verifier = &signing.Verifier{Keys: s.deviceKey, Nonces: s.nonces, Window: cfg.ClockSkew, Now: s.now}
	if cfg.Demo {
		if err := s.SeedDemo(); err != nil {
			db.Close()
			return nil, err
		}
	}
	go s.faces.run() // loads in the background: start-up does not wait for it
	return s, nil
}

// Close closes the store.
func (s *Server) Close() error {
	s.faces.stop()
	return s.db.Close()
}

// SealPublicKey returns the X25519 key kiosks seal documents to.
func (s *Server) SealPublicKey() [seal.KeySize]byte { return s.keys.seal.Public }

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
		if _, err := s.pruneAuthState(); err != nil {
			s.log.Error("prune sessions and throttles", "err", err)
		}
		if n, err := s.ExpireOverdue(); err != nil {
			s.log.Error("expire overdue orders", "err", err)
		} else if n > 0 {
			s.log.Info("expired unpaid registrations", "count", n)
		}
		if _, err := s.AssignTickets(); err != nil {
			s.log.Error("assign admission tickets", "err", err)
		}
	}
}

// Handler returns the HTTP handler for the protocol, the admin API and the
// phone-side and reviewer pages.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	small, push := s.cfg.MaxRequestBytes, s.cfg.MaxBodyBytes
	v1 := http.NewServeMux()
	v1.HandleFunc("POST /v1/enroll", s.handleEnroll)
	v1.Handle("POST /v1/push", s.signed(push, s.handlePush))
	v1.Handle("GET /v1/pull", s.signed(small, s.handlePull))
	v1.Handle("POST /v1/heartbeat", s.signed(small, s.handleHeartbeat))
	v1.Handle("POST /v1/qr/sessions", s.signed(small, s.handleQRCreate))
	v1.Handle("GET /v1/qr/sessions/{id}", s.signed(small, s.handleQRPoll))
	v1.Handle("GET /v1/captcha", s.signed(small, s.handleCaptcha))
	v1.Handle("POST /v1/account/login", s.signed(small, s.handleAccountLogin))
	v1.Handle("POST /v1/account/password", s.signed(small, s.handleSetPassword))
	mux.Handle("/v1/", s.signAnswers(v1))

	mux.Handle("GET /qr/{token}", s.page(s.handleQRPage))
	mux.Handle("POST /qr/{token}", s.page(s.handleQRConfirm))
	mux.HandleFunc("POST /provider/{channel}/qrlogin", s.handleProviderAssertion)
	mux.Handle("GET /pay/{order}", s.page(s.handlePayPage))
	mux.Handle("POST /pay/{order}/demo", s.page(s.handleDemoPay))
	mux.HandleFunc("POST /pay/notify/alipay", s.handleAlipayNotify)
	mux.Handle("GET /login", s.page(s.handleLoginPage))
	mux.Handle("POST /login", s.page(s.handleLogin))
	mux.Handle("POST /logout", s.reviewer(s.handleLogout))
	mux.Handle("GET /admin/audit", s.admin(s.handleAudit))

	mux.Handle("POST /admin/centres", s.admin(s.handleAddCentre))
	mux.Handle("POST /admin/enrolment-codes", s.admin(s.handleNewCode))
	mux.Handle("GET /admin/devices", s.admin(s.handleDevices))
	mux.Handle("POST /admin/devices/{id}/revoke", s.admin(s.handleRevoke))
	mux.Handle("PUT /admin/catalog", s.admin(s.handlePutCatalog))
	mux.Handle("GET /admin/catalog", s.admin(s.handleGetCatalog))
	mux.Handle("GET /admin/registrations", s.reviewer(s.handleListRegs))
	mux.Handle("GET /admin/registrations/{id}", s.reviewer(s.handleGetReg))
	mux.Handle("GET /admin/registrations/{id}/photo", s.reviewer(s.handlePhoto))
	mux.Handle("POST /admin/registrations/{id}/review", s.reviewer(s.handleReviewAPI))
	mux.Handle("GET /review", s.reviewer(s.handleReviewPage))
	mux.Handle("POST /review/{id}", s.reviewer(s.handleReviewForm))
	mux.Handle("GET /devices", s.admin(s.handleDevicesPage))
	s.fleetRoutes(mux) // fleet.go: /fleet, /fleet/alerts, /metrics
	mux.Handle("GET /tickets/verify/{token}", s.page(s.handleVerifyTicket))
	mux.Handle("GET /admin/exams/{exam}/seats", s.reviewer(s.handleSeatList))
	mux.Handle("GET /{$}", s.reviewer(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/review", http.StatusSeeOther)
	}))
	return mux
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

// decodeJSON decodes one JSON value held in memory, refusing fields the
// target does not have and anything after the value (as well as duplicate
// names and invalid UTF-8). It uses encoding/json/v2 (its mirror module
// until Go 1.27): a pushed document's 50 KB base64 photo decodes about 3×
// faster than with encoding/json, which was a third of ingest's CPU. Names
// match case-insensitively, as encoding/json matched them.
func decodeJSON(data []byte, v any) error {
	if err := jsonv2.Unmarshal(data, v, jsonv2.RejectUnknownMembers(true), jsonv2.MatchCaseInsensitiveNames(true)); err != nil {
		return fmt.Errorf("malformed JSON: %w", err)
	}
	return nil
}

// decodeBody reads a body of at most limit bytes and decodes it with
// decodeJSON, answering 413 or 400 itself; false when it did.
func (s *Server) decodeBody(w http.ResponseWriter, r *http.Request, limit int64, v any) bool {
	body, err := s.readBody(w, r, limit)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			refuse(w, r, http.StatusRequestEntityTooLarge, wire.ErrCodeTooLarge, fmt.Sprintf("request body exceeds %d bytes", limit))
			return false
		}
		refuse(w, r, http.StatusBadRequest, wire.ErrCodeBadRequest, "read body: "+err.Error())
		return false
	}
	if err := decodeJSON(body, v); err != nil {
		writeError(w, http.StatusBadRequest, wire.ErrCodeBadRequest, err.Error())
		return false
	}
	return true
}

// maxCatalogBytes bounds the admin catalog upload.
const maxCatalogBytes = 4 << 20

func randomID(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// ---- enrolment and devices ----

func (s *Server) handleEnroll(w http.ResponseWriter, r *http.Request) {
	ok, err := s.allowAttempt(s.enrols, "enrol\x00"+clientHost(r), s.now())
	if err != nil {
		s.log.Error("count enrolment attempt", "err", err)
		writeError(w, http.StatusInternalServerError, wire.ErrCodeInternal, "enrolment failed")
		return
	}
	if !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(s.cfg.EnrolWindow.Seconds())))
		refuse(w, r, http.StatusTooManyRequests, wire.ErrCodeTooManyRequests,
			"登记尝试过多，请稍后再试 / too many enrolment attempts from this address; wait and try again")
		return
	}
	var req wire.EnrollRequest
	if !s.decodeBody(w, r, s.cfg.MaxRequestBytes, &req) {
		return
	}
	if len(req.PublicKey) != ed25519.PublicKeySize || !ed25519.Verify(req.PublicKey, wire.EnrollProofMessage(req.Code), req.Proof) {
		writeError(w, http.StatusBadRequest, wire.ErrCodeBadSignature, "public key or proof of possession is invalid")
		return
	}
	now := s.now()
	var resp wire.EnrollResponse
	err = s.db.Update(func(tx store.Tx) error {
		var code codeRecord
		if len(req.Code) > 64 || getJSON(tx.Bucket(bCodes), req.Code, &code) != nil {
			return errInvalidCode
		}
		// Every code enrols one device, once: a replayed enrolment (same
		// code, key and proof) finds it used.
		if code.UsedBy != "" || (!code.ExpiresAt.IsZero() && now.After(code.ExpiresAt)) {
			return errInvalidCode
		}
		if code.LoopbackOnly && !isLoopback(r) {
			return errInvalidCode
		}
		var centre wire.Centre
		if err := getJSON(tx.Bucket(bCentres), code.CentreID, &centre); err != nil {
			return fmt.Errorf("centre %s of code: %w", code.CentreID, err)
		}
		if err := tx.Bucket(bDevices).ForEach(func(_, v []byte) error {
			var d wire.Device
			if err := json.Unmarshal(v, &d); err != nil {
				return err
			}
			if bytes.Equal(d.PublicKey, req.PublicKey) {
				return errInvalidCode // one key, one device
			}
			return nil
		}); err != nil {
			return err
		}
		id, err := uuid.NewV7()
		if err != nil {
			return err
		}
		dev := wire.Device{ID: "kiosk-" + id.String(), CentreID: centre.ID, CentreName: centre.Name,
			Hostname: truncate(req.Hostname, 128), PublicKey: req.PublicKey, EnrolledAt: now}
		if err := putJSON(tx.Bucket(bDevices), dev.ID, dev); err != nil {
			return err
		}
		code.UsedBy = dev.ID
		if err := putJSON(tx.Bucket(bCodes), code.Code, code); err != nil {
			return err
		}
		resp = wire.EnrollResponse{DeviceID: dev.ID, Centre: centre, SealKey: s.keys.seal.Public[:], AnswerKey: s.AnswerPublicKey()}
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
	s.log.Info("device enrolled", "device", resp.DeviceID, "centre", resp.Centre.ID, "hostname", truncate(req.Hostname, 128))
	writeJSON(w, http.StatusOK, resp)
}

var errInvalidCode = errors.New("invalid enrolment code")

// AddCentre creates or replaces a test centre.
func (s *Server) AddCentre(c wire.Centre) error {
	if c.ID == "" || c.Name == "" {
		return errors.New("centre needs an id and a name")
	}
	return s.db.Update(func(tx store.Tx) error { return putJSON(tx.Bucket(bCentres), c.ID, c) })
}

// NewEnrolmentCode issues a one-time enrolment code for a centre.
func (s *Server) NewEnrolmentCode(centreID string) (string, time.Time, error) {
	b := make([]byte, 5)
	rand.Read(b)
	code := strings.ToUpper(hex.EncodeToString(b))
	exp := s.now().Add(s.cfg.EnrolmentCodeTTL)
	err := s.db.Update(func(tx store.Tx) error {
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
	err := s.db.View(func(tx store.Tx) error {
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
	return s.db.Update(func(tx store.Tx) error {
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
	err := s.db.Update(func(tx store.Tx) error {
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
	if !s.decodeBody(w, r, s.cfg.MaxRequestBytes, &c) {
		return
	}
	if err := s.AddCentre(c); err != nil {
		writeError(w, http.StatusBadRequest, wire.ErrCodeBadRequest, err.Error())
		return
	}
	s.auditNow(auditEntry{Actor: principalFrom(r.Context()).name, Action: "centre", Target: c.ID, Detail: c.Name, Remote: r.RemoteAddr})
	writeJSON(w, http.StatusOK, c)
}

func (s *Server) handleNewCode(w http.ResponseWriter, r *http.Request) {
	var req struct {
		CentreID string `json:"centre_id"`
	}
	if !s.decodeBody(w, r, s.cfg.MaxRequestBytes, &req) {
		return
	}
	code, exp, err := s.NewEnrolmentCode(req.CentreID)
	if err != nil {
		writeError(w, http.StatusBadRequest, wire.ErrCodeBadRequest, err.Error())
		return
	}
	s.auditNow(auditEntry{Actor: principalFrom(r.Context()).name, Action: "enrolment_code", Target: req.CentreID, Remote: r.RemoteAddr})
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
	s.auditNow(auditEntry{Actor: principalFrom(r.Context()).name, Action: "revoke", Target: r.PathValue("id"), Remote: r.RemoteAddr})
	writeJSON(w, http.StatusOK, map[string]bool{"revoked": true})
}

func (s *Server) handlePutCatalog(w http.ResponseWriter, r *http.Request) {
	var c wire.Catalog
	if !s.decodeBody(w, r, maxCatalogBytes, &c) {
		return
	}
	v, err := s.SetCatalog(c)
	if err != nil {
		writeError(w, http.StatusInternalServerError, wire.ErrCodeInternal, err.Error())
		return
	}
	s.auditNow(auditEntry{Actor: principalFrom(r.Context()).name, Action: "catalog", Detail: fmt.Sprintf("version %d", v), Remote: r.RemoteAddr})
	writeJSON(w, http.StatusOK, map[string]int64{"version": v})
}

func (s *Server) handleGetCatalog(w http.ResponseWriter, r *http.Request) {
	var c *wire.Catalog
	err := s.db.View(func(tx store.Tx) (err error) { c, err = loadCatalog(tx); return err })
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
	err := s.db.Update(func(tx store.Tx) error {
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

// pullBytes bounds the updates of one pull (tickets carry a photo).
const pullBytes = 8 << 20

func (s *Server) handlePull(w http.ResponseWriter, r *http.Request, dev string, _ []byte) {
	seq, catV, err := parseCursor(r.URL.Query().Get("cursor"))
	if err != nil {
		writeError(w, http.StatusBadRequest, wire.ErrCodeBadRequest, err.Error())
		return
	}
	var p wire.Pull
	err = s.db.View(func(tx store.Tx) error {
		p.Updates = []wire.Update{}
		last, size := seq, 0
		if err := tx.Bucket(bUpdates, []byte(dev)).Scan(binary.BigEndian.AppendUint64(nil, seq+1), false, func(k, v []byte) error {
			if len(p.Updates) == pullLimit || size > pullBytes {
				p.More = true
				return store.ErrStop
			}
			var u wire.Update
			if err := json.Unmarshal(v, &u); err != nil {
				return err
			}
			if err := s.fillTicketPhoto(tx, &u); err != nil {
				return err
			}
			if size += len(v); u.Ticket != nil {
				size += len(u.Ticket.Photo) * 4 / 3
			}
			p.Updates = append(p.Updates, u)
			last = binary.BigEndian.Uint64(k)
			return nil
		}); err != nil {
			return err
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
