// Package central is the reference central registration system: it enrols
// kiosks, ingests their signed and sealed registration batches exactly once,
// serves review decisions, payment status and the exam catalog back to them,
// runs QR and account logins, and offers a small reviewer web page. It
// stores everything in one bbolt file.
package central

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"examkiosk/exam"
)

// Config configures the central server. The TOML table is [central].
type Config struct {
	// Addr is the listen address of `central serve`.
	Addr string `toml:"addr"`
	// DataDir holds central.db.
	DataDir string `toml:"data_dir"`
	// PublicURL is the base of links given to phones: QR login
	// (<public_url>/qr/<token>) and payment pages. Use the central's HTTPS
	// domain in a real deployment.
	PublicURL string `toml:"public_url"`
	// AdminToken protects /admin/, /review and /devices (HTTP basic auth
	// with any user name and this password, or "Authorization: Bearer").
	// When empty, those pages answer loopback clients only.
	AdminToken string `toml:"admin_token"`
	// ClockSkew is how far a signed request's timestamp may be off.
	ClockSkew time.Duration `toml:"clock_skew"`
	// MaxBatchItems and MaxBodyBytes bound one push request.
	MaxBatchItems int   `toml:"max_batch_items"`
	MaxBodyBytes  int64 `toml:"max_body_bytes"`
	// Review holds the reviewers' working hours ([central.review]); the
	// review page shows when each review is due (exam.ReviewHours.Due, the
	// function the kiosk's receipt uses).
	Review exam.ReviewHours `toml:"review"`
	// QRTTL is how long a login QR code stays valid.
	QRTTL time.Duration `toml:"qr_ttl"`
	// MaxLongPoll caps how long a QR login poll may wait.
	MaxLongPoll time.Duration `toml:"max_long_poll"`
	// PaymentWindow is how long an approved candidate has to pay when the
	// exam sets no payment deadline of its own.
	PaymentWindow time.Duration `toml:"payment_window"`
	// EnrolmentCodeTTL is how long an enrolment code issued by staff is valid.
	EnrolmentCodeTTL time.Duration `toml:"enrolment_code_ttl"`
	// TLSCertFile and TLSKeyFile make `central serve` speak HTTPS. Real
	// deployments need TLS, here or in a reverse proxy in front (which must
	// pass the request path and query unchanged: they are signed).
	TLSCertFile string `toml:"tls_cert_file"`
	TLSKeyFile  string `toml:"tls_key_file"`
	// Demo seeds a demo test centre, an open exam and the reusable
	// enrolment code "DEMO", accepted from loopback clients only.
	Demo bool `toml:"demo"`
}

// DefaultConfig returns the settings used when a key is not given.
func DefaultConfig() Config {
	return Config{
		Addr:             "127.0.0.1:8700",
		DataDir:          "central-data",
		PublicURL:        "http://127.0.0.1:8700",
		ClockSkew:        5 * time.Minute,
		MaxBatchItems:    500,
		MaxBodyBytes:     32 << 20,
		Review:           exam.DefaultReviewHours(),
		QRTTL:            120 * time.Second,
		MaxLongPoll:      30 * time.Second,
		PaymentWindow:    72 * time.Hour,
		EnrolmentCodeTTL: 24 * time.Hour,
	}
}

// Validate reports the first setting that is out of range, naming its key.
func (c Config) Validate() error {
	var errs []error
	if c.DataDir == "" {
		errs = append(errs, errors.New("central.data_dir: must name a directory"))
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("central.public_url: %q must be an http(s) URL such as https://exam.example.gov.cn", c.PublicURL))
	}
	if c.ClockSkew < time.Minute || c.ClockSkew > time.Hour {
		errs = append(errs, fmt.Errorf("central.clock_skew: %s must be between 1m and 1h", c.ClockSkew))
	}
	if c.MaxBatchItems < 1 || c.MaxBatchItems > 10000 {
		errs = append(errs, fmt.Errorf("central.max_batch_items: %d must be between 1 and 10000", c.MaxBatchItems))
	}
	if c.MaxBodyBytes < 1<<20 {
		errs = append(errs, fmt.Errorf("central.max_body_bytes: %d must be at least 1048576", c.MaxBodyBytes))
	}
	if err := c.Review.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("central.review.%w", err))
	}
	if c.QRTTL < 10*time.Second || c.QRTTL > 10*time.Minute {
		errs = append(errs, fmt.Errorf("central.qr_ttl: %s must be between 10s and 10m", c.QRTTL))
	}
	if c.MaxLongPoll < time.Second || c.MaxLongPoll > 2*time.Minute {
		errs = append(errs, fmt.Errorf("central.max_long_poll: %s must be between 1s and 2m", c.MaxLongPoll))
	}
	if c.PaymentWindow < time.Minute {
		errs = append(errs, fmt.Errorf("central.payment_window: %s must be at least 1m", c.PaymentWindow))
	}
	if c.EnrolmentCodeTTL < time.Minute {
		errs = append(errs, fmt.Errorf("central.enrolment_code_ttl: %s must be at least 1m", c.EnrolmentCodeTTL))
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		errs = append(errs, errors.New("central.tls_cert_file, central.tls_key_file: set both or neither"))
	}
	return errors.Join(errs...)
}
