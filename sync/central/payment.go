package central

import (
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"time"

	"examkiosk/sync/central/store"
	"examkiosk/sync/provider"
	"examkiosk/sync/wire"
)

// Payment: the candidate pays an approved registration's order at the
// provider (Alipay); the provider tells the central in an asynchronous
// notification signed with its RSA2 key. Nothing else marks an order paid.

// errPayment marks a notification refused for its content (4xx, nothing
// changed); the provider will retry, a forger gets nowhere.
var errPayment = errors.New("payment notification refused")

// ApplyPaymentNotification verifies a provider's payment notification
// (form parameters as posted) and, for a successful trade of the right
// amount for an open order, marks the order and its registration paid.
// It is idempotent: a repeated notification of the same trade changes
// nothing. Any failure changes nothing.
func (s *Server) ApplyPaymentNotification(params url.Values) (Order, error) {
	if err := s.verifyProvider(wire.ChannelAlipay, params); err != nil {
		return Order{}, fmt.Errorf("%w: %w", errPayment, err)
	}
	n, err := provider.ParsePaymentNotification(params)
	if err != nil {
		return Order{}, fmt.Errorf("%w: %w", errPayment, err)
	}
	if n.TradeStatus != provider.TradeSuccess && n.TradeStatus != provider.TradeFinished {
		s.log.Info("payment notification without payment", "order", n.OutTradeNo, "trade_status", n.TradeStatus)
		return s.order(n.OutTradeNo)
	}
	o, err := s.pay(n)
	if err == nil && o.Status == "paid" {
		// A ticket window already open seats the candidate at once.
		if _, terr := s.AssignTickets(); terr != nil {
			s.log.Error("assign admission tickets", "err", terr)
		}
	}
	return o, err
}

// pay records a verified payment of an order.
func (s *Server) pay(n provider.PaymentNotification) (Order, error) {
	now := s.now()
	var o orderRecord
	err := s.db.Update(func(tx store.Tx) error {
		if err := getJSON(tx.Bucket(bOrders), n.OutTradeNo, &o); err != nil {
			return fmt.Errorf("%w: order %s: %w", errPayment, n.OutTradeNo, err)
		}
		if int64(o.AmountCents) != n.TotalCents {
			return fmt.Errorf("%w: order %s is ¥%s, the notification says ¥%s", errPayment, o.ID,
				provider.FormatYuan(int64(o.AmountCents)), provider.FormatYuan(n.TotalCents))
		}
		switch {
		case o.Status == "paid" && o.TradeNo == n.TradeNo:
			return nil // the provider notifies until it reads "success"
		case o.Status == "paid":
			s.log.Error("order paid twice: refund the second trade", "order", o.ID, "trade", o.TradeNo, "second_trade", n.TradeNo)
			return nil
		case o.Status == "expired" || now.After(o.PayBy):
			s.log.Error("payment after the deadline: refund it", "order", o.ID, "trade", n.TradeNo, "pay_by", o.PayBy)
			return fmt.Errorf("%w: order %s: payment deadline %s passed", errPayment, o.ID, o.PayBy.Format(time.RFC3339))
		}
		o.Status, o.PaidAt, o.TradeNo = "paid", now, n.TradeNo
		if err := putJSON(tx.Bucket(bOrders), o.ID, o); err != nil {
			return err
		}
		if err := s.audit(tx, auditEntry{Actor: "provider:" + wire.ChannelAlipay, Action: "paid", Target: o.RegID,
			Detail: "order " + o.ID + " trade " + n.TradeNo + " ¥" + provider.FormatYuan(n.TotalCents)}); err != nil {
			return err
		}
		return s.setRegStatus(tx, o, StatusPaid, now)
	})
	return s.orderView(o), err
}

func (s *Server) orderView(o orderRecord) Order {
	return Order{ID: o.ID, RegID: o.RegID, Revision: o.Revision, AmountCents: o.AmountCents, PayBy: o.PayBy,
		Status: o.Status, URL: s.payURL(o.ID)}
}

// Order returns an order as the candidate's payment page shows it.
func (s *Server) Order(id string) (Order, error) { return s.order(id) }

func (s *Server) order(id string) (Order, error) {
	var o orderRecord
	err := s.db.View(func(tx store.Tx) error { return getJSON(tx.Bucket(bOrders), id, &o) })
	if err != nil {
		return Order{}, fmt.Errorf("%w: order %s: %w", errPayment, id, err)
	}
	return s.orderView(o), nil
}

// handleAlipayNotify receives Alipay's asynchronous notification: answer
// "success" when handled (Alipay stops retrying), anything else otherwise.
func (s *Server) handleAlipayNotify(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 16<<10))
	params, perr := url.ParseQuery(string(body))
	if err != nil || perr != nil {
		http.Error(w, "fail: malformed notification", http.StatusBadRequest)
		return
	}
	o, err := s.ApplyPaymentNotification(params)
	if err != nil {
		s.log.Warn("payment notification refused", "err", err, "remote", r.RemoteAddr)
		status := http.StatusBadRequest
		if !errors.Is(err, errPayment) {
			status = http.StatusInternalServerError
		}
		http.Error(w, "fail", status)
		return
	}
	s.log.Info("payment notification", "order", o.ID, "status", o.Status)
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "success")
}

var payPage = template.Must(template.New("pay").Parse(`<!doctype html>
<html lang="{{.W.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>{{.W.T "pay.title"}}</title>
<style>body{font-family:sans-serif;max-width:28em;margin:2em auto;padding:0 1em}button{font-size:1.2em;padding:.4em 1.2em}.demo{color:#b00}.lang{float:right}</style></head><body>
{{.W.Switch}}
<p>{{.W.T "pay.fee"}}</p>
{{if .Err}}<p><strong>{{.W.T .Err}}</strong></p>{{else}}
<p>{{.W.T "pay.order"}} {{.O.ID}}<br>{{.W.T "pay.amount"}} ¥{{.Yuan}}<br>{{.W.T "pay.by"}} {{.W.Time .O.PayBy}}<br>{{.W.T "pay.status"}}: {{.W.T (printf "pay.st.%s" .O.Status)}}</p>
{{if eq .O.Status "unpaid"}}{{if .Demo}}<p class="demo">{{.W.T "pay.demo"}}</p>
<form method="post" action="/pay/{{.O.ID}}/demo"><input type="hidden" name="csrf" value="{{.CSRF}}"><button>{{.W.T "pay.simulate"}}</button></form>
{{else}}<p>{{.W.T "pay.withAli"}}</p>{{end}}{{end}}{{end}}
</body></html>`))

func (s *Server) handlePayPage(w http.ResponseWriter, r *http.Request) {
	o, err := s.order(r.PathValue("order"))
	data := map[string]any{"W": pageWords(w, r), "O": o, "Yuan": provider.FormatYuan(int64(o.AmountCents)),
		"Demo": s.DemoProvider(wire.ChannelAlipay) != nil, "CSRF": s.formToken(w, r)}
	if err != nil {
		w.WriteHeader(http.StatusNotFound)
		data["Err"] = "pay.noOrder"
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	payPage.Execute(w, data)
}

// handleDemoPay (demo only) has the simulated Alipay sign a notification
// for the order and applies it through the same verification as a real one.
func (s *Server) handleDemoPay(w http.ResponseWriter, r *http.Request) {
	p := s.DemoProvider(wire.ChannelAlipay)
	if p == nil {
		http.NotFound(w, r)
		return
	}
	if !s.checkFormToken(r) {
		http.Error(w, pageWords(w, r).T("form.expired"), http.StatusForbidden)
		return
	}
	o, err := s.order(r.PathValue("order"))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	params, err := p.PaymentNotification(o.ID, int64(o.AmountCents), provider.TradeSuccess)
	if err == nil {
		_, err = s.ApplyPaymentNotification(params)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusConflict)
		return
	}
	http.Redirect(w, r, "/pay/"+url.PathEscape(o.ID), http.StatusSeeOther)
}
