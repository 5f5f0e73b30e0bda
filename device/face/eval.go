package face

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Pair is one line of an LFW-style pairs file.
type Pair struct {
	NameA  string
	IndexA int
	NameB  string
	IndexB int
	Same   bool
	Fold   int
}

// ParsePairs reads the LFW pairs format: a first line with the number of
// folds and the number of same-person pairs per fold (each fold then holds
// that many same pairs followed by as many different pairs), then lines
// `name i j` (same person) and `name1 i name2 j` (different people).
// A file whose lines do not fill the folds exactly is read as one fold.
func ParsePairs(r io.Reader) ([]Pair, int, error) {
	sc := bufio.NewScanner(r)
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return nil, 0, fmt.Errorf("read pairs header: %w", err)
		}
		return nil, 0, errors.New("pairs: empty file")
	}
	head := strings.Fields(sc.Text())
	folds, perFold := 1, 0
	if len(head) == 2 {
		var err1, err2 error
		folds, err1 = strconv.Atoi(head[0])
		perFold, err2 = strconv.Atoi(head[1])
		if err1 != nil || err2 != nil || folds < 1 || perFold < 1 {
			return nil, 0, fmt.Errorf("pairs header %q: want `folds pairs_per_fold`", sc.Text())
		}
	} else {
		return nil, 0, fmt.Errorf("pairs header %q: want `folds pairs_per_fold`", sc.Text())
	}
	var pairs []Pair
	line := 1
	for sc.Scan() {
		line++
		f := strings.Fields(sc.Text())
		var p Pair
		var err error
		switch len(f) {
		case 0:
			continue
		case 3:
			p = Pair{NameA: f[0], NameB: f[0], Same: true}
			p.IndexA, err = strconv.Atoi(f[1])
			if err == nil {
				p.IndexB, err = strconv.Atoi(f[2])
			}
		case 4:
			p = Pair{NameA: f[0], NameB: f[2]}
			p.IndexA, err = strconv.Atoi(f[1])
			if err == nil {
				p.IndexB, err = strconv.Atoi(f[3])
			}
		default:
			return nil, 0, fmt.Errorf("pairs line %d: want `name i j` or `name1 i name2 j`, got %q", line, sc.Text())
		}
		if err != nil || p.IndexA < 1 || p.IndexB < 1 {
			return nil, 0, fmt.Errorf("pairs line %d: bad image index in %q", line, sc.Text())
		}
		pairs = append(pairs, p)
	}
	if err := sc.Err(); err != nil {
		return nil, 0, fmt.Errorf("read pairs: %w", err)
	}
	if len(pairs) == 0 {
		return nil, 0, errors.New("pairs: no pairs")
	}
	if folds*2*perFold != len(pairs) {
		folds = 1
	}
	per := len(pairs) / folds
	for i := range pairs {
		pairs[i].Fold = min(i/per, folds-1)
	}
	return pairs, folds, nil
}

// PairImage is the LFW image path root/name/name_000i.jpg.
func PairImage(root, name string, i int) string {
	return filepath.Join(root, name, fmt.Sprintf("%s_%04d.jpg", name, i))
}

// Scored is a pair with its descriptor distance (+Inf when a face was not
// found in one of the images).
type Scored struct {
	Pair
	Distance float64
}

// EvalResult summarises a verification run over labelled pairs. Pairs
// whose face was not found in an image count as rejected (a false reject
// when the pair is the same person); no field is ever infinite or NaN.
type EvalResult struct {
	// Model is the recognition model's file name.
	Model string `json:"model"`
	Pairs int    `json:"pairs"`
	Folds int    `json:"folds"`
	// Accuracy is cross-validated over the folds when there are several
	// (threshold chosen on the others, applied to each); with one fold it
	// is the accuracy of the best threshold on the whole set.
	Accuracy float64 `json:"accuracy"`
	// Threshold is the best-accuracy threshold on the whole set.
	Threshold    float64 `json:"threshold"`
	TARAtFAR1e2  float64 `json:"tar_at_far_1e-2"`
	TARAtFAR1e3  float64 `json:"tar_at_far_1e-3"`
	TARAtFAR1e4  float64 `json:"tar_at_far_1e-4"`
	FailToDetect int     `json:"fail_to_detect"`
	// FailedPairs is the number of pairs with an image without a face.
	FailedPairs  int     `json:"failed_pairs"`
	MsPerImage   float64 `json:"ms_per_image_median"`
	Images       int     `json:"images"`
	MaxSame      float64 `json:"max_same_distance"`
	MinDifferent float64 `json:"min_different_distance"`
	// ConfiguredAt is the 1:1 threshold in force for the model; the
	// accuracy, false-accept and false-reject rates are at it.
	ConfiguredAt  float64  `json:"configured_threshold"`
	ConfiguredAcc float64  `json:"configured_accuracy"`
	ConfiguredFAR float64  `json:"configured_far"`
	ConfiguredFRR float64  `json:"configured_frr"`
	FailedImages  []string `json:"failed_images,omitempty"`
}

// DescribeFiles computes the descriptor of the largest face of each image
// file. Images without a face map to nil and are listed in failed; an
// unreadable or undecodable file is an error. times are per image.
func (e *Engine) DescribeFiles(ctx context.Context, paths []string) (map[string]*Descriptor, []string, []time.Duration, error) {
	descs := make(map[string]*Descriptor, len(paths))
	var failed []string
	var times []time.Duration
	for _, path := range paths {
		if _, ok := descs[path]; ok {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, nil, nil, err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("pair image: %w", err)
		}
		start := time.Now()
		img, err := DecodeImage(data)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("pair image %s: %w", path, err)
		}
		d, _, err := e.Descriptor(ctx, img)
		times = append(times, time.Since(start))
		switch {
		case errors.Is(err, ErrNoFace):
			failed = append(failed, path)
			descs[path] = nil
		case err != nil:
			return nil, nil, nil, fmt.Errorf("pair image %s: %w", path, err)
		default:
			descs[path] = &d
		}
	}
	return descs, failed, times, nil
}

// ScorePairs computes the descriptor of every image named by pairs (once
// each) and the distance of every pair (+Inf when an image has no face).
// It returns the scored pairs, the images where no face was found and the
// per-image times.
func (e *Engine) ScorePairs(ctx context.Context, pairs []Pair, root string) ([]Scored, []string, []time.Duration, error) {
	paths := make([]string, 0, 2*len(pairs))
	for _, p := range pairs {
		paths = append(paths, PairImage(root, p.NameA, p.IndexA), PairImage(root, p.NameB, p.IndexB))
	}
	descs, failed, times, err := e.DescribeFiles(ctx, paths)
	if err != nil {
		return nil, nil, nil, err
	}
	out := make([]Scored, len(pairs))
	for i, p := range pairs {
		out[i] = Scored{Pair: p, Distance: math.Inf(1)}
		a, b := descs[paths[2*i]], descs[paths[2*i+1]]
		if a != nil && b != nil {
			if out[i].Distance, err = Distance(*a, *b); err != nil {
				return nil, nil, nil, err
			}
		}
	}
	return out, failed, times, nil
}

// Evaluate scores pairs and summarises accuracy, TAR at fixed FAR, the
// rates at the configured threshold and speed.
func (e *Engine) Evaluate(ctx context.Context, pairs []Pair, folds int, root string) (EvalResult, error) {
	scored, failed, times, err := e.ScorePairs(ctx, pairs, root)
	if err != nil {
		return EvalResult{}, err
	}
	r := Summarise(scored, folds)
	r.Model = e.model.ID
	r.FailToDetect = len(failed)
	r.FailedImages = failed
	r.Images = len(times)
	if len(times) > 0 {
		slices.Sort(times)
		r.MsPerImage = float64(times[len(times)/2].Microseconds()) / 1000
	}
	r.ConfiguredAt = e.threshold
	r.ConfiguredAcc = accuracyAt(scored, e.threshold)
	r.ConfiguredFAR, r.ConfiguredFRR = RatesAt(scored, e.threshold)
	return r, nil
}

// RatesAt is the false-accept rate (different-person pairs at or below t)
// and the false-reject rate (same-person pairs above t, or without a face).
func RatesAt(scored []Scored, t float64) (far, frr float64) {
	var same, diff, fa, fr int
	for _, s := range scored {
		if s.Same {
			same++
			if !(s.Distance <= t) {
				fr++
			}
		} else {
			diff++
			if s.Distance <= t {
				fa++
			}
		}
	}
	if diff > 0 {
		far = float64(fa) / float64(diff)
	}
	if same > 0 {
		frr = float64(fr) / float64(same)
	}
	return far, frr
}

// Summarise computes the accuracy figures of scored pairs. Pairs with an
// infinite distance (no face) take part as rejections but not in the
// distance extremes; figures that cannot be computed are 0.
func Summarise(scored []Scored, folds int) EvalResult {
	r := EvalResult{Pairs: len(scored), Folds: folds, MaxSame: 0, MinDifferent: math.Inf(1)}
	for _, s := range scored {
		switch {
		case math.IsInf(s.Distance, 0) || math.IsNaN(s.Distance):
			r.FailedPairs++
		case s.Same:
			r.MaxSame = math.Max(r.MaxSame, s.Distance)
		default:
			r.MinDifferent = math.Min(r.MinDifferent, s.Distance)
		}
	}
	r.Threshold = bestThreshold(scored)
	if folds > 1 {
		correct := 0
		for f := range folds {
			var train, test []Scored
			for _, s := range scored {
				if s.Fold == f {
					test = append(test, s)
				} else {
					train = append(train, s)
				}
			}
			t := bestThreshold(train)
			correct += int(math.Round(accuracyAt(test, t) * float64(len(test))))
		}
		r.Accuracy = float64(correct) / float64(len(scored))
	} else {
		r.Accuracy = accuracyAt(scored, r.Threshold)
	}
	for _, x := range []struct {
		far float64
		tar *float64
	}{{1e-2, &r.TARAtFAR1e2}, {1e-3, &r.TARAtFAR1e3}, {1e-4, &r.TARAtFAR1e4}} {
		if c := CalibrateFAR(scored, x.far); !math.IsNaN(c.Threshold) && !math.IsInf(c.Threshold, 0) {
			*x.tar = 1 - c.FRR
		}
	}
	if math.IsInf(r.MinDifferent, 1) {
		r.MinDifferent = 0
	}
	if math.IsNaN(r.Threshold) {
		r.Threshold = 0
	}
	return r
}

func accuracyAt(scored []Scored, t float64) float64 {
	if len(scored) == 0 {
		return 0
	}
	ok := 0
	for _, s := range scored {
		if (s.Distance <= t) == s.Same {
			ok++
		}
	}
	return float64(ok) / float64(len(scored))
}

// bestThreshold returns the threshold of highest accuracy: the midpoint of
// the widest best gap between consecutive finite distances.
func bestThreshold(scored []Scored) float64 {
	var ds []float64
	for _, s := range scored {
		if !math.IsInf(s.Distance, 0) {
			ds = append(ds, s.Distance)
		}
	}
	if len(ds) == 0 {
		return math.NaN()
	}
	slices.Sort(ds)
	cands := []float64{ds[0] - 1e-6}
	for i := 0; i+1 < len(ds); i++ {
		cands = append(cands, (ds[i]+ds[i+1])/2)
	}
	cands = append(cands, ds[len(ds)-1]+1e-6)
	best, bestAcc, bestGap := math.NaN(), -1.0, -1.0
	for i, t := range cands {
		acc := accuracyAt(scored, t)
		gap := 0.0
		if i > 0 && i < len(ds) {
			gap = ds[i] - ds[i-1]
		}
		if acc > bestAcc || (acc == bestAcc && gap > bestGap) {
			best, bestAcc, bestGap = t, acc, gap
		}
	}
	return best
}

// Calibration is a threshold chosen for a target false-accept rate.
type Calibration struct {
	Threshold float64 `json:"threshold"`
	FAR       float64 `json:"far"`
	FRR       float64 `json:"frr"`
	TargetFAR float64 `json:"target_far"`
	Same      int     `json:"same_pairs"`
	Different int     `json:"different_pairs"`
}

// CalibrateFAR picks the largest threshold whose false-accept rate (the
// share of different-person pairs at or below it) does not exceed target,
// and reports the false-reject rate there. With n different pairs the
// smallest FAR that can be shown is 1/n: for a smaller target the
// threshold sits just below the closest different-person pair. The
// threshold is NaN when there are no different-person pairs.
func CalibrateFAR(scored []Scored, target float64) Calibration {
	c := Calibration{TargetFAR: target, Threshold: math.NaN()}
	var diff, same []float64
	for _, s := range scored {
		if s.Same {
			same = append(same, s.Distance)
		} else {
			diff = append(diff, s.Distance)
		}
	}
	c.Same, c.Different = len(same), len(diff)
	if len(diff) == 0 {
		return c
	}
	slices.Sort(diff)
	k := int(math.Floor(target * float64(len(diff)))) // false accepts allowed
	if k >= len(diff) {
		c.Threshold = diff[len(diff)-1]
	} else {
		// Just below the (k+1)-th closest different pair, keeping 3
		// decimals so that the value can go into a config file.
		c.Threshold = math.Floor((diff[k]-1e-9)*1000) / 1000
		if k > 0 && c.Threshold < diff[k-1] {
			c.Threshold = diff[k-1]
		}
	}
	if math.IsInf(c.Threshold, 0) {
		// the allowed false accepts reach pairs without a face: accept
		// every different pair that has a distance
		c.Threshold = 0
		for _, d := range diff {
			if !math.IsInf(d, 0) {
				c.Threshold = d
			}
		}
	}
	fa := 0
	for _, d := range diff {
		if d <= c.Threshold {
			fa++
		}
	}
	c.FAR = float64(fa) / float64(len(diff))
	if len(same) > 0 {
		fr := 0
		for _, d := range same {
			if d > c.Threshold {
				fr++
			}
		}
		c.FRR = float64(fr) / float64(len(same))
	}
	return c
}
