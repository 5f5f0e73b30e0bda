package faceindex

import (
	"math"
	"math/rand/v2"
	"testing"

	"examkiosk/device/face/calib"
)

// exactDistance is the model's distance on float vectors.
func exactDistance(k calib.Kind, a, b []float32) float64 { return k.Distance(a, b) }

// randomFaces makes n vectors of a kind: Gaussian, scaled like real
// descriptors (unit norm for cosine kinds, about 0.6 for dlib's).
func randomFaces(rng *rand.Rand, k calib.Kind, n int) [][]float32 {
	out := make([][]float32, n)
	for i := range out {
		v := make([]float32, k.Size)
		var n2 float64
		for j := range v {
			v[j] = float32(rng.NormFloat64())
			n2 += float64(v[j]) * float64(v[j])
		}
		s := float32(0.6 / math.Sqrt(n2))
		if k.Cosine {
			s = float32(1 / math.Sqrt(n2))
		}
		for j := range v {
			v[j] *= s
		}
		out[i] = v
	}
	return out
}

// near returns v moved by a random step of about size eps.
func near(rng *rand.Rand, v []float32, eps float64) []float32 {
	w := make([]float32, len(v))
	for i := range v {
		w[i] = v[i] + float32(rng.NormFloat64()*eps/math.Sqrt(float64(len(v))))
	}
	return w
}

// TestSearchFindsEveryFaceWithinThreshold compares Search with an exact
// scan of the float vectors: every stored face within the threshold is
// returned (recall 1), and the estimated distances are close to the exact
// ones, for a cosine model and for dlib's Euclidean one.
func TestSearchFindsEveryFaceWithinThreshold(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for _, model := range []string{calib.MobileFaceNet, calib.Dlib} {
		m, _ := calib.Lookup(model)
		k, _ := calib.LookupKind(m.Kind)
		faces := randomFaces(rng, k, 3000)
		// Plant near duplicates at distances around the thresholds.
		for i := range 300 {
			faces = append(faces, near(rng, faces[i], 0.05+0.5*rng.Float64()))
		}
		x := New(2)
		for i, v := range faces {
			if err := x.Add(model, Ref{Seq: uint64(i)}, v); err != nil {
				t.Fatal(err)
			}
		}
		if x.Len(model) != len(faces) {
			t.Fatalf("Len %d, want %d", x.Len(model), len(faces))
		}
		maxErr, found := 0.0, 0
		for qi := range 200 {
			query := near(rng, faces[qi], 0.1)
			for _, th := range []float64{m.ThresholdAt(1e-2), m.ThresholdAt(1e-4), 0.05} {
				hits, err := x.Search(model, query, th)
				if err != nil {
					t.Fatal(err)
				}
				got := map[uint64]float64{}
				for _, h := range hits {
					got[h.Seq] = h.Distance
					ex := exactDistance(k, query, faces[h.Seq])
					maxErr = max(maxErr, math.Abs(ex-h.Distance))
				}
				for i, v := range faces {
					if d := exactDistance(k, query, v); d <= th {
						found++
						if _, ok := got[uint64(i)]; !ok {
							t.Fatalf("%s: face %d at %.4f ≤ %.4f not found", model, i, d, th)
						}
					}
				}
			}
		}
		if found < 200 {
			t.Fatalf("%s: only %d matches to find: the test checks too little", model, found)
		}
		if maxErr > 0.01 {
			t.Errorf("%s: estimated distances off by up to %.4f", model, maxErr)
		}
		t.Logf("%s: %d matches found, largest estimate error %.5f", model, found, maxErr)
	}
}

// TestSearchKeepsModelsApart: a query finds nothing of another model or
// of an unknown model.
func TestSearchKeepsModelsApart(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	k, _ := calib.LookupKind(calib.KindMobileFaceNet)
	v := randomFaces(rng, k, 1)[0]
	x := New(1)
	if err := x.Add(calib.MobileFaceNet, Ref{Seq: 1}, v); err != nil {
		t.Fatal(err)
	}
	if hits, _ := x.Search(calib.MobileFaceNet, v, 0.3); len(hits) != 1 || hits[0].Seq != 1 || hits[0].Distance > 1e-3 {
		t.Fatalf("the same vector: %+v", hits)
	}
	if hits, err := x.Search(calib.Dlib, v[:128], 10); err != nil || len(hits) != 0 {
		t.Errorf("dlib query found a MobileFaceNet face: %+v %v", hits, err)
	}
	if _, err := x.Search("other.onnx", v, 0.3); err == nil {
		t.Error("a model without calibration was searched")
	}
	if err := x.Add(calib.MobileFaceNet, Ref{}, v[:100]); err == nil {
		t.Error("a descriptor of the wrong size was indexed")
	}
	bad := append([]float32(nil), v...)
	bad[3] = float32(math.NaN())
	if err := x.Add(calib.MobileFaceNet, Ref{}, bad); err == nil {
		t.Error("a NaN descriptor was indexed")
	}
}
