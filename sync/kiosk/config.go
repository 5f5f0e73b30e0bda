// Package kiosk is the kiosk side of synchronisation with the central
// registration system: enrolment, the outbox pusher and the puller with
// retry and backoff, heartbeats, QR login and account login.
//
// It depends only on the contracts in package wire; app/store implements
// wire.Outbox and wire.Sink, and app/ wires a Client to them.
package kiosk

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// Config configures the kiosk's sync client. The TOML table is [sync].
type Config struct {
	// CentralURL is the base URL of the central system. Use https:// in a
	// real deployment; http:// is accepted only for a loopback address
	// unless AllowInsecureHTTP is set.
	CentralURL string `toml:"central_url"`
	// AllowInsecureHTTP allows http:// to a central that is not on
	// loopback (a test network). Answers are signed either way, but
	// requests, QR links and logins then travel in the clear.
	AllowInsecureHTTP bool `toml:"allow_insecure_http"`
	// CentralAnswerKey, when set, is the central's Ed25519 answer key
	// (base64, printed by `central keys`): enrolment must present this key,
	// and a kiosk enrolled before protocol v2 pins it from here.
	CentralAnswerKey string `toml:"central_answer_key"`
	// BatchMaxItems and BatchMaxBytes bound one push batch (the central
	// refuses more than its own limits, 500 items and 32 MiB by default).
	BatchMaxItems int `toml:"batch_max_items"`
	BatchMaxBytes int `toml:"batch_max_bytes"`
	// RequestTimeout bounds one request (QR long polls add their wait).
	RequestTimeout time.Duration `toml:"request_timeout"`
	// PullInterval is how often the client syncs when idle and healthy.
	PullInterval time.Duration `toml:"pull_interval"`
	// HeartbeatInterval is how often health is reported.
	HeartbeatInterval time.Duration `toml:"heartbeat_interval"`
	// BackoffBase and BackoffCap shape full-jitter exponential backoff
	// after a failed sync: a random wait in [0, min(cap, base·2^n)).
	BackoffBase time.Duration `toml:"backoff_base"`
	BackoffCap  time.Duration `toml:"backoff_cap"`
	// QRPollWait is how long one QR login long poll waits at the central.
	QRPollWait time.Duration `toml:"qr_poll_wait"`
	// EnrolmentCode, when set and the kiosk has no identity yet, is used
	// by the app to enrol at start (staff issue one-time codes on the
	// central; the demo central accepts "DEMO" from loopback).
	EnrolmentCode string `toml:"enrolment_code"`
}

// DefaultConfig returns the settings used when a key is not given.
func DefaultConfig() Config {
	return Config{
		CentralURL:        "http://127.0.0.1:8700",
		BatchMaxItems:     100,
		BatchMaxBytes:     8 << 20,
		RequestTimeout:    30 * time.Second,
		PullInterval:      30 * time.Second,
		HeartbeatInterval: time.Minute,
		BackoffBase:       time.Second,
		BackoffCap:        5 * time.Minute,
		QRPollWait:        25 * time.Second,
	}
}

// Validate reports settings that are out of range, naming their keys.
func (c Config) Validate() error {
	var errs []error
	if u, err := url.Parse(c.CentralURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("sync.central_url: %q must be an http(s) URL such as https://exam.example.gov.cn", c.CentralURL))
	} else if u.Scheme == "http" && !c.AllowInsecureHTTP && !isLoopbackHost(u.Hostname()) {
		errs = append(errs, fmt.Errorf("sync.central_url: %q uses http:// to a host that is not loopback: use https://, or set sync.allow_insecure_http = true on a test network", c.CentralURL))
	}
	if _, err := c.answerKey(); err != nil {
		errs = append(errs, err)
	}
	if c.BatchMaxItems < 1 || c.BatchMaxItems > 500 {
		errs = append(errs, fmt.Errorf("sync.batch_max_items: %d must be between 1 and 500", c.BatchMaxItems))
	}
	if c.BatchMaxBytes < 64<<10 || c.BatchMaxBytes > 32<<20 {
		errs = append(errs, fmt.Errorf("sync.batch_max_bytes: %d must be between 65536 and 33554432", c.BatchMaxBytes))
	}
	if c.RequestTimeout < 100*time.Millisecond {
		errs = append(errs, fmt.Errorf("sync.request_timeout: %s must be at least 100ms", c.RequestTimeout))
	}
	if c.PullInterval < 10*time.Millisecond {
		errs = append(errs, fmt.Errorf("sync.pull_interval: %s must be at least 10ms", c.PullInterval))
	}
	if c.HeartbeatInterval < 10*time.Millisecond {
		errs = append(errs, fmt.Errorf("sync.heartbeat_interval: %s must be at least 10ms", c.HeartbeatInterval))
	}
	if c.BackoffBase <= 0 || c.BackoffCap < c.BackoffBase {
		errs = append(errs, fmt.Errorf("sync.backoff_base, sync.backoff_cap: %s, %s must be positive with cap ≥ base", c.BackoffBase, c.BackoffCap))
	}
	if c.QRPollWait < time.Second || c.QRPollWait > 2*time.Minute {
		errs = append(errs, fmt.Errorf("sync.qr_poll_wait: %s must be between 1s and 2m", c.QRPollWait))
	}
	return errors.Join(errs...)
}

// isLoopbackHost reports whether host is localhost or a loopback IP.
func isLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// answerKey decodes CentralAnswerKey (nil when unset).
func (c Config) answerKey() (ed25519.PublicKey, error) {
	if c.CentralAnswerKey == "" {
		return nil, nil
	}
	k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(c.CentralAnswerKey))
	if err != nil || len(k) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("sync.central_answer_key: must be a base64 Ed25519 public key (32 bytes), as printed by `central keys`")
	}
	return k, nil
}
