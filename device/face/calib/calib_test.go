package calib

import (
	"math"
	"testing"
)

func TestShippedTable(t *testing.T) {
	for _, id := range Shipped() {
		m, ok := Lookup(id)
		if !ok || m.ID != id {
			t.Fatalf("%s: not found", id)
		}
		k, ok := LookupKind(m.Kind)
		if !ok || k.Size != m.Size {
			t.Errorf("%s: kind %q size %d, model size %d", id, m.Kind, k.Size, m.Size)
		}
		for i := 1; i < len(m.Curve); i++ {
			if m.Curve[i].FAR >= m.Curve[i-1].FAR || m.Curve[i].Threshold > m.Curve[i-1].Threshold {
				t.Errorf("%s: curve not decreasing at %d", id, i)
			}
		}
	}
	if _, ok := Lookup("other.onnx"); ok {
		t.Error("an unknown model was found")
	}
}

// TestSearchThreshold: the 1:N threshold tightens as N grows and is never
// looser than the 1:1 threshold.
func TestSearchThreshold(t *testing.T) {
	m, _ := Lookup(MobileFaceNet)
	one := m.ThresholdAt(DefaultTargetFAR)
	if got := m.SearchThreshold(DefaultTargetFAR, 1); got != one {
		t.Errorf("n=1: %g, want the 1:1 threshold %g", got, one)
	}
	prev := math.Inf(1)
	for _, n := range []int{1, 2, 10, 100, 1000, 10000, 1000000} {
		th := m.SearchThreshold(DefaultTargetFAR, n)
		if th > prev || th > one || th < 0 {
			t.Errorf("n=%d: %g after %g (1:1 %g)", n, th, prev, one)
		}
		prev = th
	}
	if got, want := m.SearchThreshold(DefaultTargetFAR, 10), m.ThresholdAt(1e-4); math.Abs(got-want) > 1e-12 {
		t.Errorf("n=10: %g, want the threshold at FAR 1e-4 %g", got, want)
	}
}
