package central_test

// The attacks of issue #10, rows 3, 6, 8, 10, 11, 12 and 13, each done as
// the attacker did it, asserting that it now fails and that nothing changed.
// Rows 1, 2, 4, 5, 7 and 9 live in the attack suite of part A.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"examkiosk/sync/central"
	"examkiosk/sync/central/store/storetest"
	"examkiosk/sync/kiosk"
	"examkiosk/sync/seal"
	"examkiosk/sync/signing"
	"examkiosk/sync/testbed"
	"examkiosk/sync/wire"
)

// zeros is an endless reader of zero bytes that allocates nothing.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// Row 3: 20 unsigned 32 MiB bodies took the central from 78 MB to 702 MB.
// Now the headers are authenticated first and no body is read or allocated.
func TestAttackRow3UnsignedBodiesDoNotGrowTheHeap(t *testing.T) {
	c := testbed.StartCentral(t, central.DefaultConfig())
	d := enrol(t, c)
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > peak.Load() {
				peak.Store(m.HeapAlloc)
			}
		}
	}()
	const size = 32 << 20
	var wg sync.WaitGroup
	var answered, refused atomic.Int32
	for i := range 20 {
		wg.Go(func() {
			req, _ := http.NewRequest("POST", c.URL+"/v1/push", io.LimitReader(zeros{}, size))
			req.ContentLength = size
			req.Header.Set("Content-Type", wire.PushContentType)
			if i%2 == 1 { // half carry signature headers of an unknown device
				req.Header.Set(wire.HeaderDevice, "kiosk-nobody")
				req.Header.Set(wire.HeaderTimestamp, fmt.Sprint(time.Now().Unix()))
				req.Header.Set(wire.HeaderNonce, "0123456789abcdef0123456789abcdef")
				req.Header.Set(wire.HeaderBodyHash, strings.Repeat("0", 64))
				req.Header.Set(wire.HeaderSignature, base64.StdEncoding.EncodeToString(make([]byte, 64)))
			}
			tr := &http.Transport{DisableKeepAlives: true}
			defer tr.CloseIdleConnections()
			resp, err := (&http.Client{Transport: tr, Timeout: 30 * time.Second}).Do(req)
			if err != nil {
				refused.Add(1) // connection closed while the attacker was still sending
				return
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusUnauthorized {
				answered.Add(1)
			}
		})
	}
	wg.Wait()
	close(stop)
	<-sampled
	grew := int64(peak.Load()) - int64(base.HeapAlloc)
	t.Logf("heap %d MB before, peak %d MB during 20 unsigned 32 MiB bodies (+%d MB); %d answered 401, %d cut",
		base.HeapAlloc>>20, peak.Load()>>20, grew>>20, answered.Load(), refused.Load())
	if grew >= 64<<20 {
		t.Fatalf("heap grew by %d MB, want < 64 MB", grew>>20)
	}
	if answered.Load()+refused.Load() != 20 {
		t.Fatalf("%d of 20 attacks neither refused nor cut", 20-answered.Load()-refused.Load())
	}
	if n, _ := c.Server().RevisionCount(); n != 0 {
		t.Fatalf("%d revisions stored", n)
	}
	// The kiosk still works.
	if st, _, data := d.do(call{method: "POST", path: "/v1/heartbeat", body: []byte(`{}`)}); st != 200 {
		t.Fatalf("heartbeat after the attack: %d %s", st, data)
	}
}

// Row 3: 1-byte-per-5-s bodies stayed open 90 s+. An unsigned one is now
// answered at once and its connection closed; an authenticated device's
// slow body is cut at body_grace plus its length at body_min_rate.
func TestAttackRow3SlowLorisBodiesAreCut(t *testing.T) {
	cfg := central.DefaultConfig()
	cfg.BodyGrace, cfg.BodyMinRate = 500*time.Millisecond, 1024
	c := testbed.StartCentral(t, cfg)
	d := enrol(t, c)

	// Unsigned: headers announce 1000 bytes; one byte follows.
	partialUnsignedBodyRefused(t, c.Addr, 3*time.Second)

	// Signed by an enrolled kiosk, then trickled: 2000 bytes at 5 bytes/s.
	body := bytes.Repeat([]byte(" "), 2000)
	pr, pw := io.Pipe()
	go func() {
		for i := range body {
			if _, err := pw.Write(body[i : i+1]); err != nil {
				return
			}
			time.Sleep(200 * time.Millisecond)
		}
		pw.Close()
	}()
	defer pw.CloseWithError(errors.New("test over"))
	req, _ := http.NewRequest("POST", c.URL+"/v1/heartbeat", pr)
	req.ContentLength = int64(len(body))
	req.Header.Set("Content-Type", "application/json")
	if err := signing.Sign(req, d.id.DeviceID, d.id.PrivateKey, body, time.Now()); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	el := time.Since(start)
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatal("slow body was accepted")
		}
	}
	// The body would take 400 s; the limit is 0.5 s + 2000/1024 s.
	if el > 6*time.Second {
		t.Fatalf("authenticated slow body held the central %s", el)
	}
	t.Logf("unsigned slow body refused at once; signed slow body cut after %s (%v)", el.Round(100*time.Millisecond), err)
}

// sealedItems seals registrations to the central, as the device's
// outbox items.
func (d rawDevice) sealedItems(regs ...wire.Registration) []wire.SealedItem {
	d.t.Helper()
	var items []wire.SealedItem
	for _, r := range regs {
		sealed, err := seal.Seal(testbed.Doc(r), d.seal)
		if err != nil {
			d.t.Fatal(err)
		}
		items = append(items, wire.SealedItem{ID: r.ID, Revision: r.Revision, Sealed: sealed})
	}
	return items
}

// pushRegs seals registrations for a device and pushes them, returning the
// per-item results.
func (d rawDevice) pushRegs(regs ...wire.Registration) []wire.Result {
	d.t.Helper()
	body, _ := json.Marshal(wire.PushRequest{Items: d.sealedItems(regs...)})
	st, _, data := d.do(call{method: "POST", path: "/v1/push", body: body, ctype: "application/json"})
	if st != 200 {
		d.t.Fatalf("push: %d %s", st, data)
	}
	var pr wire.PushResponse
	if err := json.Unmarshal(data, &pr); err != nil || len(pr.Results) != len(regs) {
		d.t.Fatalf("push answer %s (%v)", data, err)
	}
	return pr.Results
}

// Row 6: any enrolled kiosk overwrote another kiosk's registration, across
// centres; a new revision reset a paid registration to under review and
// dropped its order.
func TestAttackRow6RevisionsFromElsewhereAndAfterPayment(t *testing.T) {
	c := testbed.StartCentral(t, central.DefaultConfig())
	srv := c.Server()
	owner := enrol(t, c)
	if err := srv.AddCentre(wire.Centre{ID: "c2", Name: "另一考点"}); err != nil {
		t.Fatal(err)
	}
	code, _, _ := srv.NewEnrolmentCode("c2")
	kcfg := kiosk.DefaultConfig()
	kcfg.CentralURL = c.URL
	id, err := kiosk.Enroll(t.Context(), kcfg, code, "attacker", "1", nil)
	if err != nil {
		t.Fatal(err)
	}
	sk, _ := seal.PublicKey(id.SealKey)
	attacker := rawDevice{t: t, url: c.URL, id: id, seal: sk}
	sameCentre := enrol(t, c)

	photo := testbed.Photo(320, 440, 90, 3)
	rid := testbed.RegID("row6")
	if r := owner.pushRegs(testbed.Registration(rid, 1, owner.id.DeviceID, testbed.IDNumber(6), photo)); r[0].Status != wire.StatusAccepted {
		t.Fatalf("owner's push: %+v", r)
	}
	before, _ := srv.Registrations("")

	// Another centre's kiosk, and another kiosk of the same centre, revise it.
	for _, d := range []rawDevice{attacker, sameCentre} {
		forged := testbed.Registration(rid, 2, d.id.DeviceID, testbed.IDNumber(6), photo)
		forged.Name = "冒名顶替"
		if r := d.pushRegs(forged); r[0].Status != wire.StatusRejected || !strings.Contains(r[0].Reason, "another kiosk") {
			t.Fatalf("revision from another kiosk: %+v", r)
		}
	}
	after, _ := srv.Registrations("")
	if len(after) != 1 || !reflect.DeepEqual(after[0], before[0]) {
		t.Fatalf("registration changed: %+v -> %+v", before, after)
	}

	// Approved (order open), then paid: a new revision from the owner is
	// refused by the central's status machine; status and order stay.
	reg, err := srv.Review(rid, true, "")
	if err != nil {
		t.Fatal(err)
	}
	check := func(stage, wantStatus string) {
		t.Helper()
		rev := testbed.Registration(rid, 2, owner.id.DeviceID, testbed.IDNumber(6), photo)
		rev.PositionID = "P001"
		if r := owner.pushRegs(rev); r[0].Status != wire.StatusRejected {
			t.Fatalf("%s: revision accepted: %+v", stage, r)
		}
		now, _ := srv.Registrations("")
		if now[0].Status != wantStatus || now[0].OrderID != reg.OrderID || now[0].Revision != 1 {
			t.Fatalf("%s: registration became %+v", stage, now[0])
		}
	}
	check("approved", central.StatusApproved)
	if err := c.PayOrder(t.Context(), reg.OrderID); err != nil {
		t.Fatal(err)
	}
	check("paid", central.StatusPaid)
	if n, _ := srv.RevisionCount(); n != 1 {
		t.Fatalf("%d revisions stored, want 1", n)
	}
}

// Row 8: a copy of central.db opened every push ever captured: personal
// data and photos were plain text and the sealing private key was inside.
// (This reads the bbolt file; TestPostgresHoldsNoPlainPersonalData is the
// same attack on PostgreSQL.)
func TestAttackRow8CopyOfTheDatabaseRevealsNothing(t *testing.T) {
	cfg := central.DefaultConfig()
	testbed.UseStore(t, &cfg, storetest.Bolt)
	c := testbed.StartCentral(t, cfg)
	d := enrol(t, c)
	photo := testbed.Photo(320, 440, 90, 8)
	r := testbed.Registration(testbed.RegID("row8"), 1, d.id.DeviceID, testbed.IDNumber(8), photo)
	r.Name, r.Phone = "保密考生甲", "13912345678"
	if res := d.pushRegs(r); res[0].Status != wire.StatusAccepted {
		t.Fatalf("push: %+v", res)
	}
	c.Stop()
	db, err := os.ReadFile(filepath.Join(cfg.DataDir, "central.db"))
	if err != nil {
		t.Fatal(err)
	}
	keyDir := filepath.Join(cfg.DataDir, "keys")
	secrets := map[string][]byte{"name": []byte(r.Name), "ID number": []byte(r.IDNumber), "phone": []byte(r.Phone),
		"photo": photo[len(photo)/2 : len(photo)/2+64]}
	for _, f := range []string{"data.key", "seal.key", "answer.key"} {
		p := filepath.Join(keyDir, f)
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %04o, want 0600", f, fi.Mode().Perm())
		}
		hexKey, _ := os.ReadFile(p)
		secrets[f] = bytes.TrimSpace(hexKey)
	}
	for what, s := range secrets {
		if bytes.Contains(db, s) {
			t.Errorf("central.db contains the %s in the clear", what)
		}
	}
	// The database with another key directory does not open.
	cfg2 := cfg
	cfg2.KeyDir = t.TempDir()
	if s, err := central.Open(cfg2, central.WithLogger(testbed.Quiet())); err == nil {
		s.Close()
		t.Fatal("central.db opened without its keys")
	}
	// With its keys it does, and the reviewer sees the document.
	s, err := central.Open(cfg, central.WithLogger(testbed.Quiet()))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	doc, err := s.Document(r.ID, 1)
	if err != nil || doc.Name != r.Name || !bytes.Equal(doc.Photo, photo) {
		t.Fatalf("document with the keys: %v", err)
	}
}

// Row 10: nothing the central answered was signed (seal key at enrolment,
// pulls with payment URLs, catalog, the Date used for the clock offset), and
// the kiosk accepted http:// to any host.
func TestAttackRow10AnswersAreSignedAndPinned(t *testing.T) {
	c := testbed.StartCentral(t, central.DefaultConfig())
	srv := c.Server()
	// A machine in the middle rewrites answers: payment links to its own
	// site, and the enrolment's answer key and seal key to its own.
	target, _ := url.Parse(c.URL)
	var tamper atomic.Bool
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(resp *http.Response) error {
		if !tamper.Load() {
			return nil
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		b = bytes.ReplaceAll(b, []byte(c.URL+"/pay/"), []byte("https://evil.example/pay/"))
		if resp.StatusCode == http.StatusOK && resp.Request.URL.Path == "/v1/enroll" {
			var er wire.EnrollResponse
			json.Unmarshal(b, &er)
			pub, _, _ := ed25519.GenerateKey(nil)
			er.AnswerKey = pub
			b, _ = json.Marshal(er)
		}
		resp.Body = io.NopCloser(bytes.NewReader(b))
		resp.ContentLength = int64(len(b))
		resp.Header.Set("Content-Length", fmt.Sprint(len(b)))
		return nil
	}
	mitm := httptest.NewServer(proxy)
	defer mitm.Close()

	kcfg := kiosk.DefaultConfig()
	kcfg.CentralURL = mitm.URL
	id, err := c.Enroll(t.Context(), kiosk.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	sink := &pullSink{}
	ob := &emptyOutbox{}
	client, err := kiosk.New(kcfg, id, ob, sink, kiosk.Options{Logger: testbed.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	d := rawDevice{t: t, url: c.URL, id: id}
	d.seal, _ = seal.PublicKey(id.SealKey)
	rid := testbed.RegID("row10")
	d.pushRegs(testbed.Registration(rid, 1, id.DeviceID, testbed.IDNumber(10), testbed.Photo(320, 440, 90, 10)))
	if _, err := srv.Review(rid, true, ""); err != nil {
		t.Fatal(err)
	}

	tamper.Store(true)
	if err := client.Pull(t.Context()); !errors.Is(err, kiosk.ErrUnsignedAnswer) {
		t.Fatalf("tampered pull: %v", err)
	}
	if sink.applied != 0 {
		t.Fatal("the kiosk applied a tampered pull")
	}
	// A tampered enrolment answer is refused when the key is configured.
	ecfg := kcfg
	ecfg.CentralAnswerKey = base64.StdEncoding.EncodeToString(srv.AnswerPublicKey())
	code, _, _ := srv.NewEnrolmentCode(central.DemoCentreID)
	if _, err := kiosk.Enroll(t.Context(), ecfg, code, "k", "1", nil); err == nil {
		t.Fatal("enrolled through a machine that swapped the answer key")
	}
	// Untampered, through the same path, everything verifies.
	tamper.Store(false)
	if err := client.Pull(t.Context()); err != nil {
		t.Fatal(err)
	}
	if sink.applied == 0 || sink.last.Updates[len(sink.last.Updates)-1].PaymentURL != c.URL+"/pay/"+mustOrder(t, srv, rid) {
		t.Fatalf("pull: %+v", sink.last)
	}
	// An answer bound to another request (replayed) does not verify.
	if st := client.State(); st.ClockOffset != 0 {
		t.Fatalf("clock offset %s", st.ClockOffset)
	}

	// http:// only to loopback unless explicitly allowed.
	for _, u := range []string{"http://exam.example.gov.cn", "http://10.1.2.3:8700"} {
		k := kiosk.DefaultConfig()
		k.CentralURL = u
		if err := k.Validate(); err == nil || !strings.Contains(err.Error(), "sync.central_url") {
			t.Errorf("%s: %v", u, err)
		}
		k.AllowInsecureHTTP = true
		if err := k.Validate(); err != nil {
			t.Errorf("%s with allow_insecure_http: %v", u, err)
		}
	}
}

func mustOrder(t *testing.T, srv *central.Server, id string) string {
	regs, _ := srv.Registrations("")
	for _, r := range regs {
		if r.ID == id {
			return r.OrderID
		}
	}
	t.Fatalf("no registration %s", id)
	return ""
}

type pullSink struct {
	mu      sync.Mutex
	cursor  string
	applied int
	last    wire.Pull
}

func (s *pullSink) PullCursor(context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cursor, nil
}

func (s *pullSink) ApplyPull(_ context.Context, p wire.Pull) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cursor, s.last = p.Cursor, p
	s.applied++
	return nil
}

type emptyOutbox struct{}

func (emptyOutbox) Pending(context.Context, int, int) ([]wire.OutboxItem, error) { return nil, nil }
func (emptyOutbox) Ack(context.Context, []wire.Result) error                     { return nil }
func (emptyOutbox) Depth(context.Context) (int, int, error)                      { return 0, 0, nil }

// Row 11: one item whose id was over 32 KiB failed its whole batch with a
// 500 that the kiosk retried forever.
func TestAttackRow11OverlongIDFailsOnlyItself(t *testing.T) {
	c := testbed.StartCentral(t, central.DefaultConfig())
	d := enrol(t, c)
	photo := testbed.Photo(320, 440, 90, 11)
	long := strings.Repeat("x", 40<<10)
	regs := []wire.Registration{
		testbed.Registration(testbed.RegID("row11-a"), 1, d.id.DeviceID, testbed.IDNumber(111), photo),
		testbed.Registration(long, 1, d.id.DeviceID, testbed.IDNumber(112), photo),
		testbed.Registration("not-a-uuid", 1, d.id.DeviceID, testbed.IDNumber(113), photo),
		testbed.Registration(testbed.RegID("row11-b"), 1, d.id.DeviceID, testbed.IDNumber(114), photo),
	}
	res := d.pushRegs(regs...)
	want := []string{wire.StatusAccepted, wire.StatusRejected, wire.StatusRejected, wire.StatusAccepted}
	for i, r := range res {
		if r.Status != want[i] {
			t.Errorf("item %d: %s (%s), want %s", i, r.Status, r.Reason, want[i])
		}
	}
	if n, _ := c.Server().RevisionCount(); n != 2 {
		t.Fatalf("%d revisions stored, want 2", n)
	}
}

// Row 12: the device id was not in the signed message; the DEMO enrolment
// could be replayed to create devices sharing a key.
func TestAttackRow12DeviceSignedAndEnrolmentNotReplayable(t *testing.T) {
	c := testbed.StartCentral(t, central.DefaultConfig())
	srv := c.Server()
	a, b := enrol(t, c), enrol(t, c)
	// b's key, a's device id: the message names b, so it does not verify.
	st, er, _ := a.do(call{method: "POST", path: "/v1/heartbeat", body: []byte(`{}`), key: b.id.PrivateKey,
		mutate: func(r *http.Request) { r.Header.Set(wire.HeaderDevice, a.id.DeviceID) }})
	if st != 401 || er.Code != wire.ErrCodeBadSignature {
		t.Fatalf("device id swapped: %d %s", st, er.Code)
	}
	// Signed as b, presented as a.
	st, er, _ = b.do(call{method: "POST", path: "/v1/heartbeat", body: []byte(`{}`),
		mutate: func(r *http.Request) { r.Header.Set(wire.HeaderDevice, a.id.DeviceID) }})
	if st != 401 || er.Code != wire.ErrCodeBadSignature {
		t.Fatalf("device header rewritten: %d %s", st, er.Code)
	}

	// The DEMO enrolment, captured and replayed.
	devs, _ := srv.Devices()
	pub, priv, _ := ed25519.GenerateKey(nil)
	body, _ := json.Marshal(wire.EnrollRequest{Code: central.DemoEnrolmentCode, PublicKey: pub,
		Proof: ed25519.Sign(priv, wire.EnrollProofMessage(central.DemoEnrolmentCode)), Hostname: "demo"})
	post := func(b []byte) int {
		resp, err := http.Post(c.URL+"/v1/enroll", "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := post(body); st != 200 {
		t.Fatalf("first DEMO enrolment: %d", st)
	}
	if st := post(body); st != 403 {
		t.Fatalf("replayed DEMO enrolment: %d", st)
	}
	// The same key with a fresh code: one key, one device.
	code, _, _ := srv.NewEnrolmentCode(central.DemoCentreID)
	body2, _ := json.Marshal(wire.EnrollRequest{Code: code, PublicKey: pub, Proof: ed25519.Sign(priv, wire.EnrollProofMessage(code))})
	if st := post(body2); st != 403 {
		t.Fatalf("second device with the same key: %d", st)
	}
	after, _ := srv.Devices()
	if len(after) != len(devs)+1 {
		t.Fatalf("%d devices, want %d", len(after), len(devs)+1)
	}
}

// Row 13: unknown and revoked devices were told apart before the signature
// was checked; Host and Content-Type were unsigned; unknown JSON fields were
// accepted; admin JSON bodies were unbounded; enrolment codes could be
// guessed without limit.
func TestAttackRow13(t *testing.T) {
	cfg := central.DefaultConfig()
	cfg.EnrolAttempts = 5
	c := testbed.StartCentral(t, cfg)
	srv := c.Server()
	d, revoked := enrol(t, c), enrol(t, c)
	if err := srv.Revoke(revoked.id.DeviceID); err != nil {
		t.Fatal(err)
	}
	_, stranger, _ := ed25519.GenerateKey(nil)
	hb := []byte(`{}`)
	answers := map[string]string{}
	for name, cl := range map[string]call{
		"unknown device":  {device: "kiosk-0193b2c4-7e1f-7000-8000-000000000000", key: stranger},
		"revoked device":  {device: revoked.id.DeviceID, key: stranger},
		"enrolled device": {key: stranger},
	} {
		cl.method, cl.path, cl.body = "POST", "/v1/heartbeat", hb
		st, _, data := d.do(cl)
		answers[fmt.Sprintf("%d %s", st, data)] += name + "; "
	}
	if len(answers) != 1 {
		t.Fatalf("an attacker without the key can tell devices apart: %v", answers)
	}
	for name, mutate := range map[string]func(*http.Request){
		"Host":         func(r *http.Request) { r.Host = "evil.example" },
		"Content-Type": func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") },
	} {
		if st, er, _ := d.do(call{method: "POST", path: "/v1/heartbeat", body: hb, ctype: "application/json", mutate: mutate}); st != 401 || er.Code != wire.ErrCodeBadSignature {
			t.Errorf("%s changed after signing: %d %s", name, st, er.Code)
		}
	}
	// Unknown JSON fields.
	if st, _, data := d.do(call{method: "POST", path: "/v1/heartbeat", body: []byte(`{"queue_depth":1,"is_admin":true}`), ctype: "application/json"}); st != 400 {
		t.Errorf("unknown field: %d %s", st, data)
	}
	// Admin JSON bodies are bounded (the catalog at 4 MiB).
	big := append([]byte(`{"exams":[],"pad":"`), bytes.Repeat([]byte("a"), 5<<20)...)
	req, _ := http.NewRequest("PUT", c.URL+"/admin/catalog", bytes.NewReader(append(big, `"}`...)))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("5 MiB catalog: %d", resp.StatusCode)
		}
	}
	// Guessing enrolment codes: after enrol_attempts the address waits,
	// even with the right code.
	devs, _ := srv.Devices()
	kcfg := kiosk.DefaultConfig()
	kcfg.CentralURL = c.URL
	for i := range cfg.EnrolAttempts - 2 { // testbed's two enrolments counted too
		if _, err := kiosk.Enroll(t.Context(), kcfg, fmt.Sprintf("GUESS%05d", i), "g", "1", nil); !kiosk.IsCode(err, wire.ErrCodeInvalidCode) {
			t.Fatalf("guess %d: %v", i, err)
		}
	}
	code, _, _ := srv.NewEnrolmentCode(central.DemoCentreID)
	if _, err := kiosk.Enroll(t.Context(), kcfg, code, "g", "1", nil); !kiosk.IsCode(err, wire.ErrCodeTooManyRequests) {
		t.Fatalf("after %d attempts: %v", cfg.EnrolAttempts, err)
	}
	if after, _ := srv.Devices(); len(after) != len(devs) {
		t.Fatalf("devices %d -> %d", len(devs), len(after))
	}
}

// Replay protection holds for the whole window, with a moving clock and
// across a restart of the central (nonces live in central.db until the
// signed time plus the window).
func TestReplayWholeWindowMovingClock(t *testing.T) {
	var offset atomic.Int64
	clock := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	c := testbed.StartCentral(t, central.DefaultConfig(), central.WithClock(clock))
	d := enrol(t, c)
	signedAt := time.Now()
	var captured *http.Request
	if st, _, _ := d.do(call{method: "POST", path: "/v1/heartbeat", body: []byte(`{}`), at: signedAt,
		mutate: func(r *http.Request) { captured = r.Clone(context.Background()) }}); st != 200 {
		t.Fatalf("original: %d", st)
	}
	replay := func() (int, string) {
		req, _ := http.NewRequest("POST", c.URL+"/v1/heartbeat", bytes.NewReader([]byte(`{}`)))
		req.Header = captured.Header.Clone()
		// A connection of its own each time: after c.Restart a kept-alive
		// connection to the old server may be reused and read EOF (a POST
		// is not retried), which once failed this test.
		req.Close = true
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var er wire.ErrorResponse
		json.NewDecoder(resp.Body).Decode(&er)
		return resp.StatusCode, er.Code
	}
	for _, at := range []time.Duration{time.Second, time.Minute, 3 * time.Minute, 4*time.Minute + 55*time.Second} {
		offset.Store(int64(at))
		if at == 3*time.Minute {
			if err := c.Restart(); err != nil {
				t.Fatal(err)
			}
		}
		if st, code := replay(); st != 401 || code != wire.ErrCodeNonceReused {
			t.Fatalf("replay %s later: %d %s", at, st, code)
		}
	}
	offset.Store(int64(6 * time.Minute))
	if st, code := replay(); st != 401 || code != wire.ErrCodeClockSkew {
		t.Fatalf("replay after the window: %d %s", st, code)
	}
}

// The central's registration deadline is enforced at ingest: after it, a
// document claiming to be submitted later is refused, and a backdated one
// delivered after the grace too; one submitted in time by a kiosk that was
// offline still gets in within the grace.
func TestIngestDeadline(t *testing.T) {
	c := testbed.StartCentral(t, central.DefaultConfig())
	srv := c.Server()
	d := enrol(t, c)
	now := time.Now().UTC().Truncate(time.Second)
	setDeadline := func(until time.Time) {
		if _, err := srv.SetCatalog(wire.Catalog{Exams: []wire.Exam{{ID: central.DemoExamID, Name: "考试", RegisterFrom: now.AddDate(0, 0, -10),
			RegisterUntil: until, PayUntil: until.AddDate(0, 0, 3), FeeCents: 100, Positions: []wire.Position{{ID: "P003", Name: "岗"}}}}}); err != nil {
			t.Fatal(err)
		}
	}
	photo := testbed.Photo(320, 440, 90, 15)
	reg := func(label string, n int, submitted time.Time) wire.Registration {
		r := testbed.Registration(testbed.RegID(label), 1, d.id.DeviceID, testbed.IDNumber(n), photo)
		r.SubmittedAt = submitted
		return r
	}
	setDeadline(now.Add(-time.Hour))
	res := d.pushRegs(
		reg("late", 1, now), // after the deadline
		reg("in-time-offline", 2, now.Add(-2*time.Hour)), // before it, delivered within the grace
		reg("future", 3, now.Add(time.Hour)),             // a clock far ahead
	)
	if res[0].Status != wire.StatusRejected || !strings.Contains(res[0].Reason, "截止") {
		t.Errorf("submitted after the deadline: %+v", res[0])
	}
	if res[1].Status != wire.StatusAccepted {
		t.Errorf("submitted in time, delivered late within the grace: %+v", res[1])
	}
	if res[2].Status != wire.StatusRejected {
		t.Errorf("submitted in the future: %+v", res[2])
	}
	setDeadline(now.Add(-49 * time.Hour))
	if res := d.pushRegs(reg("backdated", 4, now.Add(-50*time.Hour))); res[0].Status != wire.StatusRejected {
		t.Errorf("backdated, delivered after the grace: %+v", res[0])
	}
}

// One registration per candidate and exam: a second registration id for
// the same ID number and exam is refused, from any kiosk.
func TestIngestOneRegistrationPerCandidateAndExam(t *testing.T) {
	c := testbed.StartCentral(t, central.DefaultConfig())
	d, other := enrol(t, c), enrol(t, c)
	photo := testbed.Photo(320, 440, 90, 16)
	idn := testbed.IDNumber(16)
	first := testbed.Registration(testbed.RegID("cand-1"), 1, d.id.DeviceID, idn, photo)
	if r := d.pushRegs(first); r[0].Status != wire.StatusAccepted {
		t.Fatalf("first: %+v", r)
	}
	second := testbed.Registration(testbed.RegID("cand-2"), 1, d.id.DeviceID, idn, photo)
	second.PositionID = "P001"
	third := testbed.Registration(testbed.RegID("cand-3"), 1, other.id.DeviceID, idn, photo)
	if r := d.pushRegs(second); r[0].Status != wire.StatusRejected || !strings.Contains(r[0].Reason, "already") {
		t.Fatalf("second registration, same kiosk: %+v", r)
	}
	if r := other.pushRegs(third); r[0].Status != wire.StatusRejected {
		t.Fatalf("second registration, other kiosk: %+v", r)
	}
	// Revising the first one is fine.
	rev := first
	rev.Revision, rev.PositionID = 2, "P002"
	if r := d.pushRegs(rev); r[0].Status != wire.StatusAccepted {
		t.Fatalf("revision of the first: %+v", r)
	}
	if regs, _ := c.Server().Registrations(""); len(regs) != 1 {
		t.Fatalf("%d registrations, want 1", len(regs))
	}
}

// Row 3, concurrency: one kiosk may not hold more than
// max_concurrent_per_device requests at once (a long poll counts), and all
// kiosks together not more than max_concurrent; beyond them the central
// answers 429 at once instead of queueing.
func TestAttackRow3ConcurrencyCaps(t *testing.T) {
	cfg := central.DefaultConfig()
	cfg.MaxConcurrent, cfg.MaxConcurrentPerDevice = 2, 1
	c := testbed.StartCentral(t, cfg)
	d, other, third := enrol(t, c), enrol(t, c), enrol(t, c)
	st, _, data := d.do(call{method: "POST", path: "/v1/qr/sessions", body: []byte(`{"channel":"alipay"}`), ctype: "application/json"})
	if st != 200 {
		t.Fatalf("QR session: %d %s", st, data)
	}
	var qs wire.QRSession
	json.Unmarshal(data, &qs)
	// d and other each hold a long poll.
	var wg sync.WaitGroup
	for _, dev := range []rawDevice{d, other} {
		sid := qs.ID
		if dev.id.DeviceID != d.id.DeviceID {
			st, _, data := dev.do(call{method: "POST", path: "/v1/qr/sessions", body: []byte(`{"channel":"alipay"}`), ctype: "application/json"})
			if st != 200 {
				t.Fatalf("QR session: %d %s", st, data)
			}
			var s wire.QRSession
			json.Unmarshal(data, &s)
			sid = s.ID
		}
		wg.Go(func() {
			dev.do(call{method: "GET", path: "/v1/qr/sessions/" + sid + "?state=waiting&wait=2s"})
		})
	}
	time.Sleep(300 * time.Millisecond)
	if st, er, _ := d.do(call{method: "POST", path: "/v1/heartbeat", body: []byte(`{}`)}); st != 429 || er.Code != wire.ErrCodeTooManyRequests {
		t.Errorf("second request of one device: %d %s, want 429", st, er.Code)
	}
	if st, er, _ := third.do(call{method: "POST", path: "/v1/heartbeat", body: []byte(`{}`)}); st != 429 || er.Code != wire.ErrCodeTooManyRequests {
		t.Errorf("third request overall: %d %s, want 429", st, er.Code)
	}
	wg.Wait()
	if st, _, data := d.do(call{method: "POST", path: "/v1/heartbeat", body: []byte(`{}`)}); st != 200 {
		t.Fatalf("after the polls ended: %d %s", st, data)
	}
}

// partialUnsignedBodyRefused sends an unsigned request whose headers
// announce 1000 bytes and whose body stops after one: the central answers
// 401, closes the connection (it does not wait for the rest) and does so
// within the given time, not at its read timeout.
func partialUnsignedBodyRefused(t *testing.T, addr string, within time.Duration) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	fmt.Fprintf(conn, "POST /v1/heartbeat HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{", addr)
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !resp.Close {
		t.Errorf("a partial unsigned body: %d close=%v, want 401 and the connection closed", resp.StatusCode, resp.Close)
	}
	if _, err := conn.Read(make([]byte, 1)); err == nil {
		t.Error("the connection stays open after refusing a partial body")
	}
	if el := time.Since(start); el > within {
		t.Errorf("a partial unsigned body held the connection %s", el)
	}
}
