package kiosk_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"examkiosk/sync/kiosk"
	"examkiosk/sync/seal"
	"examkiosk/sync/signing"
	"examkiosk/sync/testbed"
	"examkiosk/sync/wire"
)

// answering is a central played by a test: it signs what answer returns
// with its own answer key, which the kiosk has pinned.
type answering struct {
	key    ed25519.PrivateKey
	answer func(r *http.Request, body []byte) (int, any, string) // status, JSON value, nonce to bind to ("" = the request's)
	now    time.Time
}

func (a *answering) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	status, v, nonce := a.answer(r, body)
	if nonce == "" {
		nonce = r.Header.Get(wire.HeaderNonce)
	}
	data, _ := json.Marshal(v)
	at := a.now
	if at.IsZero() {
		at = time.Now()
	}
	signing.SignAnswer(w.Header(), a.key, nonce, status, data, at)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(data)
}

func answeringClient(t *testing.T, a *answering, ob wire.Outbox, edit ...func(*kiosk.Config)) *kiosk.Client {
	t.Helper()
	pub, priv, _ := ed25519.GenerateKey(nil)
	a.key = priv
	hs := httptest.NewServer(a)
	t.Cleanup(hs.Close)
	sk, _ := seal.GenerateKey()
	_, dev, _ := ed25519.GenerateKey(nil)
	id := kiosk.Identity{DeviceID: "kiosk-test", PrivateKey: dev, SealKey: sk.Public[:], AnswerKey: pub}
	cfg := testConfig(hs.URL)
	for _, e := range edit {
		e(&cfg)
	}
	c, err := kiosk.New(cfg, id, ob, nil, kiosk.Options{Logger: testbed.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The kiosk trusts only answers for what it sent: an acknowledgement for an
// item it did not send (or a revision it did not send) changes nothing.
func TestAckForUnsentItemIgnored(t *testing.T) {
	ob := newMemOutbox()
	sent, other := testbed.RegID("sent"), testbed.RegID("queued-not-sent")
	ob.Add(sent, 1, "c1", []byte(`{}`))
	a := &answering{answer: func(*http.Request, []byte) (int, any, string) {
		return 200, wire.PushResponse{Results: []wire.Result{
			{ID: sent, Revision: 1, Status: wire.StatusAccepted},
			{ID: sent, Revision: 2, Status: wire.StatusRejected, Reason: "never sent"},
			{ID: other, Revision: 1, Status: wire.StatusAccepted},
		}}, ""
	}}
	c := answeringClient(t, a, ob)
	res, err := c.PushBatch(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	ob.Add(other, 1, "c2", []byte(`{}`)) // queued after the answer: it must stay queued
	if res.Accepted != 1 || res.Rejected != 0 {
		t.Fatalf("batch result %+v", res)
	}
	if ob.delivered[[2]any{sent, 1}] != 1 || len(ob.delivered) != 1 || len(ob.quarantined) != 0 {
		t.Fatalf("delivered %v quarantined %v", ob.delivered, ob.quarantined)
	}
	if q, _, _ := ob.Depth(t.Context()); q != 1 {
		t.Fatalf("%d queued, want the unsent item still queued", q)
	}
}

// An answer signed for another request (replayed from earlier) is not an
// answer to this one: nothing is acknowledged.
func TestReplayedAnswerRefused(t *testing.T) {
	ob := newMemOutbox()
	id := testbed.RegID("replayed")
	ob.Add(id, 1, "c1", []byte(`{}`))
	a := &answering{answer: func(*http.Request, []byte) (int, any, string) {
		return 200, wire.PushResponse{Results: []wire.Result{{ID: id, Revision: 1, Status: wire.StatusAccepted}}}, "0123456789abcdef0123456789abcdef"
	}}
	c := answeringClient(t, a, ob)
	if _, err := c.PushBatch(t.Context()); !errors.Is(err, kiosk.ErrUnsignedAnswer) {
		t.Fatalf("push with a replayed answer: %v", err)
	}
	if len(ob.delivered) != 0 {
		t.Fatalf("delivered %v", ob.delivered)
	}
}

// The clock offset comes only from the central's signed time: an unsigned
// clock_skew answer (a proxy, or an impostor on the path) moves nothing.
func TestClockOffsetOnlyFromSignedTime(t *testing.T) {
	var signed atomic.Bool
	central := time.Now().Add(time.Hour)
	a := &answering{now: central, answer: func(*http.Request, []byte) (int, any, string) {
		return 401, wire.ErrorResponse{Code: wire.ErrCodeClockSkew, Message: "skew"}, ""
	}}
	answeringClient(t, a, newMemOutbox()) // gives a its key
	// Unsigned: an impostor strips the signature and sets a Date.
	inner := a.answer
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if signed.Load() {
			a.ServeHTTP(w, r)
			return
		}
		_, v, _ := inner(r, nil)
		data, _ := json.Marshal(v)
		w.Header().Set("Date", central.UTC().Format(http.TimeFormat))
		w.WriteHeader(401)
		io.Copy(w, bytes.NewReader(data))
	}))
	defer hs.Close()
	cfg := testConfig(hs.URL)
	id := kiosk.Identity{DeviceID: "kiosk-test", PrivateKey: ed25519.NewKeyFromSeed(make([]byte, 32)), SealKey: make([]byte, 32),
		AnswerKey: a.key.Public().(ed25519.PublicKey)}
	c, err := kiosk.New(cfg, id, newMemOutbox(), nil, kiosk.Options{Logger: testbed.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	c.Heartbeat(t.Context())
	if off := c.State().ClockOffset; off != 0 {
		t.Fatalf("unsigned answer moved the clock offset by %s", off)
	}
	signed.Store(true)
	c.Heartbeat(t.Context())
	if off := c.State().ClockOffset; off < 59*time.Minute || off > 61*time.Minute {
		t.Fatalf("signed clock_skew answer: offset %s, want about 1h", off)
	}
}
