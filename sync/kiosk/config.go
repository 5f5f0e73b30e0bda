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
	// CentralURLs lists the central's nodes, in order of preference, when
	// there are several (stateless nodes on one database). It replaces
	// CentralURL; the client moves to the next node when one fails
	// (unreachable, timed out, 5xx), stays on the node that answers, and
	// tries the first again FailbackAfter later. Each URL follows
	// CentralURL's rules.
	CentralURLs []string `toml:"central_urls"`
	// FailbackAfter is how long the client stays on another node before it
	// tries the first of CentralURLs again.
	FailbackAfter time.Duration `toml:"failback_after"`
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
		FailbackAfter:     5 * time.Minute,
	}
}

// Centrals returns the central's node URLs in order of preference:
// CentralURLs when set, else CentralURL alone.
func (c Config) Centrals() []string {
	if len(c.CentralURLs) > 0 {
		return c.CentralURLs
	}
	return []string{c.CentralURL}
}

// Validate reports settings that are out of range, naming their keys.
func (c Config) Validate() error {
	var errs []error
	if len(c.CentralURLs) == 0 {
		if err := c.checkURL(c.CentralURL); err != nil {
			errs = append(errs, fmt.Errorf("sync.central_url: %w", err))
		}
	} else {
		if c.CentralURL != "" && c.CentralURL != DefaultConfig().CentralURL && c.CentralURL != c.CentralURLs[0] {
			errs = append(errs, fmt.Errorf("sync.central_url, sync.central_urls: both are set (%q and %d URLs): list every node in central_urls and remove central_url", c.CentralURL, len(c.CentralURLs)))
		}
		seen := make(map[string]int, len(c.CentralURLs))
		for i, u := range c.CentralURLs {
			key := fmt.Sprintf("sync.central_urls[%d]", i)
			if err := c.checkURL(u); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", key, err))
			}
			n := strings.TrimRight(u, "/")
			if j, dup := seen[n]; dup {
				errs = append(errs, fmt.Errorf("%s: %q is already sync.central_urls[%d]: list each node once", key, u, j))
			}
			seen[n] = i
		}
	}
	if c.FailbackAfter < time.Second || c.FailbackAfter > 24*time.Hour {
		errs = append(errs, fmt.Errorf("sync.failback_after: %s must be between 1s and 24h", c.FailbackAfter))
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

// checkURL reports why u cannot be a central's base URL (nil when it can).
func (c Config) checkURL(u string) error {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return fmt.Errorf("%q must be an http(s) URL such as https://exam.example.gov.cn", u)
	}
	if p.Scheme == "http" && !c.AllowInsecureHTTP && !isLoopbackHost(p.Hostname()) {
		return fmt.Errorf("%q uses http:// to a host that is not loopback: use https://, or set sync.allow_insecure_http = true on a test network", u)
	}
	return nil
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
