package provider

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Beijing is the zone of the providers' timestamps ("2006-01-02 15:04:05",
// UTC+8, as Alipay writes them).
var Beijing = time.FixedZone("CST", 8*3600)

// TimeLayout is the providers' timestamp layout.
const TimeLayout = "2006-01-02 15:04:05"

// Alipay trade statuses in a payment notification.
const (
	TradeSuccess  = "TRADE_SUCCESS"  // paid, refundable
	TradeFinished = "TRADE_FINISHED" // paid, final
	TradeWaiting  = "WAIT_BUYER_PAY" // created, not paid
	TradeClosed   = "TRADE_CLOSED"   // closed unpaid or fully refunded
)

// PaymentNotification is the part of Alipay's asynchronous notification
// (notify_type trade_status_sync) the central acts on.
type PaymentNotification struct {
	NotifyID    string    // notify_id
	NotifyTime  time.Time // notify_time
	AppID       string    // app_id: the central's application at the provider
	OutTradeNo  string    // out_trade_no: the central's order id
	TradeNo     string    // trade_no: the provider's transaction id
	TotalCents  int64     // total_amount, yuan with two decimals on the wire
	TradeStatus string    // trade_status
}

// Params returns the notification as form parameters, unsigned.
func (n PaymentNotification) Params() url.Values {
	return url.Values{
		"notify_id":    {n.NotifyID},
		"notify_time":  {n.NotifyTime.In(Beijing).Format(TimeLayout)},
		"notify_type":  {"trade_status_sync"},
		"charset":      {"utf-8"},
		"version":      {"1.0"},
		"app_id":       {n.AppID},
		"out_trade_no": {n.OutTradeNo},
		"trade_no":     {n.TradeNo},
		"total_amount": {FormatYuan(n.TotalCents)},
		"trade_status": {n.TradeStatus},
	}
}

// ParsePaymentNotification reads a notification whose signature was
// verified.
func ParsePaymentNotification(p url.Values) (PaymentNotification, error) {
	n := PaymentNotification{NotifyID: p.Get("notify_id"), AppID: p.Get("app_id"), OutTradeNo: p.Get("out_trade_no"),
		TradeNo: p.Get("trade_no"), TradeStatus: p.Get("trade_status")}
	var errs []error
	for _, k := range []string{"notify_id", "app_id", "out_trade_no", "trade_no", "trade_status", "total_amount"} {
		if p.Get(k) == "" {
			errs = append(errs, fmt.Errorf("%s is missing", k))
		}
	}
	if t := p.Get("notify_type"); t != "trade_status_sync" {
		errs = append(errs, fmt.Errorf("notify_type %q, want trade_status_sync", t))
	}
	var err error
	if n.TotalCents, err = ParseYuan(p.Get("total_amount")); err != nil {
		errs = append(errs, err)
	}
	if n.NotifyTime, err = time.ParseInLocation(TimeLayout, p.Get("notify_time"), Beijing); err != nil {
		errs = append(errs, fmt.Errorf("notify_time: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return n, fmt.Errorf("payment notification: %w", err)
	}
	return n, nil
}

// FormatYuan writes cents as yuan with two decimals ("100.00").
func FormatYuan(cents int64) string {
	return fmt.Sprintf("%d.%02d", cents/100, cents%100)
}

// ParseYuan reads a non-negative amount in yuan with at most two decimals.
func ParseYuan(s string) (int64, error) {
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(whole) > 12 || len(frac) > 2 || strings.ContainsAny(whole+frac, "+-") {
		return 0, fmt.Errorf("total_amount %q: want yuan such as 100.00", s)
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("total_amount %q: %w", s, err)
	}
	f := int64(0)
	if frac != "" {
		if f, err = strconv.ParseInt(frac, 10, 64); err != nil {
			return 0, fmt.Errorf("total_amount %q: %w", s, err)
		}
		if len(frac) == 1 {
			f *= 10
		}
	}
	return w*100 + f, nil
}

// Identity assertion methods: the provider's app opened the QR link
// (scan), and the provider authenticated the user, who confirmed (confirm).
const (
	MethodScan    = "examkiosk.qrlogin.scan"
	MethodConfirm = "examkiosk.qrlogin.confirm"
)

// CertTypeIDCard is the cert_type of a resident identity card number.
const CertTypeIDCard = "IDENTITY_CARD"

// Assertion is what a QR-login provider (Alipay's mini-program, the
// electronic social-security card) states to the central, signed with its
// RSA2 key: for scan, that its app opened the QR token; for confirm, that
// the user it authenticated (real name and ID number, as the provider
// verified them) confirmed the login.
type Assertion struct {
	AppID     string    // app_id: the central's application at the provider
	Method    string    // MethodScan or MethodConfirm
	QRToken   string    // qr_token: the token in the QR link
	UserID    string    // user_id: the provider's user id (confirm)
	Name      string    // user_name: real name (confirm)
	IDNumber  string    // cert_no (confirm), cert_type IDENTITY_CARD
	Timestamp time.Time // timestamp
}

// Params returns the assertion as form parameters, unsigned.
func (a Assertion) Params() url.Values {
	p := url.Values{
		"app_id":    {a.AppID},
		"method":    {a.Method},
		"charset":   {"utf-8"},
		"version":   {"1.0"},
		"qr_token":  {a.QRToken},
		"timestamp": {a.Timestamp.In(Beijing).Format(TimeLayout)},
	}
	if a.Method == MethodConfirm {
		p.Set("user_id", a.UserID)
		p.Set("user_name", a.Name)
		p.Set("cert_type", CertTypeIDCard)
		p.Set("cert_no", a.IDNumber)
	}
	return p
}

// ParseAssertion reads an assertion whose signature was verified.
func ParseAssertion(p url.Values) (Assertion, error) {
	a := Assertion{AppID: p.Get("app_id"), Method: p.Get("method"), QRToken: p.Get("qr_token"),
		UserID: p.Get("user_id"), Name: p.Get("user_name"), IDNumber: p.Get("cert_no")}
	var errs []error
	if a.Method != MethodScan && a.Method != MethodConfirm {
		errs = append(errs, fmt.Errorf("method %q, want %s or %s", a.Method, MethodScan, MethodConfirm))
	}
	if a.AppID == "" || a.QRToken == "" {
		errs = append(errs, errors.New("app_id and qr_token are required"))
	}
	if a.Method == MethodConfirm && (a.Name == "" || a.IDNumber == "" || p.Get("cert_type") != CertTypeIDCard) {
		errs = append(errs, errors.New("confirm needs user_name, cert_no and cert_type IDENTITY_CARD"))
	}
	var err error
	if a.Timestamp, err = time.ParseInLocation(TimeLayout, p.Get("timestamp"), Beijing); err != nil {
		errs = append(errs, fmt.Errorf("timestamp: %w", err))
	}
	if err := errors.Join(errs...); err != nil {
		return a, fmt.Errorf("identity assertion: %w", err)
	}
	return a, nil
}
