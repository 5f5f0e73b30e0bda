package central

import (
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"examkiosk/device/face/calib"
	"examkiosk/sync/central/faceindex"
	"examkiosk/sync/central/store"
	"examkiosk/sync/central/store/storetest"
	"examkiosk/sync/wire"
)

// benchFaces is the number of stored faces of the face benchmarks:
// EXAMKIOSK_FACE_BENCH_N, default 1,000,000.
func benchFaces(b *testing.B) int {
	if v := os.Getenv("EXAMKIOSK_FACE_BENCH_N"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("EXAMKIOSK_FACE_BENCH_N=%q: want a positive count", v)
		}
		return n
	}
	return 1_000_000
}

func randomUnit(rng *rand.Rand, d int) []float32 {
	v := make([]float32, d)
	var n2 float64
	for i := range v {
		v[i] = float32(rng.NormFloat64())
		n2 += float64(v[i]) * float64(v[i])
	}
	s := float32(1 / math.Sqrt(n2))
	for i := range v {
		v[i] *= s
	}
	return v
}

// BenchmarkFaceIndex fills a store with EXAMKIOSK_FACE_BENCH_N sealed
// MobileFaceNet faces (random unit vectors; filling is not timed), then
// times a node's load of its index from the store (load_s) and one
// duplicate search among them as the node's searcher makes it: a snapshot
// with the catch-up, the scan, the exact check of the candidates and the
// write of the result (search_ms). On each store.
//
//	go test -run '^$' -bench FaceIndex -benchtime 3x ./sync/central/
func BenchmarkFaceIndex(b *testing.B) {
	for _, kind := range storetest.Kinds {
		b.Run(string(kind), func(b *testing.B) { benchFaceIndex(b, kind) })
	}
}

func benchFaceIndex(b *testing.B, kind storetest.Kind) {
	n := benchFaces(b)
	cfg := DefaultConfig()
	cfg.DataDir = b.TempDir()
	if kind == storetest.Postgres {
		cfg.Database = storetest.FreshDatabase(b)
	}
	s, err := Open(cfg, WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Now()
	const batch = 20000
	for done := 0; done < n; done += batch {
		err := s.db.Update(func(tx store.Tx) error {
			for i := done; i < min(done+batch, n); i++ {
				seq, err := tx.Bucket(bFaces).NextSequence()
				if err != nil {
					return err
				}
				v := randomUnit(rng, 192)
				code, err := faceindex.Quantise(calib.MobileFaceNet, v)
				if err != nil {
					return err
				}
				r := faceRecord{Seq: seq, RegID: fmt.Sprintf("00000000-0000-7000-8000-%012d", i), IDNumber: strconv.Itoa(i),
					Model: calib.MobileFaceNet, Code: code, Vec: v}
				if err := s.faces.put(tx, r); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("%s: stored %d faces in %v", kind, n, time.Since(start).Round(time.Millisecond))
	var loadTotal, loadCPU, searchTotal, scanTotal time.Duration
	for b.Loop() {
		f := newFaceSearch(s)
		runtime.GC()
		t0, c0 := time.Now(), cpuTime()
		next, err := f.load()
		if err != nil {
			b.Fatal(err)
		}
		loadTotal += time.Since(t0)
		loadCPU += cpuTime() - c0
		f.next = next
		f.ready.Store(true)
		s.faces.stop()
		s.faces = f
		// One registration's face, stored as ingest stores it, then searched.
		rec := regRecord{Registration: Registration{ID: "00000000-0000-7000-9000-000000000001", IDNumber: "bench"}}
		d := &wire.FaceDescriptor{Model: calib.MobileFaceNet, Kind: calib.KindMobileFaceNet, Vec: randomUnit(rng, 192)}
		if err := s.db.Update(func(tx store.Tx) error { return f.CheckAndMark(tx, &rec, d) }); err != nil {
			b.Fatal(err)
		}
		m, _ := calib.Lookup(calib.MobileFaceNet)
		t2 := time.Now()
		if _, err := f.idx.Search(calib.MobileFaceNet, d.Vec, m.ThresholdAt(calib.DefaultTargetFAR)); err != nil {
			b.Fatal(err)
		}
		scanTotal += time.Since(t2)
		t1 := time.Now()
		if _, err := f.round(); err != nil {
			b.Fatal(err)
		}
		searchTotal += time.Since(t1)
		n++ // the searched face stays
		if f.idx.Len(calib.MobileFaceNet) != n {
			b.Fatalf("index holds %d faces, want %d", f.idx.Len(calib.MobileFaceNet), n)
		}
		b.ReportMetric(float64(f.idx.Bytes())/float64(n)*1e6/1e6, "MB/1M-faces")
	}
	b.ReportMetric(loadTotal.Seconds()/float64(b.N), "load_s")
	b.ReportMetric(loadCPU.Seconds()/float64(b.N), "load_cpu_s")
	b.ReportMetric(float64(scanTotal.Microseconds())/1e3/float64(b.N), "scan_ms")
	b.ReportMetric(float64(searchTotal.Microseconds())/1e3/float64(b.N), "search_ms")
}

// cpuTime is the CPU time the process has used (user + system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
