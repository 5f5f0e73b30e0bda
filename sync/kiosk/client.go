package kiosk

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"time"

	"examkiosk/sync/seal"
	"examkiosk/sync/signing"
	"examkiosk/sync/wire"
)

// Identity is what a kiosk keeps after enrolment (app/store persists it;
// the private key must stay on the device).
type Identity struct {
	DeviceID   string             `json:"device_id"`
	PrivateKey ed25519.PrivateKey `json:"private_key"`
	Centre     wire.Centre        `json:"centre"`
	SealKey    []byte             `json:"seal_key"`   // central's X25519 public key
	AnswerKey  []byte             `json:"answer_key"` // central's Ed25519 answer key, pinned at enrolment
}

// APIError is a non-2xx answer from the central.
type APIError struct {
	HTTPStatus int
	Code       string // a wire.ErrCode value
	Message    string
	ServerTime time.Time // the central's signed answer time
}

func (e *APIError) Error() string {
	return fmt.Sprintf("central answered %d %s: %s", e.HTTPStatus, e.Code, e.Message)
}

// IsCode reports whether err is an *APIError with the given code.
func IsCode(err error, code string) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Code == code
}

// ErrUnsignedAnswer is returned for an answer that is not signed by the
// central's pinned answer key (a proxy's error page, or an impostor): the
// kiosk uses nothing from it.
var ErrUnsignedAnswer = errors.New("answer is not signed by the central's pinned key")

// Enroll creates a new device key and enrols it with the one-time code
// issued by the central's staff (the demo central accepts "DEMO" from
// loopback, once per start). It pins the central's answer key from the
// answer, after checking that the answer is signed with it and, when
// cfg.CentralAnswerKey is set, that it is that key. The caller persists the
// returned Identity.
func Enroll(ctx context.Context, cfg Config, code, hostname, version string, hc *http.Client) (Identity, error) {
	if err := cfg.Validate(); err != nil {
		return Identity{}, fmt.Errorf("sync config: %w", err)
	}
	if hc == nil {
		hc = &http.Client{Timeout: cfg.RequestTimeout}
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return Identity{}, fmt.Errorf("generate device key: %w", err)
	}
	code = strings.TrimSpace(code)
	body, err := json.Marshal(wire.EnrollRequest{Code: code, PublicKey: pub, Proof: ed25519.Sign(priv, wire.EnrollProofMessage(code)),
		Hostname: hostname, Version: version})
	if err != nil {
		return Identity{}, err
	}
	pinned, _ := cfg.answerKey()
	// The answer carries the key it is signed with: trust on first use,
	// unless the configuration pins the key already.
	key := func(data []byte) ed25519.PublicKey {
		if pinned != nil {
			return pinned
		}
		var r wire.EnrollResponse
		if json.Unmarshal(data, &r) != nil || len(r.AnswerKey) != ed25519.PublicKeySize {
			return nil
		}
		return r.AnswerKey
	}
	// The first node that answers enrols the kiosk (the nodes share the
	// store); a refusal is final, an unreachable node passes to the next.
	var resp wire.EnrollResponse
	var central string
	var errs []error
	for _, u := range cfg.Centrals() {
		central = strings.TrimRight(u, "/")
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, central+"/v1/enroll", bytes.NewReader(body))
		if err != nil {
			return Identity{}, fmt.Errorf("enrol: %w", err)
		}
		req.Header.Set("Content-Type", "application/json")
		nonce, err := signing.NewNonce()
		if err != nil {
			return Identity{}, err
		}
		req.Header.Set(wire.HeaderNonce, nonce)
		_, err = roundTrip(hc, req, nonce, key, &resp)
		if err == nil {
			errs = nil
			break
		}
		errs = append(errs, fmt.Errorf("enrol with %s: %w", central, err))
		if !failsOver(err) || ctx.Err() != nil {
			break
		}
	}
	if len(errs) > 0 {
		return Identity{}, errors.Join(errs...)
	}
	cfg.CentralURL = central
	if _, err := seal.PublicKey(resp.SealKey); err != nil || resp.DeviceID == "" || len(resp.AnswerKey) != ed25519.PublicKeySize {
		return Identity{}, fmt.Errorf("enrol with %s: incomplete answer (device %q, seal key %d bytes, answer key %d bytes)",
			cfg.CentralURL, resp.DeviceID, len(resp.SealKey), len(resp.AnswerKey))
	}
	if pinned != nil && !pinned.Equal(ed25519.PublicKey(resp.AnswerKey)) {
		return Identity{}, fmt.Errorf("enrol with %s: the central's answer key differs from sync.central_answer_key", cfg.CentralURL)
	}
	return Identity{DeviceID: resp.DeviceID, PrivateKey: priv, Centre: resp.Centre, SealKey: resp.SealKey, AnswerKey: resp.AnswerKey}, nil
}

// roundTrip sends req and verifies the answer's signature with the key that
// answerKey returns for the answer body, bound to the request's nonce; only
// then does it decode a 2xx answer into out or return a non-2xx one as an
// *APIError. It returns the central's signed time. answerKey returns nil
// only during enrolment without a configured key: a refusal then cannot be
// verified and carries no server time.
func roundTrip(hc *http.Client, req *http.Request, nonce string, answerKey func([]byte) ed25519.PublicKey, out any) (time.Time, error) {
	resp, err := hc.Do(req)
	if err != nil {
		return time.Time{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return time.Time{}, fmt.Errorf("read answer: %w", err)
	}
	key := answerKey(data)
	at, err := signing.VerifyAnswer(resp.Header, key, nonce, resp.StatusCode, data)
	// Only a refused enrolment may go unverified (no key is known yet): it
	// is reported, and nothing of it is used.
	if err != nil && (key != nil || resp.StatusCode/100 == 2) {
		return time.Time{}, fmt.Errorf("%w (HTTP %d)", ErrUnsignedAnswer, resp.StatusCode)
	}
	if resp.StatusCode/100 != 2 {
		var er wire.ErrorResponse
		if json.Unmarshal(data, &er) != nil || er.Code == "" {
			er = wire.ErrorResponse{Code: wire.ErrCodeInternal, Message: strings.TrimSpace(string(data))}
		}
		return at, &APIError{HTTPStatus: resp.StatusCode, Code: er.Code, Message: er.Message, ServerTime: at}
	}
	if out == nil {
		return at, nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return at, &decodeError{err}
	}
	return at, nil
}

// State is the sync state shown on the staff console and in the UI.
type State struct {
	Online      bool      `json:"online"`       // last request reached the central
	Syncing     bool      `json:"syncing"`      // a sync round is running
	Queued      int       `json:"queued"`       // outbox items waiting
	Quarantined int       `json:"quarantined"`  // items the central rejected, for staff
	Failures    int       `json:"failures"`     // consecutive failed rounds
	LastSuccess time.Time `json:"last_success"` // last fully successful round
	LastError   string    `json:"last_error,omitempty"`
	NextAttempt time.Time `json:"next_attempt"`
	Revoked     bool      `json:"revoked"` // the central revoked this device: re-enrol
	// ClockOffset is the central's clock minus the kiosk's, learnt from a
	// clock_skew refusal and applied to signatures. Staff should fix the
	// kiosk clock when it is large.
	ClockOffset time.Duration `json:"clock_offset"`
	// Central is the base URL of the central node in use: the one that
	// answered last (sync.central_urls lists them).
	Central string `json:"central"`
}

// Options are the non-configuration inputs of a Client.
type Options struct {
	// HTTPClient sends requests (a client with cfg.RequestTimeout when nil).
	// Put TLS settings and fault injection here.
	HTTPClient *http.Client
	// Logger receives sync logs (slog.Default when nil).
	Logger *slog.Logger
	// Health fills camera, disk and version for heartbeats; the client adds
	// queue depth and quarantine counts. Optional.
	Health func(ctx context.Context) wire.Health
	// OnState is called (from the Run goroutine) after every state change.
	OnState func(State)
	// Now replaces time.Now for signing (tests).
	Now func() time.Time
}

// Client delivers the outbox to the central and applies what it pulls.
type Client struct {
	cfg     Config
	id      Identity
	sealKey *[seal.KeySize]byte
	outbox  wire.Outbox
	sink    wire.Sink
	hc      *http.Client
	log     *slog.Logger
	opts    Options
	nodes   *nodes

	kick chan struct{}

	pushMu   sync.Mutex // one push at a time
	batchMax int        // halves after 413 or a timed-out push, grows back by a tenth after success

	mu    sync.Mutex
	state State
}

// New returns a Client for an enrolled identity. sink may be nil when the
// caller does not pull.
func New(cfg Config, id Identity, outbox wire.Outbox, sink wire.Sink, opts Options) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("sync config: %w", err)
	}
	if id.DeviceID == "" || len(id.PrivateKey) != ed25519.PrivateKeySize {
		return nil, errors.New("sync: device is not enrolled (no device id or key)")
	}
	sk, err := seal.PublicKey(id.SealKey)
	if err != nil {
		return nil, fmt.Errorf("sync: central seal key: %w", err)
	}
	if len(id.AnswerKey) == 0 {
		// Enrolled before protocol v2: the configuration pins the key.
		if k, _ := cfg.answerKey(); k != nil {
			id.AnswerKey = k
		}
	}
	if len(id.AnswerKey) != ed25519.PublicKeySize {
		return nil, errors.New("sync: the central's answer key is not pinned: enrol again, or set sync.central_answer_key (central keys prints it)")
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Client{
		cfg: cfg, id: id, sealKey: sk, outbox: outbox, sink: sink, hc: opts.HTTPClient, log: opts.Logger, opts: opts,
		nodes: newNodes(cfg.Centrals(), cfg.FailbackAfter, opts.Now), kick: make(chan struct{}, 1), batchMax: cfg.BatchMaxItems,
		state: State{Online: true, Central: strings.TrimRight(cfg.Centrals()[0], "/")},
	}, nil
}

// do sends a signed request with a JSON body (none when in is nil) and
// decodes a JSON answer into out.
func (c *Client) do(ctx context.Context, method, path string, in, out any, timeout time.Duration) error {
	var body []byte
	ctype := ""
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("encode %s: %w", path, err)
		}
		ctype = "application/json"
	}
	return c.doRaw(ctx, method, path, body, ctype, out, timeout)
}

// doRaw sends a signed request with the given body to the node in use,
// and to the next ones in turn while a node fails (failsOver). Each attempt
// is signed afresh (a new nonce and time: the nodes share the nonces they
// have seen) and has its own timeout.
func (c *Client) doRaw(ctx context.Context, method, path string, body []byte, ctype string, out any, timeout time.Duration) error {
	var errs []error
	var err error
	for _, i := range c.nodes.order() {
		base := c.nodes.urls[i]
		if err = c.attempt(ctx, base, method, path, body, ctype, out, timeout); !failsOver(err) {
			if c.nodes.answered(i) {
				c.log.Info("central node in use", "url", base)
			}
			c.mu.Lock()
			c.state.Central = base
			c.mu.Unlock()
			break
		}
		if ctx.Err() != nil {
			break // the caller gave up; the node did not fail
		}
		c.nodes.failed(i)
		if len(c.nodes.urls) > 1 {
			errs = append(errs, fmt.Errorf("%s: %w", base, err))
			c.log.Debug("central node failed", "url", base, "path", path, "err", err)
		}
	}
	c.noteResult(err)
	// The nodes' failures are joined only when no node answered: a node
	// that answered after others failed gives the error (a refusal, a
	// revoked device) the caller acts on.
	if err != nil && failsOver(err) && len(errs) > 1 {
		return fmt.Errorf("%s %s: no central node answered: %w", method, path, errors.Join(errs...))
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	return nil
}

// attempt sends one signed request to the node at base.
func (c *Client) attempt(ctx context.Context, base, method, path string, body []byte, ctype string, out any, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	sentAt := c.opts.Now()
	if err := signing.Sign(req, c.id.DeviceID, c.id.PrivateKey, body, sentAt.Add(c.clockOffset())); err != nil {
		return err
	}
	pinned := ed25519.PublicKey(c.id.AnswerKey)
	_, err = roundTrip(c.hc, req, req.Header.Get(wire.HeaderNonce), func([]byte) ed25519.PublicKey { return pinned }, out)
	var ae *APIError
	if errors.As(err, &ae) && ae.Code == wire.ErrCodeClockSkew && !ae.ServerTime.IsZero() {
		// The kiosk's clock is off (a drifting RTC on a box offline for
		// days): sign with the central's time from now on; the retry passes.
		off := ae.ServerTime.Sub(sentAt)
		c.mu.Lock()
		c.state.ClockOffset = off
		c.mu.Unlock()
		c.log.Warn("kiosk clock differs from the central's; correcting signatures", "offset", off.Round(time.Second))
	}
	return err
}

func (c *Client) clockOffset() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state.ClockOffset
}

// noteResult tracks reachability and revocation from any request.
func (c *Client) noteResult(err error) {
	var ae *APIError
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case err == nil:
		c.state.Online, c.state.Revoked = true, false
	case errors.As(err, &ae):
		c.state.Online = true
		if ae.Code == wire.ErrCodeRevokedDevice {
			c.state.Revoked = true
		}
	default:
		c.state.Online = false
	}
}

// BatchResult summarises one pushed batch.
type BatchResult struct {
	Sent, Accepted, Duplicate, Rejected int
	Latency                             time.Duration
}

// errNothingAcked stops a drain that makes no progress.
var errNothingAcked = errors.New("central acknowledged none of the batch")

// PushBatch delivers one batch from the outbox (oldest first) and records
// the central's per-item answers. It returns Sent == 0 when nothing is
// pending.
func (c *Client) PushBatch(ctx context.Context) (BatchResult, error) {
	c.pushMu.Lock()
	defer c.pushMu.Unlock()
	items, err := c.outbox.Pending(ctx, c.batchMax, c.cfg.BatchMaxBytes)
	if err != nil {
		return BatchResult{}, fmt.Errorf("read outbox: %w", err)
	}
	if len(items) == 0 {
		return BatchResult{}, nil
	}
	b, err := c.prepare(items)
	if err != nil {
		return BatchResult{}, err
	}
	res, _, err := c.send(ctx, b)
	return res, err
}

// batch is a push made ready to send: the outbox items, sealed and encoded.
type batch struct {
	items []wire.OutboxItem
	docs  int // the documents' bytes, as Pending counts them
	body  []byte
}

// prepare seals items and encodes the push request.
func (c *Client) prepare(items []wire.OutboxItem) (*batch, error) {
	req := wire.PushRequest{Items: make([]wire.SealedItem, len(items))}
	if err := c.sealAll(items, req.Items); err != nil {
		return nil, err
	}
	body, err := req.MarshalBinary()
	if err != nil {
		return nil, err
	}
	b := &batch{items: items, body: body}
	for _, it := range items {
		b.docs += len(it.Doc)
	}
	return b, nil
}

// send pushes a prepared batch and records the central's per-item answers.
// all reports whether every item of the batch was acknowledged (accepted,
// duplicate or rejected), so that none of it is pending any more.
func (c *Client) send(ctx context.Context, b *batch) (res BatchResult, all bool, err error) {
	items := b.items
	sent := make(map[[2]any]bool, len(items))
	for _, it := range items {
		sent[[2]any{it.ID, it.Revision}] = true
	}
	start := time.Now()
	var resp wire.PushResponse
	err = c.doRaw(ctx, http.MethodPost, "/v1/push", b.body, wire.PushContentType, &resp, c.cfg.RequestTimeout)
	res = BatchResult{Sent: len(items), Latency: time.Since(start)}
	if IsCode(err, wire.ErrCodeTooLarge) {
		if len(items) > 1 {
			c.batchMax = max(1, len(items)/2)
			c.log.Warn("central refused batch as too large; halving", "items", len(items), "next", c.batchMax)
			return res, false, err
		}
		// A single item the central will never take: quarantine it for staff.
		var ae *APIError
		errors.As(err, &ae)
		resp.Results = []wire.Result{{ID: items[0].ID, Revision: items[0].Revision, Status: wire.StatusRejected,
			Reason: "单条报名数据超过中心上限 / item exceeds the central's size limit: " + ae.Message}}
	} else if err != nil {
		if timedOut(err) && ctx.Err() == nil && len(items) > 1 {
			// An overloaded central (every kiosk delivering at once after an
			// outage) answers late: a smaller batch fits in the timeout, and
			// an abandoned one is work the central did for nothing.
			c.batchMax = max(1, len(items)/2)
			c.log.Warn("push timed out; halving the batch", "items", len(items), "next", c.batchMax)
		}
		return res, false, err
	}
	acks := resp.Results[:0:0]
	acked := make(map[[2]any]bool, len(items))
	for _, r := range resp.Results {
		k := [2]any{r.ID, r.Revision}
		if !sent[k] {
			continue // never trust an answer for something not sent
		}
		switch r.Status {
		case wire.StatusAccepted:
			res.Accepted++
		case wire.StatusDuplicate:
			res.Duplicate++
		case wire.StatusRejected:
			res.Rejected++
			c.log.Warn("central rejected registration; quarantined", "id", r.ID, "revision", r.Revision, "reason", r.Reason)
		default:
			continue
		}
		acks = append(acks, r)
		acked[k] = true
	}
	if len(acks) == 0 {
		return res, false, errNothingAcked
	}
	if err := c.outbox.Ack(ctx, acks); err != nil {
		return res, false, fmt.Errorf("record acknowledgements: %w", err)
	}
	if c.batchMax < c.cfg.BatchMaxItems {
		// Additive increase after multiplicative decrease (413 or timeout):
		// doubling back would resend the batch that failed every other time.
		c.batchMax = min(c.cfg.BatchMaxItems, c.batchMax+max(1, c.cfg.BatchMaxItems/10))
	}
	return res, len(acked) == len(sent), nil
}

// sealAll seals each item's document to the central's key into out, on
// every core: sealing (an X25519 exchange and XSalsa20-Poly1305 over a
// 40 KB document) was a quarter of a drain's CPU, all on one core.
func (c *Client) sealAll(items []wire.OutboxItem, out []wire.SealedItem) error {
	errs := make([]error, len(items))
	var wg sync.WaitGroup
	workers := min(runtime.GOMAXPROCS(0), len(items))
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(items); i += workers {
				it := items[i]
				sealed, err := seal.Seal(it.Doc, c.sealKey)
				if err != nil {
					errs[i] = fmt.Errorf("seal %s revision %d: %w", it.ID, it.Revision, err)
					continue
				}
				out[i] = wire.SealedItem{ID: it.ID, Revision: it.Revision, CandidateKey: it.CandidateKey, Sealed: sealed}
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// timedOut reports whether err (or one of the nodes' errors joined in it)
// is a request that ran out of time.
func timedOut(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}

// Drain pushes batches until the outbox has nothing pending. It stops at
// the first error (Run retries with backoff).
func (c *Client) Drain(ctx context.Context) error { return c.DrainEach(ctx, nil) }

// DrainEach is Drain calling each (when not nil) with every batch's result.
// While one batch is at the central, the next is read from the outbox and
// sealed; it is sent only once the first is fully acknowledged (otherwise
// it is read again), so items still go oldest first, one batch at a time.
func (c *Client) DrainEach(ctx context.Context, each func(BatchResult)) error {
	c.pushMu.Lock()
	defer c.pushMu.Unlock()
	var cur *batch
	for {
		if cur == nil {
			items, err := c.outbox.Pending(ctx, c.batchMax, c.cfg.BatchMaxBytes)
			if err != nil {
				return fmt.Errorf("read outbox: %w", err)
			}
			if len(items) == 0 {
				return nil
			}
			if cur, err = c.prepare(items); err != nil {
				return err
			}
		}
		type ahead struct {
			b   *batch
			err error
		}
		next := make(chan ahead, 1)
		limit := c.batchMax
		go func() {
			b, err := c.prepareAfter(ctx, cur, limit)
			next <- ahead{b, err}
		}()
		res, all, err := c.send(ctx, cur)
		n := <-next
		if each != nil && res.Sent > 0 {
			each(res)
		}
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		cur = nil
		if all && n.err == nil && n.b != nil {
			cur = n.b
		}
	}
}

// prepareAfter reads and prepares the batch that follows b in the outbox
// (up to limit items), or returns nil when the outbox does not start with
// b's items any more or holds nothing after them.
func (c *Client) prepareAfter(ctx context.Context, b *batch, limit int) (*batch, error) {
	items, err := c.outbox.Pending(ctx, len(b.items)+limit, b.docs+c.cfg.BatchMaxBytes)
	if err != nil || len(items) <= len(b.items) {
		return nil, err
	}
	for i, it := range b.items {
		if items[i].ID != it.ID || items[i].Revision != it.Revision {
			return nil, nil
		}
	}
	rest, size := items[len(b.items):], 0
	for i, it := range rest {
		if i > 0 && size+len(it.Doc) > c.cfg.BatchMaxBytes {
			rest = rest[:i]
			break
		}
		size += len(it.Doc)
	}
	return c.prepare(rest)
}

// Pull fetches review decisions, payment status and catalog changes since
// the saved cursor and applies them, until the central has no more.
func (c *Client) Pull(ctx context.Context) error {
	if c.sink == nil {
		return nil
	}
	for range 1000 {
		cursor, err := c.sink.PullCursor(ctx)
		if err != nil {
			return fmt.Errorf("read pull cursor: %w", err)
		}
		var p wire.Pull
		if err := c.do(ctx, http.MethodGet, "/v1/pull?cursor="+url.QueryEscape(cursor), nil, &p, c.cfg.RequestTimeout); err != nil {
			return err
		}
		if err := c.sink.ApplyPull(ctx, p); err != nil {
			return fmt.Errorf("apply pull: %w", err)
		}
		if !p.More {
			return nil
		}
	}
	return nil
}

// Heartbeat reports device health to the central.
func (c *Client) Heartbeat(ctx context.Context) error {
	var h wire.Health
	if c.opts.Health != nil {
		h = c.opts.Health(ctx)
	}
	q, qq, err := c.outbox.Depth(ctx)
	if err != nil {
		return fmt.Errorf("outbox depth: %w", err)
	}
	c.mu.Lock()
	c.state.Queued, c.state.Quarantined = q, qq
	h.LastSync = c.state.LastSuccess
	c.mu.Unlock()
	h.QueueDepth, h.Quarantined, h.At, h.Central = q, qq, c.opts.Now(), c.nodes.current()
	var resp wire.HeartbeatResponse
	return c.do(ctx, http.MethodPost, "/v1/heartbeat", h, &resp, c.cfg.RequestTimeout)
}

// SyncOnce runs one round: drain the outbox, pull, and heartbeat when
// heartbeat is true.
func (c *Client) SyncOnce(ctx context.Context, heartbeat bool) error {
	var errs []error
	if err := c.Drain(ctx); err != nil {
		errs = append(errs, fmt.Errorf("push: %w", err))
	}
	if err := c.Pull(ctx); err != nil {
		errs = append(errs, fmt.Errorf("pull: %w", err))
	}
	if heartbeat {
		if err := c.Heartbeat(ctx); err != nil {
			errs = append(errs, fmt.Errorf("heartbeat: %w", err))
		}
	}
	return errors.Join(errs...)
}

// FullJitter is the retry policy: a random wait in [0, min(cap, base·2^(attempt-1))).
func FullJitter(base, cap time.Duration, attempt int) time.Duration {
	d := cap
	if attempt < 1 {
		attempt = 1
	}
	if attempt <= 40 {
		if e := base << (attempt - 1); e > 0 && e < cap {
			d = e
		}
	}
	return mrand.N(d)
}

// SyncNow asks Run for an immediate round (staff "sync now", or a new
// submission), resetting the backoff.
func (c *Client) SyncNow() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// SetOnline tells the client about a connectivity change; coming online
// triggers an immediate attempt.
func (c *Client) SetOnline(online bool) {
	c.mu.Lock()
	was := c.state.Online
	c.state.Online = online
	c.mu.Unlock()
	if online && !was {
		c.SyncNow()
	}
}

// State returns a snapshot of the sync state.
func (c *Client) State() State {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state
}

func (c *Client) update(f func(*State)) {
	c.mu.Lock()
	f(&c.state)
	s := c.state
	c.mu.Unlock()
	if c.opts.OnState != nil {
		c.opts.OnState(s)
	}
}

// Run syncs until ctx ends: a round at once, then every PullInterval when
// healthy, after a full-jitter backoff when a round fails, and immediately
// on SyncNow or when connectivity returns. It returns ctx.Err().
func (c *Client) Run(ctx context.Context) error {
	failures := 0
	var lastHeartbeat time.Time
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
		case <-c.kick:
			failures = 0
		}
		c.update(func(s *State) { s.Syncing = true })
		hb := time.Since(lastHeartbeat) >= c.cfg.HeartbeatInterval
		err := c.SyncOnce(ctx, hb)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		q, qq, derr := c.outbox.Depth(ctx)
		var wait time.Duration
		if err != nil {
			failures++
			wait = FullJitter(c.cfg.BackoffBase, c.cfg.BackoffCap, failures)
			c.log.Warn("sync failed; retrying", "failures", failures, "in", wait.Round(time.Millisecond), "err", err)
		} else {
			failures = 0
			wait = c.cfg.PullInterval
			if hb {
				lastHeartbeat = time.Now()
			}
		}
		now := time.Now()
		c.update(func(s *State) {
			s.Syncing, s.Failures, s.NextAttempt = false, failures, now.Add(wait)
			if derr == nil {
				s.Queued, s.Quarantined = q, qq
			}
			if err != nil {
				s.LastError = err.Error()
			} else {
				s.LastError, s.LastSuccess = "", now
			}
		})
		timer.Reset(wait)
	}
}

// ---- login ----

// StartQRLogin asks the central for a QR login session on a channel
// (wire.ChannelAlipay or wire.ChannelSocialSecurity). Show QRCodePNG(s.URL).
func (c *Client) StartQRLogin(ctx context.Context, channel string) (wire.QRSession, error) {
	var s wire.QRSession
	err := c.do(ctx, http.MethodPost, "/v1/qr/sessions", wire.QRLoginRequest{Channel: channel}, &s, c.cfg.RequestTimeout)
	return s, err
}

// PollQRLogin long-polls a session until its state differs from known (or
// the poll wait passes, returning the same state). With state confirmed the
// answer carries the identity; it is handed out only once.
func (c *Client) PollQRLogin(ctx context.Context, sessionID, known string) (wire.QRSession, error) {
	var s wire.QRSession
	path := "/v1/qr/sessions/" + url.PathEscape(sessionID) + "?state=" + url.QueryEscape(known) + "&wait=" + c.cfg.QRPollWait.String()
	err := c.do(ctx, http.MethodGet, path, nil, &s, c.cfg.RequestTimeout+c.cfg.QRPollWait)
	return s, err
}

// Captcha fetches a captcha image for account login.
func (c *Client) Captcha(ctx context.Context) (wire.Captcha, error) {
	var cp wire.Captcha
	err := c.do(ctx, http.MethodGet, "/v1/captcha", nil, &cp, c.cfg.RequestTimeout)
	return cp, err
}

// AccountLogin logs a candidate in with ID number, password and captcha;
// an unknown ID number and a wrong password both answer
// wire.LoginWrongCredential.
func (c *Client) AccountLogin(ctx context.Context, req wire.AccountLoginRequest) (wire.AccountLoginResponse, error) {
	var r wire.AccountLoginResponse
	err := c.do(ctx, http.MethodPost, "/v1/account/login", req, &r, c.cfg.RequestTimeout)
	return r, err
}

// SetPassword sets (or resets) the password of the identity a QR login
// verified, with that login's wire.QRSession.PasswordTicket.
func (c *Client) SetPassword(ctx context.Context, req wire.SetPasswordRequest) (wire.AccountLoginResponse, error) {
	var r wire.AccountLoginResponse
	err := c.do(ctx, http.MethodPost, "/v1/account/password", req, &r, c.cfg.RequestTimeout)
	return r, err
}
