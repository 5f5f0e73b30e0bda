package central_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"examkiosk/sync/central"
	"examkiosk/sync/provider"
	"examkiosk/sync/provider/sim"
	"examkiosk/sync/signing"
	"examkiosk/sync/testbed"
	"examkiosk/sync/wire"
)

// signedReq is a heartbeat signed for body whose request body is r (a pipe
// the test feeds, or a reader of another length than the signed body);
// length is the announced Content-Length (-1: chunked).
func (d rawDevice) signedReq(body []byte, r io.Reader, length int64) *http.Request {
	d.t.Helper()
	req, _ := http.NewRequest("POST", d.url+"/v1/heartbeat", r)
	req.ContentLength = length
	if length < 0 {
		req.TransferEncoding = []string{"chunked"}
	}
	if err := signing.Sign(req, d.id.DeviceID, d.id.PrivateKey, body, time.Now()); err != nil {
		d.t.Fatal(err)
	}
	return req
}

// answer is a finished request: status, error code, Retry-After and
// whether the central closes the connection.
type answer struct {
	status     int
	code, body string
	retryAfter string
	close      bool
	err        error
	took       time.Duration
}

func send(client *http.Client, req *http.Request) answer {
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return answer{err: err, took: time.Since(start)}
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var er wire.ErrorResponse
	json.Unmarshal(data, &er)
	return answer{status: resp.StatusCode, code: er.Code, body: string(data), retryAfter: resp.Header.Get("Retry-After"),
		close: resp.Close, took: time.Since(start)}
}

// held is a signed heartbeat whose headers were sent and whose body is
// kept back: the central holds it in flight until release, unless it
// refused it at once (refused).
type held struct {
	conn   net.Conn
	body   []byte
	answer chan answer
}

// sendHead sends the headers of a signed heartbeat for body, announcing
// length bytes, on a connection of its own; the test writes the body.
func (d rawDevice) sendHead(body []byte, length int) net.Conn {
	d.t.Helper()
	req := d.signedReq(body, bytes.NewReader(body), int64(len(body)))
	conn, err := net.Dial("tcp", req.URL.Host)
	if err != nil {
		d.t.Fatal(err)
	}
	var head bytes.Buffer
	fmt.Fprintf(&head, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n", req.URL.Path, req.URL.Host, length)
	req.Header.Write(&head)
	head.WriteString("\r\n")
	if _, err := conn.Write(head.Bytes()); err != nil {
		d.t.Fatal(err)
	}
	return conn
}

// readAnswer reads the answer on conn, waiting at most wait.
func readAnswer(conn net.Conn, wait time.Duration) answer {
	start := time.Now()
	conn.SetReadDeadline(start.Add(wait))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return answer{err: err, took: time.Since(start)}
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, body: string(data), close: resp.Close, took: time.Since(start)}
}

// hold sends the headers of a signed heartbeat and keeps its body back.
func (d rawDevice) hold() *held {
	d.t.Helper()
	h := &held{body: []byte(`{}`), answer: make(chan answer, 1)}
	h.conn = d.sendHead(h.body, len(h.body))
	go func() { h.answer <- readAnswer(h.conn, 10*time.Second) }()
	return h
}

// refused reports whether the central has answered the request without
// its body (the request came after others that took the slots).
func (h *held) refused() bool {
	select {
	case a := <-h.answer:
		h.answer <- a
		return true
	default:
		return false
	}
}

// release sends the body and returns the answer.
func (h *held) release() answer {
	defer h.conn.Close()
	h.conn.Write(h.body)
	return <-h.answer
}

// whileHeld sends probe until it is refused with 429 while every request
// of hs is in flight; a request of hs that the central refused because a
// probe came first is sent again. It fails after 3 s.
func whileHeld(t *testing.T, what string, probe func() answer, d []rawDevice, hs []*held) answer {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		a := probe()
		if a.status == 429 {
			return a
		}
		if a.status != 200 || time.Now().After(deadline) {
			t.Fatalf("%s: %d %s (%v), want 429", what, a.status, a.body, a.err)
		}
		for i, h := range hs {
			if h.refused() {
				h.conn.Close()
				hs[i] = d[i].hold()
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// heartbeat is a plain signed heartbeat on a connection of its own (kept
// alive unless the central closes it).
func (d rawDevice) heartbeat() answer {
	body := []byte(`{}`)
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	return send(&http.Client{Transport: tr}, d.signedReq(body, bytes.NewReader(body), int64(len(body))))
}

// The central serves at most max_concurrent requests at once and at most
// max_concurrent_per_device of one kiosk: the next is refused at once with
// 429 and a Retry-After (2 s for the kiosk's own cap, 5 s when the central
// is busy), and each slot is given back when its request ends, whatever
// its answer. Requests are held in flight by a body the central waits for
// (a fast stand-in for TestAttackRow3ConcurrencyCaps' long polls).
func TestSignedConcurrencyCapsExact(t *testing.T) {
	cfg := central.DefaultConfig()
	cfg.MaxConcurrent, cfg.MaxConcurrentPerDevice = 3, 2
	c := testbed.StartCentral(t, cfg)
	a, b, third := enrol(t, c), enrol(t, c), enrol(t, c)
	for round := range 2 { // the second round: every slot was given back
		hs := []*held{a.hold(), a.hold()}
		r := whileHeld(t, fmt.Sprintf("round %d: a third request of one kiosk", round), a.heartbeat, []rawDevice{a, a}, hs)
		if r.code != wire.ErrCodeTooManyRequests || r.retryAfter != "2" || !strings.Contains(r.body, "at most 2") {
			t.Errorf("round %d: the kiosk's cap: %s %q Retry-After %q, want %s, at most 2, 2", round, r.code, r.body, r.retryAfter, wire.ErrCodeTooManyRequests)
		}
		// Two of a's in flight: another kiosk's request is the third overall,
		// within the cap; held, it makes the central full.
		hs = append(hs, b.hold())
		r = whileHeld(t, fmt.Sprintf("round %d: a fourth request overall", round), third.heartbeat, []rawDevice{a, a, b}, hs)
		if r.code != wire.ErrCodeTooManyRequests || r.retryAfter != "5" {
			t.Errorf("round %d: the central's cap: %s Retry-After %q, want %s, 5", round, r.code, r.retryAfter, wire.ErrCodeTooManyRequests)
		}
		if r.close {
			t.Errorf("round %d: a refused request whose small body arrived closes the connection", round)
		}
		for i, h := range hs {
			if r := h.release(); r.status != 200 {
				t.Fatalf("round %d: held request %d: %d %s %v", round, i, r.status, r.body, r.err)
			}
		}
		// Every slot free: each kiosk may again have requests in flight.
		for _, d := range []rawDevice{a, b, third} {
			if r := d.heartbeat(); r.status != 200 {
				t.Fatalf("round %d: after the held requests ended: %d %s", round, r.status, r.body)
			}
		}
	}
}

// A signed body must arrive within body_grace plus its length at
// body_min_rate: one that comes later than the grace but within its
// length's time is read; one that stalls is cut after the grace.
func TestSignedBodyDeadline(t *testing.T) {
	cfg := central.DefaultConfig()
	cfg.BodyGrace, cfg.BodyMinRate = 100*time.Millisecond, 1024
	c := testbed.StartCentral(t, cfg)
	d := enrol(t, c)

	// 2048 bytes at 1024 bytes/s: 100 ms + 2 s; the body comes after 500 ms.
	body := append([]byte(`{}`), bytes.Repeat([]byte(" "), 2046)...)
	conn := d.sendHead(body, len(body))
	defer conn.Close()
	time.Sleep(500 * time.Millisecond)
	conn.Write(body)
	if r := readAnswer(conn, 5*time.Second); r.status != 200 {
		t.Errorf("a 2048-byte body after 500 ms (allowed 2.1 s): %d %s %v", r.status, r.body, r.err)
	}

	// 100 bytes announced, none sent: 100 ms + 100/1024 s (0 whole seconds).
	conn = d.sendHead(body[:100], 100)
	defer conn.Close()
	if r := readAnswer(conn, 3*time.Second); r.status == 200 || r.took > 1500*time.Millisecond {
		t.Errorf("a stalled 100-byte body: %d %v after %s, want cut after about 100 ms", r.status, r.err, r.took)
	}
}

// A signed body of exactly max_request_bytes is read; one byte more is
// refused with 413, whether its length is announced (refused before
// reading) or not (chunked: cut while reading).
func TestSignedBodyLimitExact(t *testing.T) {
	cfg := central.DefaultConfig()
	cfg.MaxRequestBytes = 4096
	c := testbed.StartCentral(t, cfg)
	d := enrol(t, c)
	pad := func(n int) []byte { return append([]byte(`{}`), bytes.Repeat([]byte(" "), n-2)...) }
	for _, tt := range []struct {
		name    string
		n       int
		chunked bool
		want    int
	}{
		{"announced, exactly the limit", 4096, false, 200},
		{"announced, one byte over", 4097, false, 413},
		{"chunked, exactly the limit", 4096, true, 200},
		{"chunked, one byte over", 4097, true, 413},
		{"chunked, small", 2, true, 200},
	} {
		body := pad(tt.n)
		length := int64(tt.n)
		if tt.chunked {
			length = -1
		}
		r := send(&http.Client{}, d.signedReq(body, bytes.NewReader(body), length))
		if r.status != tt.want || (tt.want == 413 && r.code != wire.ErrCodeTooLarge) {
			t.Errorf("%s: %d %s %v, want %d", tt.name, r.status, r.body, r.err, tt.want)
		}
	}
}

// A request refused from its headers is answered, never reset: a small
// body that has arrived is read and thrown away and the connection stays
// open for the kiosk's next request; a body larger than 256 KiB, or one
// that does not arrive at once, is not waited for: the answer closes the
// connection.
func TestRefusedBodiesDrainedOrCut(t *testing.T) {
	c := testbed.StartCentral(t, central.DefaultConfig())
	unsigned := func(body []byte, announce int64) answer {
		req, _ := http.NewRequest("POST", c.URL+"/v1/heartbeat", bytes.NewReader(body))
		req.ContentLength = announce
		return send(&http.Client{}, req)
	}
	const drain = 256 << 10
	for _, tt := range []struct {
		name      string
		n         int
		wantClose bool
	}{
		{"no body", 0, false},
		{"small body", 2, false},
		{"exactly 256 KiB", drain, false},
		{"256 KiB and a byte", drain + 1, true},
	} {
		r := unsigned(bytes.Repeat([]byte(" "), tt.n), int64(tt.n))
		if r.status != 401 || r.code != wire.ErrCodeBadSignature || r.close != tt.wantClose {
			t.Errorf("unsigned, %s: %d %s close=%v %v, want 401 close=%v", tt.name, r.status, r.code, r.close, r.err, tt.wantClose)
		}
	}
	req, _ := http.NewRequest("GET", c.URL+"/v1/pull", nil)
	if r := send(&http.Client{}, req); r.status != 401 || r.close {
		t.Errorf("unsigned GET: %d close=%v, want 401 on a kept connection", r.status, r.close)
	}

	// 1000 bytes announced, one sent: answered and closed within the
	// drain's 250 ms, not held until the read timeout.
	partialUnsignedBodyRefused(t, c.Addr, 2*time.Second)
}

// offsetClock is the real clock moved by an offset the test sets.
type offsetClock struct{ off atomic.Int64 }

func (c *offsetClock) now() time.Time      { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *offsetClock) set(d time.Duration) { c.off.Store(int64(d)) }

// A kiosk's long poll of a QR login answers when its wait ends (with the
// state it knew), when the phone scans the code, and when the session
// expires; a poll naming another state than the session's answers at once.
func TestQRLongPoll(t *testing.T) {
	clk := &offsetClock{}
	cfg := central.DefaultConfig()
	c := testbed.StartCentral(t, cfg, central.WithClock(clk.now))
	d := enrol(t, c)
	newSession := func() wire.QRSession {
		t.Helper()
		st, _, data := d.do(call{method: "POST", path: "/v1/qr/sessions", body: []byte(`{"channel":"alipay"}`), ctype: "application/json"})
		var s wire.QRSession
		if st != 200 || json.Unmarshal(data, &s) != nil {
			t.Fatalf("QR session: %d %s", st, data)
		}
		return s
	}
	poll := func(id, query string) (wire.QRSession, time.Duration) {
		t.Helper()
		start := time.Now()
		st, _, data := d.do(call{method: "GET", path: "/v1/qr/sessions/" + id + query})
		var v wire.QRSession
		if st != 200 || json.Unmarshal(data, &v) != nil {
			t.Fatalf("poll %s: %d %s", query, st, data)
		}
		return v, time.Since(start)
	}
	sess := newSession()
	if left := time.Until(sess.ExpiresAt); sess.State != wire.QRWaiting || left > cfg.QRTTL || left < cfg.QRTTL-5*time.Second {
		t.Fatalf("new session: %+v, want waiting, ending in %s", sess, cfg.QRTTL)
	}
	// Nothing happens: the poll answers when its wait ends.
	v, took := poll(sess.ID, "?state=waiting&wait=400ms")
	if v.State != wire.QRWaiting || took < 400*time.Millisecond || took > 2*time.Second {
		t.Errorf("a 400 ms poll of a waiting session: %s after %s", v.State, took)
	}
	// A poll naming another state answers at once.
	if v, took := poll(sess.ID, "?state=scanned&wait=5s"); v.State != wire.QRWaiting || took > time.Second {
		t.Errorf("a poll naming scanned: %s after %s", v.State, took)
	}
	// The phone scans while the kiosk waits.
	go func() {
		time.Sleep(200 * time.Millisecond)
		scan, _ := c.Server().DemoProvider(wire.ChannelAlipay).Assertion(provider.MethodScan, qrToken(sess), "", "")
		sim.Post(t.Context(), nil, c.URL+"/provider/alipay/qrlogin", scan)
	}()
	if v, took := poll(sess.ID, "?state=waiting&wait=5s"); v.State != wire.QRScanned || took > 2*time.Second {
		t.Errorf("a poll while the phone scans: %s after %s", v.State, took)
	}
	// The session expires 300 ms into the kiosk's poll.
	clk.set(cfg.QRTTL - 300*time.Millisecond)
	if v, took := poll(sess.ID, "?state=scanned&wait=5s"); v.State != wire.QRExpired || took > 2*time.Second {
		t.Errorf("a poll across the session's end: %s after %s", v.State, took)
	}
}

// A signed body's buffer is sized by what arrives, up to its announced
// length, never by the endpoint's limit: empty pushes and small chunked
// pushes (no length announced) of an enrolled kiosk allocate next to
// nothing, where a buffer of the 32 MiB push limit each would take
// hundreds of MiB.
func TestBodyBufferFromWhatArrives(t *testing.T) {
	c := testbed.StartCentral(t, central.DefaultConfig())
	d := enrol(t, c)
	push := func(body []byte, length int64) {
		req, _ := http.NewRequest("POST", c.URL+"/v1/push", bytes.NewReader(body))
		req.ContentLength = length
		if length < 0 {
			req.TransferEncoding = []string{"chunked"}
		}
		req.Header.Set("Content-Type", "application/json")
		if err := signing.Sign(req, d.id.DeviceID, d.id.PrivateKey, body, time.Now()); err != nil {
			t.Fatal(err)
		}
		if r := send(http.DefaultClient, req); r.status != 400 && r.status != 200 {
			t.Fatalf("push of %d bytes (announced %d): %d %s %v", len(body), length, r.status, r.body, r.err)
		}
	}
	push(nil, 0) // warm up the connection and the handlers
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 8 {
		push(nil, 0)
		push([]byte(`{"items":[]}`), -1)
	}
	runtime.ReadMemStats(&after)
	got := after.TotalAlloc - before.TotalAlloc
	t.Logf("16 small pushes allocated %d KiB", got>>10)
	if got > 32<<20 {
		t.Errorf("16 small pushes allocated %d MiB", got>>20)
	}
}

// records keeps the messages of every log record, at every level.
type records struct {
	mu   sync.Mutex
	msgs []string
}

func (r *records) Enabled(context.Context, slog.Level) bool { return true }
func (r *records) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, rec.Message)
	return nil
}
func (r *records) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *records) WithGroup(string) slog.Handler      { return r }

func (r *records) count(msg string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, m := range r.msgs {
		if m == msg {
			n++
		}
	}
	return n
}

// An answer that reaches the kiosk logs no failed write (the debug record
// is for a kiosk that hung up before its answer was written).
func TestAnswerWriteLogged(t *testing.T) {
	log := &records{}
	c := testbed.StartCentral(t, central.DefaultConfig(), central.WithLogger(slog.New(log)))
	d := enrol(t, c)
	for range 3 {
		if r := d.heartbeat(); r.status != 200 {
			t.Fatalf("heartbeat: %d %s", r.status, r.body)
		}
	}
	if n := log.count("write answer"); n != 0 {
		t.Errorf("%d answers delivered logged as failed writes", n)
	}
}
