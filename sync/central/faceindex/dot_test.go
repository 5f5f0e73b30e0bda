package faceindex

import (
	"math/rand/v2"
	"testing"
)

// TestDotsKernels: the AVX2 kernel and the portable one give the same
// sums, at the extremes of int8 too, for every supported size.
func TestDotsKernels(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, d := range []int{16, 48, 128, 192, 512} {
		n := 37
		q := make([]int16, d)
		rows := make([]int8, n*d)
		for i := range q {
			q[i] = int16(rng.IntN(255) - 127)
		}
		for i := range rows {
			rows[i] = int8(rng.IntN(256) - 128)
		}
		for i := range d { // one row of extremes
			q[i], rows[i] = -127, -128
		}
		want, got := make([]int32, n), make([]int32, n)
		for i := range n {
			var s int32
			for j := range d {
				s += int32(q[j]) * int32(rows[i*d+j])
			}
			want[i] = s
		}
		dots(q, rows, got)
		for i := range n {
			if got[i] != want[i] {
				t.Fatalf("d=%d row %d: %d, want %d (avx2 %v)", d, i, got[i], want[i], hasAVX2)
			}
		}
		clear(got)
		dotsGo(q, rows, got)
		for i := range n {
			if got[i] != want[i] {
				t.Fatalf("portable d=%d row %d: %d, want %d", d, i, got[i], want[i])
			}
		}
	}
}
