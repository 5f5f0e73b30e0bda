package faceindex

import (
	"math/rand/v2"
	"runtime"
	"testing"
	"time"

	"examkiosk/device/face/calib"
)

// BenchmarkSearch1M is one duplicate search among 1,000,000 MobileFaceNet
// faces at the 1:1 threshold (the loosest the central uses), on every
// core. It reports the index's memory per million faces.
func BenchmarkSearch1M(b *testing.B) {
	const n = 1_000_000
	rng := rand.New(rand.NewPCG(1, 1))
	k, _ := calib.LookupKind(calib.KindMobileFaceNet)
	m, _ := calib.Lookup(calib.MobileFaceNet)
	x := New(0)
	start := time.Now()
	batch := randomFaces(rng, k, 1000)
	for i := range n {
		v := batch[i%len(batch)]
		v[i%k.Size] += 0.01 // a different vector each time
		if err := x.Add(calib.MobileFaceNet, Ref{Seq: uint64(i)}, v); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("indexed %d faces in %v; GOMAXPROCS %d", n, time.Since(start), runtime.GOMAXPROCS(0))
	queries := randomFaces(rng, k, 64)
	th := m.ThresholdAt(calib.DefaultTargetFAR)
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if _, err := x.Search(calib.MobileFaceNet, queries[i%len(queries)], th); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(x.Bytes())/1e6, "MB/1M-faces")
}
