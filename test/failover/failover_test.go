package failover_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"examkiosk/app/registration"
	"examkiosk/app/store"
	"examkiosk/internal/pgtest"
	"examkiosk/sync/central"
	"examkiosk/sync/kiosk"
	"examkiosk/sync/testbed"
	"examkiosk/sync/wire"
)

const adminToken = "failover-test-admin-token"

// season sizes one run: how many registrations from how many kiosks, in
// batches of how many.
type season struct {
	kiosks, perKiosk, batch int
}

func size() season {
	if os.Getenv("EXAMKIOSK_FAILOVER_FULL") != "" {
		return season{kiosks: 20, perKiosk: 500, batch: 100} // 10,000
	}
	// 1,000, within make test's budget, in batches small enough that every
	// kind of fault occurs.
	return season{kiosks: 20, perKiosk: 50, batch: 20}
}

// TestSeasonPeakUnderFaults delivers a season's peak (every kiosk's queue
// full after an outage) to two central nodes on one PostgreSQL through a
// hostile network, twice: once with a node SIGKILLed mid-drain and started
// again, once with PostgreSQL restarted mid-drain (pg_ctl stop -m fast,
// start). Each time the database ends with exactly the registrations
// submitted, each ingested once.
func TestSeasonPeakUnderFaults(t *testing.T) {
	pg := pgtest.Start(t) // skips when PostgreSQL is absent (fails under CI)
	bin := testbed.BuildCentral(t)
	sz := size()

	t.Run("node killed", func(t *testing.T) {
		e := newEnv(t, bin, pg, sz)
		e.drain(t, func(t *testing.T) {
			if err := e.nodes[0].Kill(); err != nil {
				t.Fatal(err)
			}
			t.Logf("node A (%s) SIGKILLed with %d of %d delivered", e.nodes[0].URL, e.delivered(t), e.total)
			time.Sleep(500 * time.Millisecond) // kiosks preferring A move to B
			if err := e.nodes[0].Start(t.Context()); err != nil {
				t.Fatal(err)
			}
			t.Logf("node A restarted with %d of %d delivered", e.delivered(t), e.total)
		})
		e.check(t)
	})

	t.Run("database restarted", func(t *testing.T) {
		e := newEnv(t, bin, pg, sz)
		e.drain(t, func(t *testing.T) {
			t.Logf("restarting PostgreSQL with %d of %d delivered", e.delivered(t), e.total)
			if err := pg.Restart(t.Context()); err != nil {
				t.Fatal(err)
			}
			t.Logf("PostgreSQL back with %d of %d delivered", e.delivered(t), e.total)
		})
		e.check(t)
	})
}

// env is one season: two nodes on a fresh database, enrolled kiosks with
// full queues.
type env struct {
	dsn    string
	nodes  [2]*testbed.Node
	kiosks []*box
	total  int
}

// box is one kiosk: its own bbolt store and sync client.
type box struct {
	st     *store.Store
	id     kiosk.Identity
	cfg    kiosk.Config
	client *kiosk.Client
	ft     *testbed.FaultTransport
	ids    map[string]bool // registration ids submitted
}

func newEnv(t *testing.T, bin string, pg *pgtest.Cluster, sz season) *env {
	ctx := t.Context()
	began := time.Now()
	dsn := freshDatabase(t, pg)
	dir := t.TempDir()
	conf := filepath.Join(dir, "central.toml")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf("[central]\nadmin_token = %q\nenrol_attempts = 10000\n", adminToken)), 0o600); err != nil {
		t.Fatal(err)
	}
	// One key directory for both nodes, as `central serve` on two machines
	// with the same keys would have.
	args := []string{"--data", dir, "--db", dsn, "--config", conf, "--demo"}
	e := &env{dsn: dsn, total: sz.kiosks * sz.perKiosk}
	e.nodes[0] = testbed.StartNode(t, bin, args...)
	e.nodes[1] = testbed.StartNode(t, bin, args...)

	t.Logf("two nodes up in %s", time.Since(began).Round(time.Millisecond))
	photo := testbed.Photo(300, 420, 60, 9) // just over the notice's 20 KB
	e.kiosks = make([]*box, sz.kiosks)
	var wg sync.WaitGroup
	errs := make(chan error, sz.kiosks)
	for k := range sz.kiosks {
		// Half the kiosks list node A first, half node B.
		first, second := e.nodes[k%2], e.nodes[1-k%2]
		cfg := kiosk.DefaultConfig()
		cfg.CentralURL = ""
		cfg.CentralURLs = []string{first.URL, second.URL}
		cfg.FailbackAfter = time.Second
		cfg.BatchMaxItems = sz.batch
		// Long enough for a loaded central (a timed-out push halves the
		// batch), short enough that the proxy's hung answers cost little.
		cfg.RequestTimeout = 3 * time.Second
		cfg.BackoffBase, cfg.BackoffCap = 5*time.Millisecond, 200*time.Millisecond
		cfg.PullInterval, cfg.HeartbeatInterval = 200*time.Millisecond, time.Second
		code, err := e.nodes[0].EnrolmentCode(ctx, adminToken, central.DemoCentreID)
		if err != nil {
			t.Fatal(err)
		}
		id, err := kiosk.Enroll(ctx, cfg, code, fmt.Sprintf("kiosk-%02d", k), "test", nil)
		if err != nil {
			t.Fatal(err)
		}
		scfg := store.DefaultConfig()
		scfg.Path = filepath.Join(t.TempDir(), "kiosk.db")
		st, err := store.Open(scfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		if err := st.PutIdentity(ctx, store.Identity{DeviceID: id.DeviceID, PrivateKey: id.PrivateKey}); err != nil {
			t.Fatal(err)
		}
		b := &box{st: st, id: id, cfg: cfg, ids: map[string]bool{}}
		e.kiosks[k] = b
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- b.fill(ctx, k*sz.perKiosk, sz.perKiosk, photo)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d kiosks enrolled with %d registrations queued after %s", sz.kiosks, e.total, time.Since(began).Round(time.Millisecond))
	return e
}

// fill pulls the catalog over a clean connection and submits n
// registrations (numbered from first) into the kiosk's store, as candidates
// would during an outage.
func (b *box) fill(ctx context.Context, first, n int, photo []byte) error {
	clean, err := kiosk.New(b.cfg, b.id, b.st, b.st, kiosk.Options{Logger: testbed.Quiet()})
	if err != nil {
		return err
	}
	if err := clean.Pull(ctx); err != nil {
		return fmt.Errorf("pull the catalog: %w", err)
	}
	for i := first; i < first+n; i++ {
		idn := testbed.IDNumber(i)
		r := registration.FromWire(testbed.Registration("", 0, b.id.DeviceID, idn, photo))
		born, _ := strconv.Atoi(idn[6:10])
		r.Education, r.GraduationYear = registration.EducationMaster, born+16
		got, err := b.st.Submit(ctx, r)
		if err != nil {
			return fmt.Errorf("submit %d: %w", i, err)
		}
		b.ids[got.ID] = true
	}
	return nil
}

// delivered counts the registrations the kiosks hold acknowledged.
func (e *env) delivered(t *testing.T) int {
	queued := 0
	for _, b := range e.kiosks {
		q, _, err := b.st.Depth(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		queued += q
	}
	return e.total - queued
}

// drain runs every kiosk's sync client through its own fault proxy until
// every queue is empty, calling fault once when 30% has been delivered.
func (e *env) drain(t *testing.T, fault func(t *testing.T)) {
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	faults := testbed.DefaultFaults
	faults.RestartEvery = 0 // the nodes are real processes; the test kills them
	var wg sync.WaitGroup
	for k, b := range e.kiosks {
		b.ft = testbed.NewFaultTransport(uint64(100+k), faults, nil)
		c, err := kiosk.New(b.cfg, b.id, b.st, b.st, kiosk.Options{HTTPClient: &http.Client{Transport: b.ft}, Logger: testbed.Quiet()})
		if err != nil {
			t.Fatal(err)
		}
		b.client = c
		wg.Add(1)
		go func() { defer wg.Done(); c.Run(ctx) }()
	}
	start := time.Now()
	faulted := false
	for {
		d := e.delivered(t)
		if d == e.total {
			break
		}
		if !faulted && d >= e.total*3/10 {
			faulted = true
			fault(t)
		}
		if ctx.Err() != nil {
			var states []kiosk.State
			for _, b := range e.kiosks {
				states = append(states, b.client.State())
			}
			t.Fatalf("not drained: %d of %d delivered; kiosk states %+v\nnode A: %s\nnode B: %s", d, e.total, states,
				e.nodes[0].Log(10), e.nodes[1].Log(10))
		}
		time.Sleep(10 * time.Millisecond)
	}
	took := time.Since(start)
	cancel()
	wg.Wait()
	var st testbed.FaultStats
	for _, b := range e.kiosks {
		b.ft.Wait()
		s := b.ft.Stats()
		st.Requests += s.Requests
		st.Dropped += s.Dropped
		st.Lost += s.Lost
		st.Status500 += s.Status500
		st.Timeouts += s.Timeouts
		st.Duplicated += s.Duplicated
		st.Reordered += s.Reordered
	}
	t.Logf("%d registrations from %d kiosks drained in %s through faults %+v", e.total, len(e.kiosks), took.Round(time.Millisecond), st)
	if !faulted {
		t.Fatal("the fault was never injected")
	}
	if st.Dropped == 0 || st.Lost == 0 || st.Status500 == 0 || st.Duplicated == 0 || st.Reordered == 0 {
		t.Errorf("not every network fault was exercised: %+v", st)
	}
}

// check counts in the database: exactly the registrations submitted, one
// revision each, none quarantined on a kiosk, and each ingested once (one
// under_review update each in the kiosks' pull feeds).
func (e *env) check(t *testing.T) {
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, e.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, bucket := range []string{"registrations", "revisions"} {
		var n int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM kv WHERE bucket = $1", []byte(bucket)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != e.total {
			t.Errorf("the database holds %d %s, want %d", n, bucket, e.total)
		}
	}
	for k, b := range e.kiosks {
		q, qq, err := b.st.Depth(ctx)
		if err != nil || q != 0 || qq != 0 {
			t.Fatalf("kiosk %d: %d queued, %d quarantined (%v)", k, q, qq, err)
		}
		sink := &countSink{seen: map[string]int{}}
		c, err := kiosk.New(b.cfg, b.id, b.st, sink, kiosk.Options{Logger: testbed.Quiet()})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Pull(ctx); err != nil {
			t.Fatal(err)
		}
		if len(sink.seen) != len(b.ids) {
			t.Errorf("kiosk %d: %d registrations under review, want %d", k, len(sink.seen), len(b.ids))
		}
		for id, times := range sink.seen {
			if times != 1 || !b.ids[id] {
				t.Errorf("kiosk %d: %s ingested %d times (submitted here: %v)", k, id, times, b.ids[id])
			}
		}
	}
}

// countSink counts pulled under_review updates, from the start of the feed.
type countSink struct {
	cursor string
	seen   map[string]int
}

func (s *countSink) PullCursor(context.Context) (string, error) { return s.cursor, nil }
func (s *countSink) ApplyPull(_ context.Context, p wire.Pull) error {
	for _, u := range p.Updates {
		if u.Status == central.StatusUnderReview {
			s.seen[u.RegistrationID]++
		}
	}
	s.cursor = p.Cursor
	return nil
}

// freshDatabase creates a database in the cluster for t and returns its DSN.
func freshDatabase(t *testing.T, pg *pgtest.Cluster) string {
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, pg.DSN(""))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	name := fmt.Sprintf("season_%d", time.Now().UnixNano())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	return pg.DSN(name)
}
