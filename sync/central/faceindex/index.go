// Package faceindex is the central's in-memory index of face descriptors
// for the cross-kiosk duplicate search (one face, one identity): an exact
// scan of int8-quantised vectors, per recognition model, on every core.
//
// Why an exact scan: a face search asks "is anyone within the threshold?",
// not "who are the k nearest?", and the answer must not miss a duplicate
// because a graph walk took another turn. Quantised to int8 a 192-D
// MobileFaceNet descriptor takes 192 bytes, a million of them 192 MB, and
// an AVX2 multiply-add kernel (dot_amd64.s) scans them in tens of
// milliseconds on two cores (docs/BENCHMARKS.md). Quantisation error is
// bounded (Search widens the threshold by the bound), so Search returns
// every stored face within the threshold, plus possibly a few just above
// it, which the caller checks against the stored float vectors.
//
// Descriptors of different models are never compared: each model has its
// own shard, and a query searches only its model's.
package faceindex

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"

	"examkiosk/device/face/calib"
)

// Ref identifies an indexed face: its key in the store it was loaded
// from. (What the face belongs to stays in the store: the caller reads it
// for the few faces a search returns.)
type Ref struct {
	Seq uint64
}

// Hit is a face Search found, with its distance to the query estimated
// from the quantised vectors.
type Hit struct {
	Ref
	Distance float64
}

// Index holds the faces of every recognition model. Its methods may be
// called from several goroutines.
type Index struct {
	workers int
	mu      sync.RWMutex
	shards  map[string]*shard // by model id
}

// shard holds one model's faces: row i is codes[i·d:(i+1)·d].
type shard struct {
	kind   calib.Kind
	codes  []int8
	inv    []float32 // 1 / quantisation scale
	norm   []float32 // Euclidean norm of the stored (normalised if cosine) vector
	refs   []Ref
	maxInv float32 // the largest inv: bounds the quantisation error
	maxNrm float32
}

// New returns an empty index that scans with workers goroutines (0: one
// per core).
func New(workers int) *Index {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	return &Index{workers: workers, shards: map[string]*shard{}}
}

// kindOf returns the kind of a shipped model: only models with a
// calibration (and so a 1:N threshold) can be searched.
func kindOf(model string) (calib.Kind, error) {
	m, ok := calib.Lookup(model)
	if !ok {
		return calib.Kind{}, fmt.Errorf("recognition model %q has no calibration: its faces cannot be searched", model)
	}
	k, _ := calib.LookupKind(m.Kind)
	return k, nil
}

// quantise returns v as int8 codes with 1/scale and the vector's norm;
// cosine kinds are L2-normalised first.
func quantise(k calib.Kind, v []float32, codes []int8) (inv, norm float32) {
	var n2 float64
	for _, x := range v {
		n2 += float64(x) * float64(x)
	}
	norm = float32(math.Sqrt(n2))
	unit := float32(1)
	if k.Cosine && norm > 0 {
		unit, norm = 1/norm, 1
	}
	var m float32
	for _, x := range v {
		m = max(m, abs32(x*unit))
	}
	if m == 0 {
		clear(codes)
		return 1, norm
	}
	s := 127 / m
	f := unit * s
	for i, x := range v {
		// Round half away from zero; |x·f| ≤ 127.
		if y := x * f; y >= 0 {
			codes[i] = int8(y + 0.5)
		} else {
			codes[i] = int8(y - 0.5)
		}
	}
	return 1 / s, norm
}

func abs32(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }

// Check says why a descriptor of model cannot be indexed or searched (nil
// when it can): a model without calibration, a vector of the wrong size
// or with a value that is not a finite number.
func Check(model string, vec []float32) error {
	k, err := kindOf(model)
	if err != nil {
		return err
	}
	return checkVec(model, k, vec)
}

// checkVec refuses a vector of the wrong size or with NaN or infinite
// values.
func checkVec(model string, k calib.Kind, v []float32) error {
	if len(v) != k.Size {
		return fmt.Errorf("%s descriptor has %d values, want %d", model, len(v), k.Size)
	}
	for _, x := range v {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return fmt.Errorf("%s descriptor has a value that is not a finite number", model)
		}
	}
	return nil
}

// Code is a face descriptor as the index holds it: int8 values, the
// inverse of their scale and the norm of the vector (1 for cosine kinds,
// which are L2-normalised first). Quantise makes it; a store may keep it
// beside the vector, so that loading the index skips the work.
type Code struct {
	Q    []int8
	Inv  float32
	Norm float32
}

// Quantise returns the code of a descriptor of model (Check's errors).
func Quantise(model string, vec []float32) (Code, error) {
	k, err := kindOf(model)
	if err != nil {
		return Code{}, err
	}
	if err := checkVec(model, k, vec); err != nil {
		return Code{}, err
	}
	c := Code{Q: make([]int8, k.Size)}
	c.Inv, c.Norm = quantise(k, vec, c.Q)
	return c, nil
}

// Add indexes a face made by model.
func (x *Index) Add(model string, ref Ref, vec []float32) error {
	return x.AddMany(model, []Ref{ref}, [][]float32{vec})
}

// AddMany indexes faces made by model (refs[i] for vecs[i]). Nothing is
// added when one vector is refused.
func (x *Index) AddMany(model string, refs []Ref, vecs [][]float32) error {
	codes := make([]Code, len(vecs))
	for i, v := range vecs {
		var err error
		if codes[i], err = Quantise(model, v); err != nil {
			return err
		}
	}
	return x.AddCodes(model, refs, codes)
}

// AddCodes indexes faces of model by their codes (refs[i] for codes[i])
// under one lock: loading a million faces takes the lock a thousand
// times, not a million. Nothing is added when one code is refused.
func (x *Index) AddCodes(model string, refs []Ref, codes []Code) error {
	k, err := kindOf(model)
	if err != nil {
		return err
	}
	if len(refs) != len(codes) {
		return fmt.Errorf("faceindex: %d references for %d codes", len(refs), len(codes))
	}
	var maxInv, maxNrm float32
	for _, c := range codes {
		if len(c.Q) != k.Size || !(c.Inv > 0) || !(c.Norm >= 0) || math.IsInf(float64(c.Inv), 0) || math.IsInf(float64(c.Norm), 0) {
			return fmt.Errorf("faceindex: a %s code has %d values, scale %g, norm %g", model, len(c.Q), c.Inv, c.Norm)
		}
		maxInv, maxNrm = max(maxInv, c.Inv), max(maxNrm, c.Norm)
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	s := x.shards[model]
	if s == nil {
		s = &shard{kind: k}
		x.shards[model] = s
	}
	s.codes = slices.Grow(s.codes, k.Size*len(codes))
	for _, c := range codes {
		s.codes = append(s.codes, c.Q...)
		s.inv = append(s.inv, c.Inv)
		s.norm = append(s.norm, c.Norm)
	}
	s.refs = append(s.refs, refs...)
	s.maxInv, s.maxNrm = max(s.maxInv, maxInv), max(s.maxNrm, maxNrm)
	return nil
}

// Len is the number of faces indexed for model.
func (x *Index) Len(model string) int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if s := x.shards[model]; s != nil {
		return len(s.refs)
	}
	return 0
}

// Bytes is the memory the index's vectors and references take.
func (x *Index) Bytes() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	n := 0
	for _, s := range x.shards {
		n += cap(s.codes) + 4*cap(s.inv) + 4*cap(s.norm) + 8*cap(s.refs)
	}
	return n
}

// block is how many rows a worker scores per kernel call.
const block = 512

// Search returns the faces of model whose distance to vec (the model's
// distance: cosine or Euclidean) may be at most maxDist, closest first.
// Every face within maxDist is returned;
// faces up to the quantisation error bound beyond it may be too, so the
// caller decides on exact distances.
func (x *Index) Search(model string, vec []float32, maxDist float64) ([]Hit, error) {
	k, err := kindOf(model)
	if err != nil {
		return nil, err
	}
	if err := checkVec(model, k, vec); err != nil {
		return nil, err
	}
	if !(maxDist >= 0) {
		return nil, nil
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	s := x.shards[model]
	if s == nil || len(s.refs) == 0 {
		return nil, nil
	}
	// The query keeps 13 bits (so that 512 products of 13 and 8 bits fit
	// in int32).
	d := k.Size
	var n2 float64
	for _, v := range vec {
		n2 += float64(v) * float64(v)
	}
	qnorm, unit := math.Sqrt(n2), float32(1)
	if k.Cosine && qnorm > 0 {
		qnorm, unit = 1, float32(1/qnorm)
	}
	var m float32
	for _, v := range vec {
		m = max(m, abs32(v*unit))
	}
	qs := float32(1)
	if m > 0 {
		qs = 8191 / m
	}
	q := make([]int16, d)
	var qerr float64 // |q/qs − vec| per value, at most
	for i, v := range vec {
		q[i] = int16(math.Round(float64(v * unit * qs)))
		qerr = max(qerr, math.Abs(float64(q[i])/float64(qs)-float64(v*unit)))
	}
	// Bound of the error of an estimated dot product: with rows rounded
	// to within maxInv/2 per value and the query to within qerr,
	// |Δ(a·b)| ≤ ‖a‖₁·maxInv/2 + ‖b‖₁·qerr + d·maxInv/2·qerr, and
	// ‖v‖₁ ≤ √d·‖v‖.
	sd := math.Sqrt(float64(d))
	rerr := float64(s.maxInv) / 2
	dotErr := sd*qnorm*rerr + sd*float64(s.maxNrm)*qerr + float64(d)*rerr*qerr
	// Accept rows whose estimated squared distance (Euclidean) or distance
	// (cosine) is within the widened limit.
	var limit float64
	if k.Cosine {
		limit = maxDist + dotErr
	} else {
		limit = maxDist*maxDist + 2*dotErr
	}
	n := len(s.refs)
	w := min(x.workers, (n+block-1)/block)
	found := make([][]Hit, w)
	var wg sync.WaitGroup
	for wi := range w {
		wg.Go(func() {
			out := make([]int32, block)
			lo, hi := n*wi/w, n*(wi+1)/w
			var hits []Hit
			for b := lo; b < hi; b += block {
				e := min(b+block, hi)
				o := out[:e-b]
				dots(q, s.codes[b*d:e*d], o)
				for i, dot := range o {
					r := b + i
					est := float64(dot) * float64(s.inv[r]) / float64(qs)
					var dist float64
					if k.Cosine {
						dist = 1 - est
					} else {
						dist = qnorm*qnorm + float64(s.norm[r])*float64(s.norm[r]) - 2*est
					}
					if dist <= limit {
						if !k.Cosine {
							dist = math.Sqrt(max(dist, 0))
						}
						hits = append(hits, Hit{Ref: s.refs[r], Distance: dist})
					}
				}
			}
			found[wi] = hits
		})
	}
	wg.Wait()
	all := slices.Concat(found...)
	slices.SortFunc(all, func(a, b Hit) int {
		if a.Distance != b.Distance {
			if a.Distance < b.Distance {
				return -1
			}
			return 1
		}
		return 0
	})
	return all, nil
}
