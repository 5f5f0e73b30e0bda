package central

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"examkiosk/sync/central/store"
	"examkiosk/sync/wire"
)

// The server's own paths at their limits (server.go, store.go,
// backend.go): the admin API's answers, the maintenance loop, the nonces
// kept until they expire, the pull cursor, a body that fails to arrive,
// and Migrate on the embedded store.

// TestAdminAPI drives the admin API as a script does (the bearer token):
// centres, enrolment codes, devices and their revocation, the catalog;
// each refusal is the documented status, each change audited.
func TestAdminAPI(t *testing.T) {
	cfg := DefaultConfig()
	cfg.AdminToken = "s3cret-admin"
	errs := &acctErrors{}
	s, clk := acctOpen(t, cfg, errs)
	hs := httptest.NewServer(s.Handler())
	defer hs.Close()
	call := func(method, path, body string) (int, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, hs.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+cfg.AdminToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}

	if st, b := call("POST", "/admin/centres", `{"id":"c9","name":""}`); st != http.StatusBadRequest {
		t.Errorf("centre without a name: %d %s", st, b)
	}
	if st, b := call("POST", "/admin/centres", `{"id":"c9","name":"第九考点"}`); st != http.StatusOK || !strings.Contains(string(b), `"id":"c9"`) {
		t.Errorf("add centre: %d %s", st, b)
	}
	if st, b := call("POST", "/admin/enrolment-codes", `{"centre_id":"nowhere"}`); st != http.StatusBadRequest {
		t.Errorf("code for an unknown centre: %d %s", st, b)
	}
	var code struct {
		Code      string    `json:"code"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	if st, b := call("POST", "/admin/enrolment-codes", `{"centre_id":"c9"}`); st != http.StatusOK || json.Unmarshal(b, &code) != nil || len(code.Code) != 10 || !code.ExpiresAt.Equal(clk.now().Add(cfg.EnrolmentCodeTTL)) {
		t.Errorf("code: %d %s", st, b)
	}

	if err := s.db.Update(func(tx store.Tx) error {
		return putJSON(tx.Bucket(bDevices), "kiosk-a", wire.Device{ID: "kiosk-a", CentreID: "c9", EnrolledAt: clk.now()})
	}); err != nil {
		t.Fatal(err)
	}
	var ds []wire.Device
	if st, b := call("GET", "/admin/devices", ""); st != http.StatusOK || json.Unmarshal(b, &ds) != nil || len(ds) != 1 || ds[0].ID != "kiosk-a" || ds[0].Revoked {
		t.Errorf("devices: %d %s", st, b)
	}
	if st, b := call("POST", "/admin/devices/kiosk-nope/revoke", ""); st != http.StatusNotFound {
		t.Errorf("revoke an unknown device: %d %s", st, b)
	}
	clk.add(time.Hour)
	if st, b := call("POST", "/admin/devices/kiosk-a/revoke", ""); st != http.StatusOK || string(bytes.TrimSpace(b)) != `{"revoked":true}` {
		t.Errorf("revoke: %d %s", st, b)
	}
	if ds, err := s.Devices(); err != nil || len(ds) != 1 || !ds[0].Revoked || !ds[0].RevokedAt.Equal(clk.now()) {
		t.Errorf("after revoking: %+v %v", ds, err)
	}

	cat := `{"exams":[{"id":"E9","name":"第九场"}]}`
	var v struct{ Version int64 }
	st, b := call("PUT", "/admin/catalog", cat)
	if st != http.StatusOK || json.Unmarshal(b, &v) != nil || v.Version != 1 {
		t.Fatalf("put catalog: %d %s", st, b)
	}
	if st, b = call("PUT", "/admin/catalog", cat); st != http.StatusOK || json.Unmarshal(b, &v) != nil || v.Version != 2 {
		t.Fatalf("put catalog again: %d %s", st, b)
	}
	var got wire.Catalog
	if st, b := call("GET", "/admin/catalog", ""); st != http.StatusOK || json.Unmarshal(b, &got) != nil || got.Version != 2 || len(got.Exams) != 1 || got.Exams[0].ID != "E9" {
		t.Errorf("get catalog: %d %s", st, b)
	}

	es, err := s.Audit(10)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range es {
		actions = append(actions, e.Action+" "+e.Target+" "+e.Detail)
	}
	want := "catalog  version 2|catalog  version 1|revoke kiosk-a |enrolment_code c9 |centre c9 第九考点"
	if strings.Join(actions, "|") != want {
		t.Errorf("audit %q, want %q", strings.Join(actions, "|"), want)
	}
	errs.none(t)
}

// acctAll records every log record (any level) as "LEVEL message".
type acctAll struct {
	mu   sync.Mutex
	recs []string
}

func (h *acctAll) Enabled(context.Context, slog.Level) bool { return true }
func (h *acctAll) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recs = append(h.recs, r.Level.String()+" "+r.Message)
	return nil
}
func (h *acctAll) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *acctAll) WithGroup(string) slog.Handler      { return h }
func (h *acctAll) reset()                             { h.mu.Lock(); defer h.mu.Unlock(); h.recs = nil }
func (h *acctAll) all() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.recs...)
}

// The maintenance loop prunes expired nonces and expired login sessions
// on each tick, logs what it pruned, and logs nothing when there was
// nothing to do (an operator's log is not filled with empty rounds).
func TestRunMaintenance(t *testing.T) {
	logs := &acctAll{}
	s, clk := acctOpen(t, DefaultConfig(), logs)
	tick := func() {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { s.RunMaintenance(ctx, 5*time.Millisecond); close(done) }()
		time.Sleep(60 * time.Millisecond)
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("RunMaintenance did not stop with its context")
		}
	}
	// Start-up logs (providers, the face index loaded in the background)
	// are not the loop's.
	for deadline := time.Now().Add(10 * time.Second); !slices.Contains(logs.all(), "INFO face index loaded"); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("face index not loaded: %q", logs.all())
		}
	}
	logs.reset()
	tick()
	if got := logs.all(); len(got) != 0 {
		t.Fatalf("rounds with nothing to do logged %q", got)
	}
	if fresh, err := s.nonces.Use(context.Background(), "kiosk-a", "n-old", clk.now().Add(-time.Second)); !fresh || err != nil {
		t.Fatalf("nonce: %v %v", fresh, err)
	}
	if err := s.putSession("ended", sessionRecord{Reviewer: "r", ExpiresAt: clk.now().Add(-time.Second)}); err != nil {
		t.Fatal(err)
	}
	tick()
	got := logs.all()
	if len(got) != 1 || got[0] != "DEBUG pruned nonces" {
		t.Errorf("logged %q, want one DEBUG pruned nonces", got)
	}
	if _, err := s.getSession("ended"); !errors.Is(err, errNotFound) {
		t.Errorf("expired session kept: %v", err)
	}
}

// A nonce is kept until the second its request's window ends (a replay up
// to then is refused), and dropped once that second has passed (every one
// of them).
func TestNoncesKeptUntilTheyExpire(t *testing.T) {
	s, clk, _ := acctServer(t)
	ctx := context.Background()
	now := clk.now()
	for _, n := range []struct {
		nonce string
		exp   time.Time
	}{{"past", now.Add(-time.Second)}, {"older", now.Add(-time.Minute)}, {"now", now}, {"later", now.Add(time.Second)}} {
		if fresh, err := s.nonces.Use(ctx, "kiosk-a", n.nonce, n.exp); !fresh || err != nil {
			t.Fatalf("nonce %s: %v %v", n.nonce, fresh, err)
		}
	}
	if n, err := s.nonces.prune(); err != nil || n != 2 {
		t.Fatalf("pruned %d (%v), want 2", n, err)
	}
	if err := s.db.View(func(tx store.Tx) error {
		for nonce, want := range map[string]bool{"past": false, "older": false, "now": true, "later": true} {
			v := tx.Bucket(bNonces).Get([]byte("kiosk-a\x00" + nonce))
			if (v != nil) != want || v != nil && int64(binary.BigEndian.Uint64(v)) < now.Unix() {
				t.Errorf("nonce %s after pruning: %x, want kept=%v", nonce, v, want)
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if fresh, err := s.nonces.Use(ctx, "kiosk-a", "now", now); fresh || err != nil {
		t.Errorf("a replay within the nonce's last second: fresh=%v %v", fresh, err)
	}
}

// The pull cursor: "<seq>.<catalog version>", or nothing for the start.
func TestParseCursor(t *testing.T) {
	if seq, v, err := parseCursor("17.3"); err != nil || seq != 17 || v != 3 {
		t.Errorf("17.3: %d %d %v", seq, v, err)
	}
	if seq, v, err := parseCursor(formatCursor(1<<63, -1)); err != nil || seq != 1<<63 || v != -1 {
		t.Errorf("round trip: %d %d %v", seq, v, err)
	}
	if seq, v, err := parseCursor(""); err != nil || seq != 0 || v != 0 {
		t.Errorf("empty: %d %d %v", seq, v, err)
	}
	for _, c := range []string{"17", "x.3", "17.x", "-1.3", "17.3.1"} {
		if seq, v, err := parseCursor(c); err == nil || seq != 0 || v != 0 {
			t.Errorf("%q: %d %d %v, want refused", c, seq, v, err)
		}
	}
}

// A body that breaks off is answered 400 with the reason, a body past the
// limit 413.
func TestDecodeBodyFailures(t *testing.T) {
	s, _, _ := acctServer(t)
	var v map[string]any
	w := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodPost, "/admin/centres", io.NopCloser(iotest.ErrReader(errors.New("connection reset"))))
	if s.decodeBody(w, r, 1024, &v) || w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "read body: connection reset") {
		t.Errorf("broken body: %d %s", w.Code, w.Body.String())
	}
	w = httptest.NewRecorder()
	r = httptest.NewRequest(http.MethodPost, "/admin/centres", strings.NewReader(`{"id":"`+strings.Repeat("x", 2000)+`"}`))
	if s.decodeBody(w, r, 1024, &v) || w.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversize body: %d %s", w.Code, w.Body.String())
	}
}

// Migrate on the embedded store: the configuration is checked first, no
// schema migration is reported, and the store opens (and is closed) so
// that the server starts on it after; a PostgreSQL database that cannot
// be reached is an error naming central.database, for Migrate and Open.
func TestMigrateEmbeddedStore(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	if StoreKind(cfg) != "bbolt" {
		t.Errorf("store kind %q, want bbolt", StoreKind(cfg))
	}
	bad := cfg
	bad.ClockSkew = -time.Second
	if _, err := Migrate(bad); err == nil || !strings.Contains(err.Error(), "central config") {
		t.Errorf("Migrate with a bad config: %v", err)
	}
	applied, err := Migrate(cfg)
	if err != nil || len(applied) != 0 {
		t.Fatalf("Migrate: %v %v", applied, err)
	}
	s, err := Open(cfg, WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatalf("open after Migrate: %v", err)
	}
	s.Close()
	pg := cfg
	pg.Database = "postgres://examkiosk@127.0.0.1:1/none?connect_timeout=2"
	if StoreKind(pg) != "postgresql" {
		t.Errorf("store kind %q, want postgresql", StoreKind(pg))
	}
	if _, err := Migrate(pg); err == nil || !strings.Contains(err.Error(), "central.database") {
		t.Errorf("Migrate with an unreachable database: %v", err)
	}
	if s, err := Open(pg, WithLogger(slog.New(slog.DiscardHandler))); err == nil || !strings.Contains(err.Error(), "central.database") {
		if s != nil {
			s.Close()
		}
		t.Errorf("Open with an unreachable database: %v", err)
	}
}

// A pull hands a kiosk its updates after its cursor, at most 500 at a
// time (More says there are others), the catalog when the kiosk's version
// is not the current one, and the cursor to send next.
func TestPullCursorAndCatalog(t *testing.T) {
	s, clk, errs := acctServer(t)
	if _, err := s.SetCatalog(wire.Catalog{Exams: []wire.Exam{{ID: "E9", Name: "第九场"}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.db.Update(func(tx store.Tx) error {
		for i := range pullLimit + 1 {
			if err := appendUpdate(tx, "kiosk-a", wire.Update{RegistrationID: "r" + strconv.Itoa(i+1), Revision: 1, Status: StatusApproved, At: clk.now()}); err != nil {
				return err
			}
		}
		return appendUpdate(tx, "kiosk-b", wire.Update{RegistrationID: "other", Revision: 1, Status: StatusApproved, At: clk.now()})
	}); err != nil {
		t.Fatal(err)
	}
	pull := func(cursor string) wire.Pull {
		t.Helper()
		w := httptest.NewRecorder()
		s.handlePull(w, httptest.NewRequest(http.MethodGet, "/v1/pull?cursor="+cursor, nil), "kiosk-a", nil)
		var p wire.Pull
		if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &p) != nil {
			t.Fatalf("pull %q: %d %s", cursor, w.Code, w.Body.String())
		}
		return p
	}
	p := pull("")
	if len(p.Updates) != pullLimit || !p.More || p.Cursor != "500.1" || p.Catalog == nil || p.Catalog.Version != 1 || len(p.Catalog.Exams) != 1 {
		t.Fatalf("first pull: %d updates, more %v, cursor %q, catalog %+v", len(p.Updates), p.More, p.Cursor, p.Catalog)
	}
	if p.Updates[0].RegistrationID != "r1" || p.Updates[pullLimit-1].RegistrationID != "r500" {
		t.Errorf("first pull from %s to %s, want r1 to r500", p.Updates[0].RegistrationID, p.Updates[pullLimit-1].RegistrationID)
	}
	p = pull("500.1")
	if len(p.Updates) != 1 || p.Updates[0].RegistrationID != "r501" || p.More || p.Cursor != "501.1" || p.Catalog != nil {
		t.Fatalf("second pull: %+v", p)
	}
	p = pull("501.0")
	if len(p.Updates) != 0 || p.Cursor != "501.1" || p.Catalog == nil {
		t.Fatalf("pull with an old catalog version: %+v", p)
	}
	errs.none(t)
}

// The demo data: the exam's registration opens at the start of yesterday
// (UTC days) and closes 30 days after today began, payment 33 days after;
// the catalog is version 1, and seeding again keeps it and makes DEMO
// usable once more.
func TestSeedDemoCatalog(t *testing.T) {
	s, clk, errs := acctServer(t)
	clk.add(9*time.Hour + 30*time.Minute) // 2026-05-10 18:30 UTC
	if err := s.SeedDemo(); err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 5, 10, 0, 0, 0, 0, time.UTC)
	check := func() {
		t.Helper()
		var cat *wire.Catalog
		if err := s.db.View(func(tx store.Tx) (err error) { cat, err = loadCatalog(tx); return err }); err != nil {
			t.Fatal(err)
		}
		if cat.Version != 1 || len(cat.Exams) != 1 {
			t.Fatalf("catalog version %d with %d exams, want version 1 with the demo exam", cat.Version, len(cat.Exams))
		}
		e := cat.Exams[0]
		if e.ID != DemoExamID || !e.RegisterFrom.Equal(day.AddDate(0, 0, -1)) || !e.RegisterUntil.Equal(day.AddDate(0, 0, 30)) || !e.PayUntil.Equal(day.AddDate(0, 0, 33)) || len(e.Positions) != 3 {
			t.Errorf("demo exam %s: register %s to %s, pay until %s, %d positions", e.ID, e.RegisterFrom, e.RegisterUntil, e.PayUntil, len(e.Positions))
		}
	}
	check()
	if err := s.db.Update(func(tx store.Tx) error {
		return putJSON(tx.Bucket(bCodes), DemoEnrolmentCode, codeRecord{Code: DemoEnrolmentCode, CentreID: DemoCentreID, LoopbackOnly: true, UsedBy: "kiosk-x"})
	}); err != nil {
		t.Fatal(err)
	}
	clk.add(48 * time.Hour)
	if err := s.SeedDemo(); err != nil {
		t.Fatal(err)
	}
	check()
	var code codeRecord
	if err := s.db.View(func(tx store.Tx) error { return getJSON(tx.Bucket(bCodes), DemoEnrolmentCode, &code) }); err != nil || code.UsedBy != "" || !code.LoopbackOnly {
		t.Errorf("DEMO after seeding again: %+v %v", code, err)
	}
	errs.none(t)
}

// A pull's bytes: updates are handed out until they pass 8 MiB (an
// update that brings them to exactly 8 MiB is not the last), a ticket's
// photo counted as the base64 it travels as (4/3 of its bytes).
func TestPullBytesLimit(t *testing.T) {
	s, clk, errs := acctServer(t)
	// kiosk-a: one update of exactly pullBytes of JSON, then a small one.
	base, err := json.Marshal(wire.Update{RegistrationID: "big", Revision: 1, Status: StatusRejected, Reason: "x", At: clk.now()})
	if err != nil {
		t.Fatal(err)
	}
	big := wire.Update{RegistrationID: "big", Revision: 1, Status: StatusRejected, Reason: strings.Repeat("x", pullBytes-len(base)+1), At: clk.now()}
	if b, _ := json.Marshal(big); len(b) != pullBytes {
		t.Fatalf("the big update is %d bytes, want %d", len(b), pullBytes)
	}
	// kiosk-b: three paid updates whose tickets carry a 3 MiB photo each
	// (4 MiB as base64): two fit in a pull, the third does not.
	photo := bytes.Repeat([]byte{0xd8}, 3<<20)
	if err := s.db.Update(func(tx store.Tx) error {
		if err := appendUpdate(tx, "kiosk-a", big); err != nil {
			return err
		}
		if err := appendUpdate(tx, "kiosk-a", wire.Update{RegistrationID: "small", Revision: 1, Status: StatusApproved, At: clk.now()}); err != nil {
			return err
		}
		for i := range 3 {
			id := "paid-" + strconv.Itoa(i)
			doc, err := json.Marshal(wire.Registration{ID: id, Revision: 1, Photo: photo})
			if err != nil {
				return err
			}
			h := sha256.Sum256(doc)
			if err := s.storeRevision(tx, id, 1, append(h[:], doc...)); err != nil {
				return err
			}
			if err := appendUpdate(tx, "kiosk-b", wire.Update{RegistrationID: id, Revision: 1, Status: StatusPaid, At: clk.now(),
				Ticket: &wire.Ticket{Number: "T" + strconv.Itoa(i), ExamID: "E9", Room: "101", Seat: i + 1}}); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	pull := func(dev, cursor string) wire.Pull {
		t.Helper()
		w := httptest.NewRecorder()
		s.handlePull(w, httptest.NewRequest(http.MethodGet, "/v1/pull?cursor="+cursor, nil), dev, nil)
		var p wire.Pull
		if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &p) != nil {
			t.Fatalf("pull %s %q: %d", dev, cursor, w.Code)
		}
		return p
	}
	if p := pull("kiosk-a", ""); len(p.Updates) != 2 || p.More || p.Updates[1].RegistrationID != "small" {
		t.Errorf("kiosk-a: %d updates, more %v; want both (exactly 8 MiB before the second)", len(p.Updates), p.More)
	}
	p := pull("kiosk-b", "")
	if len(p.Updates) != 2 || !p.More || p.Cursor != "2.0" {
		t.Fatalf("kiosk-b first pull: %d updates, more %v, cursor %q; want 2, more, 2.0", len(p.Updates), p.More, p.Cursor)
	}
	for _, u := range p.Updates {
		if u.Ticket == nil || !bytes.Equal(u.Ticket.Photo, photo) {
			t.Errorf("update %s: ticket without its photo", u.RegistrationID)
		}
	}
	if p := pull("kiosk-b", "2.0"); len(p.Updates) != 1 || p.More || p.Updates[0].RegistrationID != "paid-2" {
		t.Errorf("kiosk-b second pull: %d updates, more %v", len(p.Updates), p.More)
	}
	errs.none(t)
}
