package central

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"

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
	SubmittedAt time.Time `json:"submitted_at"`
	ReceivedAt  time.Time `json:"received_at"`
	// Duplicate is the kiosk's "duplicate suspected" mark: the live face
	// matched the registration Duplicate.RegistrationID under another ID
	// number.
	Duplicate *wire.DuplicateSuspect `json:"duplicate_suspected,omitempty"`
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
// oldest first.
func (s *Server) Registrations(status string) ([]Registration, error) {
	var out []Registration
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bRegs).ForEach(func(_, v []byte) error {
			var r regRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
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
	err := s.db.View(func(tx *bolt.Tx) error { n = tx.Bucket(bRevs).Stats().KeyN; return nil })
	return n, err
}

// Document returns the stored plaintext document of one revision.
func (s *Server) Document(id string, rev int) (wire.Registration, error) {
	var reg wire.Registration
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bRevs).Get(revKey(id, rev))
		if len(v) < 32 {
			return fmt.Errorf("registration %s revision %d: %w", id, rev, errNotFound)
		}
		return json.Unmarshal(v[32:], &reg)
	})
	return reg, err
}

// ErrNotUnderReview is returned when reviewing a registration that is not
// waiting for review.
var ErrNotUnderReview = errors.New("registration is not under review")

// Review approves (reason ignored) or rejects (reason required) the current
// revision of a registration. Approval opens a payment order.
func (s *Server) Review(id string, approve bool, reason string) (Registration, error) {
	reason = strings.TrimSpace(reason)
	if !approve && reason == "" {
		return Registration{}, errors.New("a rejection needs a reason the candidate can act on")
	}
	now := s.now()
	var out regRecord
	err := s.db.Update(func(tx *bolt.Tx) error {
		var rec regRecord
		if err := getJSON(tx.Bucket(bRegs), id, &rec); err != nil {
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
		rec.UpdatedAt = now
		if err := putJSON(tx.Bucket(bRegs), id, rec); err != nil {
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

// Pay records the payment provider's paid notification for an order.
func (s *Server) Pay(orderID string) (Order, error) {
	now := s.now()
	var o orderRecord
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := getJSON(tx.Bucket(bOrders), orderID, &o); err != nil {
			return fmt.Errorf("order %s: %w", orderID, err)
		}
		switch {
		case o.Status == "paid":
			return nil // the provider may notify more than once
		case o.Status == "expired" || now.After(o.PayBy):
			return fmt.Errorf("order %s: payment deadline %s passed", orderID, o.PayBy.Format(time.RFC3339))
		}
		o.Status, o.PaidAt = "paid", now
		if err := putJSON(tx.Bucket(bOrders), o.ID, o); err != nil {
			return err
		}
		return s.setRegStatus(tx, o, StatusPaid, now)
	})
	return Order{ID: o.ID, RegID: o.RegID, Revision: o.Revision, AmountCents: o.AmountCents, PayBy: o.PayBy,
		Status: o.Status, URL: s.payURL(o.ID)}, err
}

func (s *Server) setRegStatus(tx *bolt.Tx, o orderRecord, status string, now time.Time) error {
	var rec regRecord
	if err := getJSON(tx.Bucket(bRegs), o.RegID, &rec); err != nil {
		return err
	}
	if rec.OrderID != o.ID {
		return nil // superseded by a newer revision
	}
	rec.Status, rec.UpdatedAt = status, now
	if err := putJSON(tx.Bucket(bRegs), rec.ID, rec); err != nil {
		return err
	}
	return appendUpdate(tx, rec.DeviceID, wire.Update{RegistrationID: rec.ID, Revision: rec.Revision, Status: status, At: now})
}

// ExpireOverdue marks unpaid orders past their deadline expired (the
// registration is then deleted from the exam by the central's rules) and
// tells the kiosk. It returns how many expired.
func (s *Server) ExpireOverdue() (int, error) {
	now := s.now()
	n := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
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

func (s *Server) handleListRegs(w http.ResponseWriter, r *http.Request) {
	regs, err := s.Registrations(r.URL.Query().Get("status"))
	if err != nil {
		writeError(w, http.StatusInternalServerError, wire.ErrCodeInternal, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, regs)
}

func (s *Server) getReg(id string) (regRecord, error) {
	var rec regRecord
	err := s.db.View(func(tx *bolt.Tx) error { return getJSON(tx.Bucket(bRegs), id, &rec) })
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
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, wire.ErrCodeBadRequest, err.Error())
		return
	}
	if req.Decision != "approve" && req.Decision != "reject" {
		writeError(w, http.StatusBadRequest, wire.ErrCodeBadRequest, `decision must be "approve" or "reject"`)
		return
	}
	reg, err := s.Review(r.PathValue("id"), req.Decision == "approve", req.Reason)
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

var reviewPage = template.Must(template.New("review").Parse(`<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>报名审核 Review</title>
<style>body{font-family:sans-serif;margin:1em 2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.4em;vertical-align:top}
img{width:90px}form{display:inline-block;margin:.2em}.msg{color:#060}.dup{margin-top:.4em;padding:.3em;background:#fff3cd;border:1px solid #e0a800}</style></head><body>
<h1>报名审核 Review queue</h1>
<p><a href="/devices">设备 Devices</a> · {{len .Regs}} 待审核 under review · reviewers work 8:30–12:00, 14:30–18:00 and review within 12 working hours</p>
{{if .Msg}}<p class="msg">{{.Msg}}</p>{{end}}
<table><tr><th>照片 Photo</th><th>考生 Candidate</th><th>报考 Exam / position</th><th>提交 Submitted</th><th>审核 Decision</th></tr>
{{range .Regs}}<tr>
<td><img src="/admin/registrations/{{.ID}}/photo" alt="photo"></td>
<td>{{.Name}}<br>{{.IDNumber}}<br><small>{{.ID}} r{{.Revision}} · {{.Source}}</small>
{{with .Duplicate}}<div class="dup"><b>疑似重复 Duplicate suspected</b>: 人脸与另一身份证号的报名相同 face matches registration <small>{{.RegistrationID}}</small>
(distance {{printf "%.3f" .Distance}} ≤ {{printf "%.3f" .Threshold}}, {{.Model}})<br>
<img src="/admin/registrations/{{.RegistrationID}}/photo" alt="matched photo"></div>{{end}}</td>
<td>{{.ExamID}}<br>{{.PositionID}}</td>
<td>{{.SubmittedAt.Format "2006-01-02 15:04"}}</td>
<td><form method="post" action="/review/{{.ID}}"><input type="hidden" name="decision" value="approve"><button>通过 Approve</button></form>
<form method="post" action="/review/{{.ID}}"><input type="hidden" name="decision" value="reject">
<input name="reason" required placeholder="驳回原因 reason"><button>驳回 Reject</button></form></td>
</tr>{{end}}</table></body></html>`))

func (s *Server) handleReviewPage(w http.ResponseWriter, r *http.Request) {
	regs, err := s.Registrations(StatusUnderReview)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if len(regs) > 200 {
		regs = regs[:200]
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	reviewPage.Execute(w, map[string]any{"Regs": regs, "Msg": r.URL.Query().Get("msg")})
}

func (s *Server) handleReviewForm(w http.ResponseWriter, r *http.Request) {
	approve := r.FormValue("decision") == "approve"
	reg, err := s.Review(r.PathValue("id"), approve, r.FormValue("reason"))
	msg := ""
	if err != nil {
		msg = "失败 failed: " + err.Error()
	} else {
		msg = fmt.Sprintf("%s %s: %s", reg.Name, reg.ID, reg.Status)
	}
	http.Redirect(w, r, "/review?msg="+template.URLQueryEscaper(msg), http.StatusSeeOther)
}

var devicesPage = template.Must(template.New("devices").Parse(`<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta http-equiv="refresh" content="30"><title>设备 Devices</title>
<style>body{font-family:sans-serif;margin:1em 2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.4em}.bad{color:#b00}</style></head><body>
<h1>自助机 Kiosks</h1><p><a href="/review">审核 Review</a></p>
<table><tr><th>设备 Device</th><th>考点 Centre</th><th>最后心跳 Last heartbeat</th><th>队列 Queue</th><th>隔离 Quarantined</th><th>摄像头 Camera</th><th>磁盘 Disk free</th><th>版本 Version</th><th>状态 State</th></tr>
{{range .}}<tr><td>{{.ID}}<br><small>{{.Hostname}}</small></td><td>{{.CentreName}}</td>
<td>{{if .LastHeartbeat.IsZero}}—{{else}}{{.LastHeartbeat.Format "2006-01-02 15:04:05"}}{{end}}</td>
{{with .Health}}<td>{{.QueueDepth}}</td><td{{if .Quarantined}} class="bad"{{end}}>{{.Quarantined}}</td><td>{{.Camera}}</td><td>{{.DiskFreeBytes}}</td><td>{{.Version}}</td>{{else}}<td colspan="5">—</td>{{end}}
<td>{{if .Revoked}}<span class="bad">已吊销 revoked</span>{{else}}有效 active{{end}}</td></tr>{{end}}
</table></body></html>`))

func (s *Server) handleDevicesPage(w http.ResponseWriter, r *http.Request) {
	ds, err := s.Devices()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	devicesPage.Execute(w, ds)
}

// ---- phone-side payment pages ----

var payPage = template.Must(template.New("pay").Parse(`<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>报名缴费 Payment</title>
<style>body{font-family:sans-serif;max-width:28em;margin:2em auto;padding:0 1em}button{font-size:1.2em;padding:.4em 1.2em}</style></head><body>
<p>考试报名费（演示：此页面代替支付应用）</p>
{{if .Err}}<p><strong>{{.Err}}</strong></p>{{else}}
<p>订单 Order {{.O.ID}}<br>金额 Amount ¥{{.Yuan}}<br>缴费截止 Pay by {{.O.PayBy.Format "2006-01-02 15:04"}}<br>状态 Status: {{.O.Status}}</p>
{{if eq .O.Status "unpaid"}}<form method="post" action="/pay/{{.O.ID}}/notify"><button>支付 Pay</button></form>{{end}}{{end}}
</body></html>`))

func (s *Server) handlePayPage(w http.ResponseWriter, r *http.Request) {
	var o orderRecord
	err := s.db.View(func(tx *bolt.Tx) error { return getJSON(tx.Bucket(bOrders), r.PathValue("order"), &o) })
	data := map[string]any{"O": o, "Yuan": fmt.Sprintf("%d.%02d", o.AmountCents/100, o.AmountCents%100)}
	if err != nil {
		w.WriteHeader(http.StatusNotFound)
		data["Err"] = "订单不存在 / no such order"
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	payPage.Execute(w, data)
}

// handlePayNotify stands in for the payment provider's paid notification
// (a real provider's notification is signed by the provider).
func (s *Server) handlePayNotify(w http.ResponseWriter, r *http.Request) {
	o, err := s.Pay(r.PathValue("order"))
	if err != nil {
		status := http.StatusConflict
		if errors.Is(err, errNotFound) {
			status = http.StatusNotFound
		}
		writeError(w, status, wire.ErrCodeBadRequest, err.Error())
		return
	}
	if strings.Contains(r.Header.Get("Accept"), "application/json") || r.Header.Get("Content-Type") == "application/json" {
		writeJSON(w, http.StatusOK, o)
		return
	}
	http.Redirect(w, r, "/pay/"+o.ID, http.StatusSeeOther)
}
