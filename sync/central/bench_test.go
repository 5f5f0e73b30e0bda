package central_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"examkiosk/sync/central"
	"examkiosk/sync/central/store/pg"
	"examkiosk/sync/central/store/storetest"
	"examkiosk/sync/seal"
	"examkiosk/sync/signing"
	"examkiosk/sync/testbed"
	"examkiosk/sync/wire"
)

// BenchmarkIngest measures the central's ingest of signed push requests of
// 100 sealed registrations with 40 KB photos over loopback HTTP (signature
// check, nonce record, unsealing, validation, one store transaction per
// group of concurrent batches), on each store: one kiosk pushing batch
// after batch (kiosks=1), and 8 kiosks pushing at once as after an outage
// (kiosks=8), on one central node or, on PostgreSQL, two (nodes=2, the
// kiosks split between them). b.N is the number of batches; building and
// signing them is not timed.
//
//	go test -run '^$' -bench Ingest -benchtime 100x ./sync/central/
func BenchmarkIngest(b *testing.B) {
	for _, kind := range storetest.Kinds {
		for _, kiosks := range []int{1, 8} {
			b.Run(fmt.Sprintf("%s/nodes=1/kiosks=%d", kind, kiosks), func(b *testing.B) { benchIngest(b, kind, 1, kiosks) })
		}
		if kind == storetest.Postgres {
			b.Run(fmt.Sprintf("%s/nodes=2/kiosks=8", kind), func(b *testing.B) { benchIngest(b, kind, 2, 8) })
		}
	}
}

func benchIngest(b *testing.B, kind storetest.Kind, nodes, kiosks int) {
	const batch = 100
	cfg := central.DefaultConfig()
	testbed.UseStore(b, &cfg, kind)
	var cs []*testbed.Central
	for range nodes {
		cs = append(cs, testbed.StartCentral(b, cfg))
	}
	devs := make([]rawDevice, kiosks)
	for i := range devs {
		devs[i] = enrol(b, cs[0])
	}
	photo := testbed.Photo(400, 560, 60, 5)
	b.Logf("photo %d bytes", len(photo))

	// The batches, signed (a signature is valid for minutes), kiosk by kiosk.
	queues := make([][]*http.Request, kiosks)
	for i := range b.N {
		k := i % kiosks
		queues[k] = append(queues[k], signedPush(b, devs[k], cs[k%nodes].URL, i*batch, batch, photo))
	}

	var mu sync.Mutex
	var lat []time.Duration
	var wg sync.WaitGroup
	pgCPU := func() time.Duration { return 0 }
	if kind == storetest.Postgres {
		pgCPU = func() time.Duration { return serverCPU(b, storetest.SharedCluster(b).Dir) }
	}
	pg0 := pgCPU()
	ws0 := pg.ReadWriteStats()
	cpu0 := cpuTime()
	b.ResetTimer()
	start := time.Now()
	for _, q := range queues {
		wg.Go(func() {
			for _, hr := range q {
				t0 := time.Now()
				resp, err := http.DefaultClient.Do(hr)
				if err != nil {
					b.Error(err)
					return
				}
				var pr wire.PushResponse
				err = json.NewDecoder(resp.Body).Decode(&pr)
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				el := time.Since(t0)
				if err != nil || len(pr.Results) != batch || pr.Results[0].Status != wire.StatusAccepted {
					b.Errorf("push: %d %v %+v", resp.StatusCode, err, pr.Results[:min(1, len(pr.Results))])
					return
				}
				mu.Lock()
				lat = append(lat, el)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	wall := time.Since(start)
	b.StopTimer()
	cpu := cpuTime() - cpu0
	pgcpu := pgCPU() - pg0
	ws := pg.ReadWriteStats()
	if b.Failed() {
		return
	}
	if got, err := cs[0].Server().RevisionCount(); err != nil || got != b.N*batch {
		b.Fatalf("central holds %d revisions (%v), want %d", got, err, b.N*batch)
	}
	slices.Sort(lat)
	b.ReportMetric(float64(batch*b.N)/wall.Seconds(), "regs/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-batch-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-batch-ms")
	// CPU time of the whole process (central and the benchmark's HTTP
	// client, not PostgreSQL's) per registration: the capacity of an idle
	// 2-core machine is about 2 s / cpu-ms-per-reg, whatever else shares
	// the CPU now.
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(batch*b.N), "cpu-ms/reg")
	if kind == storetest.Postgres {
		// PostgreSQL's own CPU (all its processes): the capacity of the
		// machine is 2 s / (cpu-ms/reg + pg-cpu-ms/reg).
		b.ReportMetric(float64(pgcpu.Microseconds())/1000/float64(batch*b.N), "pg-cpu-ms/reg")
		// How much of the run the single writer was busy (held, commit
		// included): near 100 % the lock is the limit, and more nodes
		// cannot help.
		held := ws.Held + ws.Commit - ws0.Held - ws0.Commit
		b.ReportMetric(100*held.Seconds()/wall.Seconds(), "lock-held-%")
		b.Logf("%d write transactions: before the lock %s, holding it %s, committing %s (sums over the nodes), wall %s",
			ws.Txs-ws0.Txs, (ws.Before - ws0.Before).Round(time.Millisecond), (ws.Held - ws0.Held).Round(time.Millisecond),
			(ws.Commit - ws0.Commit).Round(time.Millisecond), wall.Round(time.Millisecond))
	}
	b.ReportMetric(0, "ns/op")
}

// serverCPU returns the CPU time used so far by the PostgreSQL server whose
// data lives in dir: its postmaster and the processes it forked (backends,
// WAL writer, checkpointer), from /proc.
func serverCPU(tb testing.TB, dir string) time.Duration {
	var pidText []byte
	for _, p := range []string{filepath.Join(dir, "data", "postmaster.pid"), filepath.Join(dir, "postmaster.pid")} {
		if data, err := os.ReadFile(p); err == nil {
			pidText = data
			break
		}
	}
	var master int
	if _, err := fmt.Sscan(string(pidText), &master); err != nil {
		tb.Fatalf("PostgreSQL's postmaster.pid in %s: %v", dir, err)
	}
	procs, _ := filepath.Glob("/proc/[0-9]*/stat")
	var ticks int64
	for _, p := range procs {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// Fields after the command (which ends at the last ')'): state,
		// ppid, …; utime and stime are the 14th and 15th of the line.
		f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
		if len(f) < 13 {
			continue
		}
		var pid, ppid int
		fmt.Sscan(string(data), &pid)
		fmt.Sscan(f[1], &ppid)
		if pid != master && ppid != master {
			continue
		}
		var ut, st int64
		fmt.Sscan(f[11], &ut)
		fmt.Sscan(f[12], &st)
		ticks += ut + st
	}
	return time.Duration(ticks) * time.Second / 100 // USER_HZ
}

// signedPush builds the signed push request of registrations from to
// from+n-1 (testbed numbering) of device d to the central at url.
func signedPush(b testing.TB, d rawDevice, url string, from, n int, photo []byte) *http.Request {
	return signedPushAt(b, d, url, from, n, photo, time.Now().UTC().Truncate(time.Second))
}

// signedPushAt is signedPush with the registrations submitted at a given
// time (two pushes of the same documents must not straddle a second).
func signedPushAt(b testing.TB, d rawDevice, url string, from, n int, photo []byte, submitted time.Time) *http.Request {
	var req wire.PushRequest
	for i := from; i < from+n; i++ {
		rid := testbed.RegNum(i)
		r := testbed.Registration(rid, 1, d.id.DeviceID, testbed.IDNumber(i), photo)
		r.SubmittedAt = submitted
		sealed, err := seal.Seal(testbed.Doc(r), d.seal)
		if err != nil {
			b.Fatal(err)
		}
		req.Items = append(req.Items, wire.SealedItem{ID: rid, Revision: 1, Sealed: sealed})
	}
	body, _ := req.MarshalBinary()
	hr, _ := http.NewRequest("POST", url+"/v1/push", bytes.NewReader(body))
	hr.Header.Set("Content-Type", wire.PushContentType)
	signing.Sign(hr, d.id.DeviceID, d.id.PrivateKey, body, time.Now())
	return hr
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkMillion builds a store of 1,000,000 generated registrations
// ($EXAMKIOSK_BENCH_REGS overrides the count) on each store through
// Server.Generate (not timed, reported as gen-s), then measures on it: a
// start of the central (Open, the store's open and everything the central
// does before serving; Close not timed), the first page of the review
// queue over HTTP (200 of the 400,000 under review, with the count), and
// one push of 100 new registrations with 40 KB photos.
//
//	go test -run '^$' -bench Million -benchtime 1x -timeout 60m ./sync/central/
func BenchmarkMillion(b *testing.B) {
	n := 1_000_000
	if v := os.Getenv("EXAMKIOSK_BENCH_REGS"); v != "" {
		fmt.Sscan(v, &n)
	}
	for _, kind := range storetest.Kinds {
		b.Run(string(kind), func(b *testing.B) { benchMillion(b, kind, n) })
	}
}

func benchMillion(b *testing.B, kind storetest.Kind, n int) {
	cfg := central.DefaultConfig()
	testbed.UseStore(b, &cfg, kind)
	cfg.Demo = true
	s, err := central.Open(cfg, central.WithLogger(testbed.Quiet()))
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	if err := s.Generate(n, 10000, nil); err != nil {
		b.Fatal(err)
	}
	gen := time.Since(t0)
	s.Close()
	b.Logf("%s: %d registrations generated in %s", kind, n, gen.Round(time.Second))

	var opens, pages []time.Duration
	pushed := 0
	for b.Loop() {
		b.StopTimer()
		for range 3 {
			t0 := time.Now()
			s, err := central.Open(cfg, central.WithLogger(testbed.Quiet()))
			opens = append(opens, time.Since(t0))
			if err != nil {
				b.Fatal(err)
			}
			s.Close()
		}
		c := testbed.StartCentral(b, cfg)
		jar, _ := cookiejar.New(nil)
		browser := &http.Client{Jar: jar}
		for range 5 {
			t0 := time.Now()
			resp, err := browser.Get(c.URL + "/review")
			if err != nil {
				b.Fatal(err)
			}
			page, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			pages = append(pages, time.Since(t0))
			if want := fmt.Sprintf("%d 待审核", n*4/10+pushed); resp.StatusCode != 200 || !bytes.Contains(page, []byte(want)) ||
				bytes.Count(page, []byte(`alt="photo"`)) != 200 {
				b.Fatalf("review page: %d, %d rows, lacks %q", resp.StatusCode, bytes.Count(page, []byte(`alt="photo"`)), want)
			}
		}
		d := enrol(b, c)
		hr := signedPush(b, d, c.URL, pushed, 100, testbed.Photo(400, 560, 60, 5))
		pushed += 100
		t0 := time.Now()
		resp, err := http.DefaultClient.Do(hr)
		if err != nil {
			b.Fatal(err)
		}
		var pr wire.PushResponse
		json.NewDecoder(resp.Body).Decode(&pr)
		resp.Body.Close()
		b.ReportMetric(float64(time.Since(t0).Microseconds())/1000, "push100-ms")
		if len(pr.Results) != 100 || pr.Results[99].Status != wire.StatusAccepted {
			b.Fatalf("push to the full store: %+v", pr.Results[:min(1, len(pr.Results))])
		}
		c.Stop()
		b.StartTimer()
	}
	slices.Sort(opens)
	slices.Sort(pages)
	b.ReportMetric(gen.Seconds(), "gen-s")
	b.ReportMetric(float64(opens[len(opens)/2].Microseconds())/1000, "open-ms")
	b.ReportMetric(float64(pages[len(pages)/2].Microseconds())/1000, "review-page-ms")
	b.ReportMetric(0, "ns/op")
}
