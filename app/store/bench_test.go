package store

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"examkiosk/sync/wire"
)

// bulkSubmit stores n valid registrations through the real submit path
// (validation, sealing, indexes, outbox, audit), perTx to a transaction, to
// build large fixtures quickly. It returns their ids.
func bulkSubmit(tb testing.TB, s *Store, from, n, perTx int, ph []byte) []string {
	tb.Helper()
	ids := make([]string, 0, n)
	for i := 0; i < n; i += perTx {
		err := s.db.Update(func(tx *bolt.Tx) error {
			for j := i; j < min(i+perTx, n); j++ {
				now := s.now().UTC()
				r := newReg(tb, from+j, ph)
				if err := prepareNew(&r, now); err != nil {
					return err
				}
				if err := s.submitTx(tx, r, now); err != nil {
					return err
				}
				ids = append(ids, r.ID)
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	return ids
}

func fileSize(tb testing.TB, path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		tb.Fatal(err)
	}
	return fi.Size()
}

// BenchmarkSubmit measures Submit with a 40 KB photo, each call one
// fdatasync'd transaction, and reports the latency percentiles.
func BenchmarkSubmit(b *testing.B) {
	ctx := context.Background()
	s := openTest(b)
	ph := photo(b, 40<<10, 42)
	bulkSubmit(b, s, 0, 1000, 250, ph) // not an empty file
	var lat []time.Duration
	n := 1000
	for b.Loop() {
		r := newReg(b, n, ph)
		n++
		t := time.Now()
		if _, err := s.Submit(ctx, r); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t))
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(pct(1), "max-ms")
	b.ReportMetric(float64(len(ph)), "photo-bytes")
}

// BenchmarkOpen50k builds 50,000 registrations delivered and purged the way
// a season at a kiosk leaves them (submitted with 40 KB photos in batches of
// 1,000, acknowledged, photos purged after retention; the last 1,000 still
// queued with photos), then measures Open+Close and reports the file size.
func BenchmarkOpen50k(b *testing.B) {
	ctx := context.Background()
	s := openTest(b)
	ph := photo(b, 40<<10, 43)
	start := time.Now()
	const total, batch = 50000, 1000
	for i := 0; i < total; i += batch {
		ids := bulkSubmit(b, s, i, batch, batch, ph)
		if i+batch == total {
			break // the last batch stays queued with its photos
		}
		res := make([]wire.Result, len(ids))
		for j, id := range ids {
			res[j] = wire.Result{ID: id, Revision: 1, Status: wire.StatusAccepted}
		}
		if err := s.Ack(ctx, res); err != nil {
			b.Fatal(err)
		}
		if _, err := s.Purge(ctx, t0.AddDate(0, 0, 8)); err != nil {
			b.Fatal(err)
		}
	}
	st, _ := s.Stats(ctx)
	b.Logf("built %d registrations (%d queued) in %v", st.Registrations, st.Queued, time.Since(start).Round(time.Second))
	vt := time.Now()
	if rep, err := s.Verify(ctx); err != nil || rep.Registrations != total {
		b.Fatalf("Verify = %+v, %v", rep, err)
	}
	verify := time.Since(vt)
	cfg := s.cfg
	s.Close()
	size := fileSize(b, cfg.Path)
	for b.Loop() {
		s2, err := Open(cfg)
		if err != nil {
			b.Fatal(err)
		}
		s2.Close()
	}
	b.ReportMetric(float64(size)/(1<<20), "file-MiB")
	b.ReportMetric(float64(verify.Milliseconds()), "verify-all-ms")
}

// BenchmarkOpen50kQueued is the worst case: 50,000 registrations never
// delivered, every photo and outbox document still on the kiosk.
func BenchmarkOpen50kQueued(b *testing.B) {
	s := openTest(b)
	start := time.Now()
	bulkSubmit(b, s, 0, 50000, 1000, photo(b, 40<<10, 44))
	b.Logf("built in %v", time.Since(start).Round(time.Second))
	cfg := s.cfg
	s.Close()
	size := fileSize(b, cfg.Path)
	var first time.Duration
	for b.Loop() {
		t := time.Now()
		s2, err := Open(cfg)
		if err != nil {
			b.Fatal(err)
		}
		st, err := s2.Stats(context.Background())
		if err != nil || st.Registrations != 50000 {
			b.Fatalf("Stats = %+v, %v", st, err)
		}
		s2.Close()
		if first == 0 {
			first = time.Since(t)
		}
	}
	b.ReportMetric(float64(size)/(1<<20), "file-MiB")
	b.ReportMetric(float64(first.Microseconds())/1000, "first-open+stats-ms")
}

// BenchmarkOutbox10k lists 10,000 queued registrations (40 KB photos).
func BenchmarkOutbox10k(b *testing.B) {
	ctx := context.Background()
	s := openTest(b)
	bulkSubmit(b, s, 0, 10000, 1000, photo(b, 40<<10, 45))
	b.Run("Queue", func(b *testing.B) { // metadata, for the staff console
		for b.Loop() {
			q, err := s.Queue(ctx, 10000)
			if err != nil || len(q) != 10000 {
				b.Fatalf("Queue = %d, %v", len(q), err)
			}
		}
	})
	b.Run("Depth", func(b *testing.B) {
		for b.Loop() {
			if q, _, err := s.Depth(ctx); err != nil || q != 10000 {
				b.Fatalf("Depth = %d, %v", q, err)
			}
		}
	})
	b.Run("PendingBatch", func(b *testing.B) { // one push batch: 100 items, ≤ 8 MiB
		for b.Loop() {
			if p, err := s.Pending(ctx, 100, 8<<20); err != nil || len(p) == 0 {
				b.Fatalf("Pending = %d, %v", len(p), err)
			}
		}
	})
	b.Run("PendingAll", func(b *testing.B) { // all 10,000 documents unsealed
		for b.Loop() {
			if p, err := s.Pending(ctx, 10000, 1<<40); err != nil || len(p) != 10000 {
				b.Fatalf("Pending = %d, %v", len(p), err)
			}
		}
	})
}

// BenchmarkFsyncFloor is the disk's floor under a bbolt commit of one
// submission: write 48 KB, fdatasync, write a 4 KB meta page, fdatasync. Read
// Submit's percentiles against it: on a shared or slow disk both move together.
func BenchmarkFsyncFloor(b *testing.B) {
	f, err := os.OpenFile(filepath.Join(b.TempDir(), "floor"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 48<<10)
	var lat []time.Duration
	off := int64(4096)
	for b.Loop() {
		t := time.Now()
		if _, err := f.WriteAt(buf, off); err != nil {
			b.Fatal(err)
		}
		off += int64(len(buf))
		if err := syscall.Fdatasync(int(f.Fd())); err != nil {
			b.Fatal(err)
		}
		if _, err := f.WriteAt(buf[:4096], 0); err != nil {
			b.Fatal(err)
		}
		if err := syscall.Fdatasync(int(f.Fd())); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[min(len(lat)-1, len(lat)*99/100)].Microseconds())/1000, "p99-ms")
}
