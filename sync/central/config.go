// Package central is the reference central registration system: it enrols
// kiosks, ingests their signed and sealed registration batches exactly once,
// serves review decisions, payment status and the exam catalog back to them,
// runs QR and account logins, and offers a small reviewer web page. It
// stores everything through the storage boundary of package store: one
// bbolt file by default, or a PostgreSQL database shared by several nodes.
package central

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"time"

	"examkiosk/device/face/calib"
	"examkiosk/exam"
)

// Config configures the central server. The TOML table is [central].
type Config struct {
	// Addr is the listen address of `central serve`.
	Addr string `toml:"addr"`
	// DataDir holds central.db (unless Database names PostgreSQL) and, by
	// default, the key directory.
	DataDir string `toml:"data_dir"`
	// Database, when set, is a PostgreSQL URL
	// (postgres://user@host:5432/db?sslmode=verify-full) holding the store
	// instead of central.db; several `central serve` nodes may share it.
	// Its schema is migrated at start (or by `central migrate`).
	Database string `toml:"database"`
	// KeyDir holds the central's keys, each in its own 0600 file: data.key
	// (AES-256 key sealing personal fields and photos in central.db),
	// seal.key (X25519 private key opening what kiosks seal) and answer.key
	// (Ed25519 seed signing answers; kiosks pin its public key). Default:
	// <data_dir>/keys. Back it up apart from central.db: central.db alone
	// reveals nothing, and without the keys it cannot be read at all.
	KeyDir string `toml:"key_dir"`
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
	// MaxRequestBytes bounds the body of every other request (enrolment,
	// heartbeat, logins, admin JSON).
	MaxRequestBytes int64 `toml:"max_request_bytes"`
	// MaxConcurrent caps requests served at once; MaxConcurrentPerDevice
	// caps those of one kiosk. Beyond them the central answers 429.
	MaxConcurrent          int `toml:"max_concurrent"`
	MaxConcurrentPerDevice int `toml:"max_concurrent_per_device"`
	// ReadHeaderTimeout, ReadTimeout, WriteTimeout and IdleTimeout are the
	// HTTP server's timeouts (see net/http.Server).
	ReadHeaderTimeout time.Duration `toml:"read_header_timeout"`
	ReadTimeout       time.Duration `toml:"read_timeout"`
	WriteTimeout      time.Duration `toml:"write_timeout"`
	IdleTimeout       time.Duration `toml:"idle_timeout"`
	// BodyGrace and BodyMinRate cut slow bodies: an authenticated body must
	// arrive within BodyGrace plus its length at BodyMinRate bytes per
	// second.
	BodyGrace   time.Duration `toml:"body_grace"`
	BodyMinRate int64         `toml:"body_min_rate"`
	// LateDeliveryGrace is how long after an exam's registration deadline
	// a kiosk that was offline may still deliver what was submitted in time.
	LateDeliveryGrace time.Duration `toml:"late_delivery_grace"`
	// DuplicateTargetFAR is the false-accept rate of one cross-kiosk
	// duplicate search: the chance that a new person is flagged as someone
	// already registered. The per-comparison rate is this over the faces
	// held (device/face/calib); a higher rate finds more real duplicates
	// at the cost of more flags for reviewers to clear.
	DuplicateTargetFAR float64 `toml:"duplicate_target_far"`
	// EnrolAttempts is how many enrolment attempts one client address may
	// make per EnrolWindow (the codes are short: this bounds guessing).
	EnrolAttempts int           `toml:"enrol_attempts"`
	EnrolWindow   time.Duration `toml:"enrol_window"`
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
	// enrolment code "DEMO", accepted from loopback clients only. It also
	// lets simulated providers (keys in <data_dir>/demo-providers) play
	// Alipay and the social-security card where no key is configured, shows
	// the typed-identity phone page, and opens the staff pages without a
	// login (as reviewer "demo") when no admin_token is set.
	Demo bool `toml:"demo"`
	// Alipay is the central's application at Alipay: payment notifications
	// and QR-login identity assertions are verified with its public key.
	Alipay ProviderConfig `toml:"alipay"`
	// SocialSecurity is the central's application at the electronic
	// social-security card service (QR-login identity assertions).
	SocialSecurity ProviderConfig `toml:"social_security"`
	// AllowedHosts are the Host names the staff and phone pages answer to
	// (the host of public_url is always allowed). A request for any other
	// Host is refused (against DNS rebinding and a misrouted proxy).
	AllowedHosts []string `toml:"allowed_hosts"`
	// SessionTTL is how long a reviewer's login session lasts.
	SessionTTL time.Duration `toml:"session_ttl"`
	// TicketsFile is the admission-ticket plan (TOML): for each exam, when
	// tickets open, when it sits, its sites and rooms with their seats
	// (tickets.go, TicketPlan). Without it no tickets are issued (the demo
	// uses DemoTicketPlan).
	TicketsFile string `toml:"tickets_file"`
	// Fleet holds the fleet view's alert thresholds ([central.fleet]).
	Fleet FleetPolicy `toml:"fleet"`
}

// ProviderConfig names the central's application at an outside provider
// and the provider's RSA public key (Alipay's one-line base64 or PEM).
type ProviderConfig struct {
	AppID         string `toml:"app_id"`
	PublicKeyFile string `toml:"public_key_file"`
}

// DefaultConfig returns the settings used when a key is not given.
func DefaultConfig() Config {
	return Config{
		Addr:            "127.0.0.1:8700",
		DataDir:         "central-data",
		PublicURL:       "http://127.0.0.1:8700",
		ClockSkew:       5 * time.Minute,
		MaxBatchItems:   500,
		MaxBodyBytes:    32 << 20,
		MaxRequestBytes: 64 << 10,

		MaxConcurrent:          128,
		MaxConcurrentPerDevice: 8,
		ReadHeaderTimeout:      10 * time.Second,
		ReadTimeout:            5 * time.Minute,
		WriteTimeout:           6 * time.Minute,
		IdleTimeout:            2 * time.Minute,
		BodyGrace:              15 * time.Second,
		BodyMinRate:            16 << 10,
		LateDeliveryGrace:      48 * time.Hour,
		DuplicateTargetFAR:     calib.DefaultTargetFAR,
		EnrolAttempts:          10,
		EnrolWindow:            10 * time.Minute,

		Review:           exam.DefaultReviewHours(),
		QRTTL:            120 * time.Second,
		MaxLongPoll:      30 * time.Second,
		PaymentWindow:    72 * time.Hour,
		EnrolmentCodeTTL: 24 * time.Hour,
		SessionTTL:       8 * time.Hour,
		Fleet:            DefaultFleetPolicy(),
	}
}

// Validate reports the first setting that is out of range, naming its key.
func (c Config) Validate() error {
	var errs []error
	if c.DataDir == "" {
		errs = append(errs, errors.New("central.data_dir: must name a directory"))
	}
	if c.Database != "" && !isPostgres(c.Database) {
		errs = append(errs, errors.New("central.database: must be a postgres:// URL (or empty for central.db in data_dir)"))
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
	if c.MaxRequestBytes < 4<<10 || c.MaxRequestBytes > c.MaxBodyBytes {
		errs = append(errs, fmt.Errorf("central.max_request_bytes: %d must be between 4096 and max_body_bytes", c.MaxRequestBytes))
	}
	if c.MaxConcurrent < 1 || c.MaxConcurrentPerDevice < 1 || c.MaxConcurrentPerDevice > c.MaxConcurrent {
		errs = append(errs, fmt.Errorf("central.max_concurrent, max_concurrent_per_device: %d, %d must be positive with per-device ≤ overall", c.MaxConcurrent, c.MaxConcurrentPerDevice))
	}
	if c.ReadHeaderTimeout < time.Second || c.ReadTimeout < c.ReadHeaderTimeout || c.IdleTimeout < time.Second {
		errs = append(errs, fmt.Errorf("central.read_header_timeout, read_timeout, idle_timeout: %s, %s, %s must be at least 1s with read ≥ read_header", c.ReadHeaderTimeout, c.ReadTimeout, c.IdleTimeout))
	}
	if c.WriteTimeout < c.MaxLongPoll+10*time.Second {
		errs = append(errs, fmt.Errorf("central.write_timeout: %s must exceed max_long_poll (%s) by at least 10s", c.WriteTimeout, c.MaxLongPoll))
	}
	if c.BodyGrace < 100*time.Millisecond || c.BodyMinRate < 1024 {
		errs = append(errs, fmt.Errorf("central.body_grace, body_min_rate: %s, %d must be at least 100ms and 1024 bytes/s", c.BodyGrace, c.BodyMinRate))
	}
	if c.LateDeliveryGrace < 0 {
		errs = append(errs, fmt.Errorf("central.late_delivery_grace: %s must not be negative", c.LateDeliveryGrace))
	}
	if !(c.DuplicateTargetFAR > 0 && c.DuplicateTargetFAR <= 0.5) {
		errs = append(errs, fmt.Errorf("central.duplicate_target_far: %g must be above 0 and at most 0.5", c.DuplicateTargetFAR))
	}
	if c.EnrolAttempts < 1 || c.EnrolWindow < time.Second {
		errs = append(errs, fmt.Errorf("central.enrol_attempts, enrol_window: %d, %s must be positive, the window at least 1s", c.EnrolAttempts, c.EnrolWindow))
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
	for key, p := range map[string]ProviderConfig{"alipay": c.Alipay, "social_security": c.SocialSecurity} {
		if (p.AppID == "") != (p.PublicKeyFile == "") {
			errs = append(errs, fmt.Errorf("central.%s.app_id, central.%s.public_key_file: set both or neither", key, key))
		}
	}
	if c.SessionTTL < 5*time.Minute || c.SessionTTL > 24*time.Hour {
		errs = append(errs, fmt.Errorf("central.session_ttl: %s must be between 5m and 24h", c.SessionTTL))
	}
	if err := c.Fleet.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// keyDir is where the key files live.
func (c Config) keyDir() string {
	if c.KeyDir != "" {
		return c.KeyDir
	}
	return filepath.Join(c.DataDir, "keys")
}

// NewHTTPServer returns an http.Server for h with the configured timeouts.
func (c Config) NewHTTPServer(h http.Handler) *http.Server {
	return &http.Server{Addr: c.Addr, Handler: h, ReadHeaderTimeout: c.ReadHeaderTimeout, ReadTimeout: c.ReadTimeout,
		WriteTimeout: c.WriteTimeout, IdleTimeout: c.IdleTimeout, MaxHeaderBytes: 64 << 10}
}
