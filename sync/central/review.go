package central

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"examkiosk/sync/central/store"
	"examkiosk/sync/wire"
)

// Registration is a registration as reviewers see it (without the photo).
type Registration struct {
	ID          string    `json:"id"`
	Revision    int       `json:"revision"`
	DeviceID    string    `json:"device_id"`
	CentreID    string    `json:"centre_id"`
	Name        string    `json:"name"`
	IDNumber    string    `json:"id_number"`
	ExamID      string    `json:"exam_id"`
	PositionID  string    `json:"position_id"`
	Source      string    `json:"identity_source"`
	Status      string    `json:"status"`
	Reason      string    `json:"reason,omitempty"`
	OrderID     string    `json:"order_id,omitempty"`
	ReviewedBy  string    `json:"reviewed_by,omitempty"`
	SubmittedAt time.Time `json:"submitted_at"`
	ReceivedAt  time.Time `json:"received_at"`
	// Duplicate is the kiosk's "duplicate suspected" mark: the live face
	// matched the registration Duplicate.RegistrationID under another ID
	// number.
	Duplicate *wire.DuplicateSuspect `json:"duplicate_suspected,omitempty"`
	// FaceMatches are the central's own "duplicate suspected" marks: its
	// search across every kiosk found this face under another ID number
	// (faces.go). FaceSearchPending is set until a node has searched this
	// face: milliseconds, longer while a node's face index loads at start.
	FaceMatches       []wire.DuplicateSuspect `json:"face_matches,omitempty"`
	FaceSearchPending bool                    `json:"face_search_pending,omitempty"`
}

// Order is a payment order of an approved registration.
type Order struct {
	ID          string    `json:"id"`
	RegID       string    `json:"registration_id"`
	Revision    int       `json:"revision"`
	AmountCents int       `json:"amount_cents"`
	PayBy       time.Time `json:"pay_by"`
	Status      string    `json:"status"`
	URL         string    `json:"url"`
}

func toRegistration(r regRecord) Registration { return r.Registration }

// Registrations lists registrations with the given status ("" for all),
// oldest first. A status reads its index (see RegistrationsPage); all
// registrations are a scan of every record.
func (s *Server) Registrations(status string) ([]Registration, error) {
	if status != "" {
		var out []Registration
		err := s.db.View(func(tx store.Tx) error {
			out = out[:0]
			for after := ""; ; {
				page, next, err := s.regsPage(tx, status, after, 1000)
				if err != nil {
					return err
				}
				out = append(out, page...)
				if next == "" {
					return nil
				}
				after = next
			}
		})
		return out, err
	}
	var out []Registration
	err := s.db.View(func(tx store.Tx) error {
		return s.eachReg(tx, func(r regRecord) error {
			if status == "" || r.Status == status {
				out = append(out, toRegistration(r))
			}
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].ReceivedAt.Before(out[j].ReceivedAt) })
	return out, err
}

// RevisionCount reports how many registration revisions are stored.
func (s *Server) RevisionCount() (int, error) {
	n := 0
	err := s.db.View(func(tx store.Tx) (err error) { n, err = tx.Bucket(bRevs).Count(); return err })
	return n, err
}

// Document returns the stored plaintext document of one revision.
func (s *Server) Document(id string, rev int) (wire.Registration, error) {
	var reg wire.Registration
	err := s.db.View(func(tx store.Tx) error {
		_, doc, err := s.loadRevision(tx, id, rev)
		if err != nil {
			return fmt.Errorf("registration %s revision %d: %w", id, rev, err)
		}
		return json.Unmarshal(doc, &reg)
	})
	return reg, err
}

// ErrNotUnderReview is returned when reviewing a registration that is not
// waiting for review.
var ErrNotUnderReview = errors.New("registration is not under review")

// Review approves or rejects as "in-process" (tests and tools linked with
// the central); people and scripts review through ReviewBy.
func (s *Server) Review(id string, approve bool, reason string) (Registration, error) {
	return s.ReviewBy("in-process", id, approve, reason)
}

// ReviewBy approves (reason ignored) or rejects (reason required) the
// current revision of a registration as the named reviewer, who is
// recorded on it and in the audit log. Approval opens a payment order.
func (s *Server) ReviewBy(reviewer, id string, approve bool, reason string) (Registration, error) {
	reason = strings.TrimSpace(reason)
	if !approve && reason == "" {
		return Registration{}, errors.New("a rejection needs a reason the candidate can act on")
	}
	now := s.now()
	var out regRecord
	err := s.db.Update(func(tx store.Tx) error {
		rec, err := s.loadReg(tx, id)
		if err != nil {
			return fmt.Errorf("registration %s: %w", id, err)
		}
		if rec.Status != StatusUnderReview {
			return fmt.Errorf("registration %s is %s: %w", id, rec.Status, ErrNotUnderReview)
		}
		u := wire.Update{RegistrationID: id, Revision: rec.Revision, At: now}
		if approve {
			cat, err := loadCatalog(tx)
			if err != nil {
				return err
			}
			o := orderRecord{RegID: id, Revision: rec.Revision, DeviceID: rec.DeviceID, Status: "unpaid", CreatedAt: now,
				PayBy: now.Add(s.cfg.PaymentWindow)}
			for _, e := range cat.Exams {
				if e.ID == rec.ExamID {
					o.AmountCents = e.FeeCents
					if !e.PayUntil.IsZero() && e.PayUntil.After(now) {
						o.PayBy = e.PayUntil
					}
				}
			}
			uid, err := uuid.NewV7()
			if err != nil {
				return err
			}
			o.ID = "ord-" + uid.String()
			if err := putJSON(tx.Bucket(bOrders), o.ID, o); err != nil {
				return err
			}
			rec.Status, rec.Reason, rec.OrderID = StatusApproved, "", o.ID
			u.Status, u.PaymentURL, u.PayBy = StatusApproved, s.payURL(o.ID), o.PayBy
		} else {
			rec.Status, rec.Reason = StatusRejected, reason
			u.Status, u.Reason = StatusRejected, reason
		}
		rec.UpdatedAt, rec.ReviewedBy = now, reviewer
		if err := s.storeReg(tx, rec); err != nil {
			return err
		}
		action := "reject"
		if approve {
			action = "approve"
		}
		if err := s.audit(tx, auditEntry{Actor: reviewer, Action: action, Target: id,
			Detail: fmt.Sprintf("revision %d %s", rec.Revision, rec.Reason)}); err != nil {
			return err
		}
		out = rec
		return appendUpdate(tx, rec.DeviceID, u)
	})
	return toRegistration(out), err
}

func (s *Server) payURL(orderID string) string {
	return strings.TrimRight(s.cfg.PublicURL, "/") + "/pay/" + orderID
}

func (s *Server) setRegStatus(tx store.Tx, o orderRecord, status string, now time.Time) error {
	rec, err := s.loadReg(tx, o.RegID)
	if err != nil {
		return err
	}
	if rec.OrderID != o.ID {
		return nil // superseded by a newer revision
	}
	rec.Status, rec.UpdatedAt = status, now
	if err := s.storeReg(tx, rec); err != nil {
		return err
	}
	if status == StatusPaid {
		if err := queueTicket(tx, rec.ID); err != nil { // tickets.go
			return err
		}
	}
	return appendUpdate(tx, rec.DeviceID, wire.Update{RegistrationID: rec.ID, Revision: rec.Revision, Status: status, At: now})
}

// ExpireOverdue marks unpaid orders past their deadline expired (the
// registration is then deleted from the exam by the central's rules) and
// tells the kiosk. It returns how many expired.
func (s *Server) ExpireOverdue() (int, error) {
	now := s.now()
	n := 0
	err := s.db.Update(func(tx store.Tx) error {
		n = 0
		b := tx.Bucket(bOrders)
		var due []orderRecord
		err := b.ForEach(func(_, v []byte) error {
			var o orderRecord
			if err := json.Unmarshal(v, &o); err != nil {
				return err
			}
			if o.Status == "unpaid" && now.After(o.PayBy) {
				due = append(due, o)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, o := range due {
			o.Status = "expired"
			if err := putJSON(b, o.ID, o); err != nil {
				return err
			}
			if err := s.setRegStatus(tx, o, StatusExpired, now); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	return n, err
}

// Pages of GET /admin/registrations[?status=…]: limit registrations (1000
// unless ?limit= says otherwise, at most 10000) in queue order (without a
// status: every registration in id order), the next page's cursor in the
// X-Next-After header, passed back as ?after=.
const (
	listPage    = 1000
	maxListPage = 10000
)

func (s *Server) handleListRegs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	status := q.Get("status")
	limit := listPage
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxListPage {
			writeError(w, http.StatusBadRequest, wire.ErrCodeBadRequest, fmt.Sprintf("limit must be 1 to %d", maxListPage))
			return
		}
		limit = n
	}
	regs, next, err := s.RegistrationsPage(status, q.Get("after"), limit)
	if errors.Is(err, errBadCursor) {
		writeError(w, http.StatusBadRequest, wire.ErrCodeBadRequest, err.Error())
		return
	}
	if err != nil {
		writeError(w, http.StatusInternalServerError, wire.ErrCodeInternal, err.Error())
		return
	}
	if regs == nil {
		regs = []Registration{}
	}
	if next != "" {
		w.Header().Set("X-Next-After", next)
	}
	writeJSON(w, http.StatusOK, regs)
}

func (s *Server) getReg(id string) (regRecord, error) {
	var rec regRecord
	err := s.db.View(func(tx store.Tx) (err error) { rec, err = s.loadReg(tx, id); return err })
	return rec, err
}

func (s *Server) handleGetReg(w http.ResponseWriter, r *http.Request) {
	rec, err := s.getReg(r.PathValue("id"))
	if err != nil {
		writeError(w, http.StatusNotFound, wire.ErrCodeNotFound, "no such registration")
		return
	}
	writeJSON(w, http.StatusOK, toRegistration(rec))
}

func (s *Server) handlePhoto(w http.ResponseWriter, r *http.Request) {
	rec, err := s.getReg(r.PathValue("id"))
	if err != nil {
		writeError(w, http.StatusNotFound, wire.ErrCodeNotFound, "no such registration")
		return
	}
	doc, err := s.Document(rec.ID, rec.Revision)
	if err != nil {
		writeError(w, http.StatusNotFound, wire.ErrCodeNotFound, err.Error())
		return
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Cache-Control", "private, no-store")
	w.Write(doc.Photo)
}

type reviewRequest struct {
	Decision string `json:"decision"` // approve or reject
	Reason   string `json:"reason,omitempty"`
}

func (s *Server) handleReviewAPI(w http.ResponseWriter, r *http.Request) {
	var req reviewRequest
	if !s.decodeBody(w, r, s.cfg.MaxRequestBytes, &req) {
		return
	}
	if req.Decision != "approve" && req.Decision != "reject" {
		writeError(w, http.StatusBadRequest, wire.ErrCodeBadRequest, `decision must be "approve" or "reject"`)
		return
	}
	reg, err := s.ReviewBy(principalFrom(r.Context()).name, r.PathValue("id"), req.Decision == "approve", req.Reason)
	if err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, errNotFound) {
			status = http.StatusNotFound
		} else if errors.Is(err, ErrNotUnderReview) {
			status = http.StatusConflict
		}
		writeError(w, status, wire.ErrCodeBadRequest, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, reg)
}

// pageFuncs escape what kiosks supplied before it becomes part of a link:
// an id is one path segment, whatever it contains.
var pageFuncs = template.FuncMap{"seg": url.PathEscape, "join": func(ws []string) string { return strings.Join(ws, " ") }}

var reviewPage = template.Must(template.New("review").Funcs(pageFuncs).Parse(`<!doctype html>
<html lang="{{.W.Lang}}"><head><meta charset="utf-8"><title>{{.W.T "review.title"}}</title>
<style>body{font-family:sans-serif;margin:1em 2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.4em;vertical-align:top}
img{width:90px}form{display:inline-block;margin:.2em}.msg{color:#060}.dup{margin-top:.4em;padding:.3em;background:#fff3cd;border:1px solid #e0a800}.lang{float:right}</style></head><body>
{{.W.Switch}}
<h1>{{.W.T "review.title"}}</h1>
<p>{{.Reviewer}}{{if eq .Reviewer "demo"}}{{.W.T "review.demo"}}{{else}} <form method="post" action="/logout"><input type="hidden" name="csrf" value="{{.CSRF}}"><button>{{.W.T "review.logout"}}</button></form>{{end}}</p>
<p><a href="/devices">{{.W.T "nav.devices"}}</a> · <a href="/fleet">{{.W.T "nav.fleet"}}</a> · {{.W.T "review.count" .Count}}{{if .Next}} · <a href="/review?after={{.Next}}">{{.W.T "review.next"}}</a>{{end}} · {{.W.T "review.hours" (join .Hours.Windows) .Hours.Within}}</p>
{{if .Msg}}<p class="msg">{{.Msg}}</p>{{end}}
<table><tr><th>{{.W.T "review.photo"}}</th><th>{{.W.T "review.candidate"}}</th><th>{{.W.T "review.exam"}}</th><th>{{.W.T "review.submitted"}}</th><th>{{.W.T "review.due"}}</th><th>{{.W.T "review.decision"}}</th></tr>
{{range .Regs}}<tr>
<td><img src="/admin/registrations/{{seg .ID}}/photo" alt="photo"></td>
<td>{{.Name}}<br>{{.IDNumber}}<br><small>{{.ID}} r{{.Revision}} · {{.Source}}</small>
{{with .Duplicate}}<div class="dup"><b>{{$.W.T "review.dup"}}</b>: {{$.W.T "review.dupText"}} <small>{{.RegistrationID}}</small>
({{$.W.T "review.distance"}} {{printf "%.3f" .Distance}} ≤ {{printf "%.3f" .Threshold}}, {{.Model}})<br>
<img src="/admin/registrations/{{seg .RegistrationID}}/photo" alt="matched photo"></div>{{end}}
{{range .FaceMatches}}<div class="dup" data-face-match><b>{{$.W.T "review.dupAcross"}}</b>: {{$.W.T "review.dupText"}} <small>{{.RegistrationID}}</small>
({{$.W.T "review.distance"}} {{printf "%.3f" .Distance}} ≤ {{printf "%.3f" .Threshold}}, {{.Model}})<br>
<img src="/admin/registrations/{{seg .RegistrationID}}/photo" alt="matched photo"></div>{{end}}
{{if .FaceSearchPending}}<div class="dup">{{$.W.T "review.dupPending"}}</div>{{end}}</td>
<td>{{.ExamID}}<br>{{.PositionID}}</td>
<td>{{$.W.Time .SubmittedAt}}</td>
<td data-due>{{$.W.Time .Due}}</td>
<td><form method="post" action="/review/{{seg .ID}}"><input type="hidden" name="csrf" value="{{$.CSRF}}"><input type="hidden" name="decision" value="approve"><button>{{$.W.T "review.approve"}}</button></form>
<form method="post" action="/review/{{seg .ID}}"><input type="hidden" name="csrf" value="{{$.CSRF}}"><input type="hidden" name="decision" value="reject">
<input name="reason" required placeholder="{{$.W.T "review.reason"}}"><button>{{$.W.T "review.reject"}}</button></form></td>
</tr>{{end}}</table></body></html>`))

// reviewPageSize is how many registrations a page of the review queue
// shows.
const reviewPageSize = 200

func (s *Server) handleReviewPage(w http.ResponseWriter, r *http.Request) {
	var regs []Registration
	var next string
	var count int
	err := s.db.View(func(tx store.Tx) (err error) {
		count = regCount(tx, StatusUnderReview)
		regs, next, err = s.regsPage(tx, StatusUnderReview, r.URL.Query().Get("after"), reviewPageSize)
		return err
	})
	if errors.Is(err, errBadCursor) {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	type row struct {
		Registration
		Due time.Time // exam.ReviewHours.Due: the kiosk's receipt says the same
	}
	rows := make([]row, len(regs))
	for i, reg := range regs {
		rows[i] = row{reg, s.cfg.Review.Due(reg.ReceivedAt.Local())}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	p := principalFrom(r.Context())
	reviewPage.Execute(w, map[string]any{"W": pageWords(w, r), "Regs": rows, "Count": count, "Next": next, "Hours": s.cfg.Review, "Msg": r.URL.Query().Get("msg"), "Reviewer": p.name, "CSRF": p.csrf})
}

// gigabytes writes a byte count for people: "12.3 GB".
func gigabytes(b uint64) string { return fmt.Sprintf("%.1f GB", float64(b)/1e9) }

func (s *Server) handleReviewForm(w http.ResponseWriter, r *http.Request) {
	approve := r.FormValue("decision") == "approve"
	reg, err := s.ReviewBy(principalFrom(r.Context()).name, r.PathValue("id"), approve, r.PostFormValue("reason"))
	words := pageWords(w, r)
	msg := ""
	if err != nil {
		msg = words.T("review.failed", err.Error())
	} else {
		msg = words.T("review.done", reg.Name, reg.ID, words.T("status."+reg.Status))
	}
	http.Redirect(w, r, "/review?msg="+template.URLQueryEscaper(msg), http.StatusSeeOther)
}

var devicesPage = template.Must(template.New("devices").Funcs(template.FuncMap{"gb": gigabytes}).Parse(`<!doctype html>
<html lang="{{.W.Lang}}"><head><meta charset="utf-8"><meta http-equiv="refresh" content="30"><title>{{.W.T "devices.title"}}</title>
<style>body{font-family:sans-serif;margin:1em 2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.4em}.bad{color:#b00}.lang{float:right}</style></head><body>
{{.W.Switch}}
<h1>{{.W.T "devices.title"}}</h1><p><a href="/review">{{.W.T "nav.review"}}</a> · <a href="/fleet">{{.W.T "nav.fleet"}}</a></p>
<table><tr><th>{{.W.T "col.device"}}</th><th>{{.W.T "col.centre"}}</th><th>{{.W.T "col.heartbeat"}}</th><th>{{.W.T "col.queue"}}</th><th>{{.W.T "col.quarantined"}}</th><th>{{.W.T "col.camera"}}</th><th>{{.W.T "col.disk"}}</th><th>{{.W.T "col.version"}}</th><th>{{.W.T "col.state"}}</th></tr>
{{range .Devices}}<tr><td>{{.ID}}<br><small>{{.Hostname}}</small></td><td>{{.CentreName}}</td>
<td>{{if .LastHeartbeat.IsZero}}—{{else}}{{.LastHeartbeat.Format "2006-01-02 15:04:05"}}{{end}}</td>
{{with .Health}}<td>{{.QueueDepth}}</td><td{{if .Quarantined}} class="bad"{{end}}>{{.Quarantined}}</td><td>{{.Camera}}</td><td>{{gb .DiskFreeBytes}}</td><td>{{.Version}}</td>{{else}}<td colspan="5">—</td>{{end}}
<td>{{if .Revoked}}<span class="bad">{{$.W.T "state.revoked"}}</span>{{else}}{{$.W.T "state.active"}}{{end}}</td></tr>{{end}}
</table></body></html>`))

func (s *Server) handleDevicesPage(w http.ResponseWriter, r *http.Request) {
	ds, err := s.Devices()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	devicesPage.Execute(w, map[string]any{"W": pageWords(w, r), "Devices": ds})
}
