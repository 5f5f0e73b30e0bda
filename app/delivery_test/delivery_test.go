package delivery_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"examkiosk/app/registration"
	"examkiosk/app/store"
	"examkiosk/sync/central"
	"examkiosk/sync/kiosk"
	"examkiosk/sync/testbed"
	"examkiosk/sync/wire"
)

// countSink counts pulled updates without touching the store's cursor.
type countSink struct {
	mu     sync.Mutex
	cursor string
	seen   map[[2]any]int // (id, revision) -> under_review updates
}

func (s *countSink) PullCursor(context.Context) (string, error) { return s.cursor, nil }
func (s *countSink) ApplyPull(_ context.Context, p wire.Pull) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range p.Updates {
		if u.Status == central.StatusUnderReview {
			s.seen[[2]any{u.RegistrationID, u.Revision}]++
		}
	}
	s.cursor = p.Cursor
	return nil
}

func syncConfig(url string) kiosk.Config {
	cfg := kiosk.DefaultConfig()
	cfg.CentralURL = url
	cfg.RequestTimeout = time.Second
	cfg.BackoffBase, cfg.BackoffCap = 5*time.Millisecond, 100*time.Millisecond
	cfg.PullInterval, cfg.HeartbeatInterval = 50*time.Millisecond, 200*time.Millisecond
	return cfg
}

// waitDrained waits until the store's outbox is empty.
func waitDrained(ctx context.Context, t *testing.T, st *store.Store, c *kiosk.Client, ft *testbed.FaultTransport) {
	t.Helper()
	for {
		q, qq, err := st.Depth(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if qq != 0 {
			bad, _ := st.Quarantined(ctx, 5)
			t.Fatalf("%d items quarantined: %+v", qq, bad)
		}
		if q == 0 {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("outbox not drained: %d queued; sync state %+v; faults %+v", q, c.State(), ft.Stats())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestStoreDeliveryUnderFaults submits 10,000 registrations into the
// kiosk's bbolt store while the sync client delivers them to the central's
// bbolt store through a network that drops requests, loses answers after
// the central committed, answers 500, times out, duplicates and reorders
// requests, and restarts the central mid-batch. Then the central rejects 50,
// the kiosk pulls the rejections and resubmits new revisions, which must
// arrive in order. Exactly the 10,050 revisions arrive, none twice.
func TestStoreDeliveryUnderFaults(t *testing.T) {
	n, resub := 10000, 50
	faults := testbed.DefaultFaults
	if testing.Short() {
		n, faults.RestartEvery = 1000, 8
	}
	ccfg := central.DefaultConfig()
	c := testbed.StartCentral(t, ccfg)
	cfg := syncConfig(c.URL)
	if testing.Short() {
		cfg.BatchMaxItems = 20 // enough requests for every fault to occur
	}
	ctx, cancel := context.WithTimeout(t.Context(), 150*time.Second)
	defer cancel()

	scfg := store.DefaultConfig()
	scfg.Path = filepath.Join(t.TempDir(), "kiosk.db")
	st, err := store.Open(scfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	id, err := c.Enroll(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutIdentity(ctx, store.Identity{DeviceID: id.DeviceID, PrivateKey: id.PrivateKey}); err != nil {
		t.Fatal(err)
	}
	stored, err := st.Identity(ctx)
	if err != nil {
		t.Fatal(err)
	}
	id.DeviceID, id.PrivateKey = stored.DeviceID, stored.PrivateKey // sign with the key as the store keeps it

	clean, err := kiosk.New(cfg, id, st, st, kiosk.Options{Logger: testbed.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	if err := clean.Pull(ctx); err != nil { // the catalog, so that Submit can validate
		t.Fatal(err)
	}
	ft := testbed.NewFaultTransport(7, faults, c)
	client, err := kiosk.New(cfg, id, st, st, kiosk.Options{HTTPClient: &http.Client{Transport: ft}, Logger: testbed.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stopRun := context.WithCancel(ctx)
	runDone := make(chan error, 1)
	go func() { runDone <- client.Run(runCtx) }()

	photo := testbed.Photo(300, 420, 60, 9) // just over the notice's 20 KB
	start := time.Now()
	ids := make([]string, n)
	for i := range n {
		idn, birthYear := idNumber(i)
		w := testbed.Registration("", 0, id.DeviceID, idn, photo)
		r := registration.FromWire(w)
		r.Education, r.GraduationYear = registration.EducationMaster, birthYear+24
		got, err := st.Submit(ctx, r)
		if err != nil {
			t.Fatalf("submit %d: %v", i, err)
		}
		ids[i] = got.ID
		if i%500 == 0 {
			client.SyncNow() // the app nudges the client after submissions
		}
	}
	submitted := time.Since(start)
	waitDrained(ctx, t, st, client, ft)
	t.Logf("%d submitted in %s, all delivered after %s; faults %+v", n, submitted.Round(time.Millisecond),
		time.Since(start).Round(time.Millisecond), ft.Stats())

	// The central rejects some; the kiosk pulls the decisions and resubmits.
	for _, rid := range ids[:resub] {
		err := c.With(func(srv *central.Server) error {
			_, err := srv.Review(rid, false, "照片不合格，请重新拍照 / retake the photo")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, rid := range ids[:resub] {
		for {
			r, err := st.Get(ctx, rid)
			if err != nil {
				t.Fatal(err)
			}
			if r.Status == registration.StatusRejected {
				r.PositionID = "P002"
				if _, err := st.Resubmit(ctx, r); err != nil {
					t.Fatalf("resubmit %s: %v", rid, err)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s still %s; sync state %+v", rid, r.Status, client.State())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	client.SyncNow()
	waitDrained(ctx, t, st, client, ft)
	stopRun()
	<-runDone
	ft.Wait()
	stats := ft.Stats()
	t.Logf("done after %s; faults %+v", time.Since(start).Round(time.Millisecond), stats)
	if stats.Dropped == 0 || stats.Lost == 0 || stats.Status500 == 0 || stats.Duplicated == 0 || stats.Reordered == 0 || stats.Restarts == 0 {
		t.Errorf("not every fault was exercised: %+v", stats)
	}

	srv := c.Server() // no restarts from here on: the fault transport is idle
	if got, _ := srv.RevisionCount(); got != n+resub {
		t.Fatalf("central stored %d revisions, want %d", got, n+resub)
	}
	regs, _ := srv.Registrations("")
	if len(regs) != n {
		t.Fatalf("central holds %d registrations, want %d", len(regs), n)
	}
	want := map[string]int{}
	for i, rid := range ids {
		want[rid] = 1
		if i < resub {
			want[rid] = 2
		}
	}
	for _, r := range regs {
		if want[r.ID] != r.Revision {
			t.Fatalf("%s: central current revision %d, want %d", r.ID, r.Revision, want[r.ID])
		}
		if r.Revision == 2 {
			if doc, err := srv.Document(r.ID, 2); err != nil || doc.PositionID != "P002" || r.Status != central.StatusUnderReview {
				t.Fatalf("%s revision 2: %+v %v (status %s)", r.ID, doc.PositionID, err, r.Status)
			}
		}
	}
	// None ingested twice: one under_review update per revision.
	cs := &countSink{seen: map[[2]any]int{}}
	counter, err := kiosk.New(cfg, id, st, cs, kiosk.Options{Logger: testbed.Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	if err := counter.Pull(ctx); err != nil {
		t.Fatal(err)
	}
	if len(cs.seen) != n+resub {
		t.Fatalf("%d distinct under_review updates, want %d", len(cs.seen), n+resub)
	}
	for k, times := range cs.seen {
		if times != 1 {
			t.Fatalf("%v ingested %d times", k, times)
		}
	}
	// The kiosk's own view: every registration delivered and under review.
	for i, rid := range ids[:200] {
		r, err := st.Get(ctx, rid)
		if err != nil {
			t.Fatal(err)
		}
		if r.DeliveredAt.IsZero() || (r.Status != registration.StatusUnderReview && r.Status != registration.StatusDelivered) {
			t.Fatalf("registration %d on the kiosk: status %s delivered %s", i, r.Status, r.DeliveredAt)
		}
	}
}

// idNumber makes a valid, unique ID number of a candidate born 1975–1995.
func idNumber(n int) (string, int) {
	birth := time.Date(1975, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, (n/1000)%7000)
	s := fmt.Sprintf("440305%s%03d", birth.Format("20060102"), n%1000)
	c, _ := registration.CheckDigit(s)
	return s + string(c), birth.Year()
}
