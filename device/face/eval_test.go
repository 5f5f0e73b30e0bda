package face

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParsePairs(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		wantPairs int
		wantFolds int
		wantErr   string
	}{
		{"one fold", "1\t1\nA\t1\t2\nA\t1\tB\t1\n", 2, 1, ""},
		{"two folds", "2 1\nA 1 2\nA 1 B 1\nC 1 2\nC 2 D 1\n", 4, 2, ""},
		{"header disagrees", "3 1\nA 1 2\nA 1 B 1\n", 2, 1, ""},
		{"empty", "", 0, 0, "empty"},
		{"bad header", "x\n", 0, 0, "header"},
		{"bad line", "1 1\nA 1\n", 0, 0, "line 2"},
		{"bad index", "1 1\nA x 2\n", 0, 0, "index"},
		{"zero index", "1 1\nA 0 2\n", 0, 0, "index"},
		{"no pairs", "1 1\n\n", 0, 0, "no pairs"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ps, folds, err := ParsePairs(strings.NewReader(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || len(ps) != tc.wantPairs || folds != tc.wantFolds {
				t.Fatalf("got %d pairs, %d folds, %v", len(ps), folds, err)
			}
			if !ps[0].Same || ps[1].Same {
				t.Errorf("same/different flags wrong: %+v", ps)
			}
			if folds == 2 && (ps[1].Fold != 0 || ps[2].Fold != 1) {
				t.Errorf("folds wrong: %+v", ps)
			}
		})
	}
	if got := PairImage("/r", "A_B", 3); got != "/r/A_B/A_B_0003.jpg" {
		t.Errorf("PairImage = %s", got)
	}
}

func TestCalibrateFAR(t *testing.T) {
	var s []Scored
	for i := range 100 { // different pairs at 0.50, 0.51, ... 1.49
		s = append(s, Scored{Pair: Pair{Same: false}, Distance: 0.5 + float64(i)/100})
	}
	for i := range 10 { // same pairs at 0.30 ... 0.57
		s = append(s, Scored{Pair: Pair{Same: true}, Distance: 0.3 + 0.03*float64(i)})
	}
	tests := []struct {
		target        float64
		maxT, wantFAR float64
	}{
		{0.001, 0.5, 0},    // no false accept allowed: below 0.50
		{0.01, 0.51, 0.01}, // one allowed
		{0.05, 0.55, 0.05}, // five allowed
	}
	for _, tc := range tests {
		c := CalibrateFAR(s, tc.target)
		if c.Threshold >= tc.maxT || c.FAR != tc.wantFAR {
			t.Errorf("target %g: threshold %v far %v, want < %v and far %v", tc.target, c.Threshold, c.FAR, tc.maxT, tc.wantFAR)
		}
		if c.FAR > tc.target && tc.target >= 0.01 {
			t.Errorf("target %g: far %v above target", tc.target, c.FAR)
		}
	}
	if c := CalibrateFAR(s, 0.001); c.FRR != 0.3 { // same pairs at 0.51, 0.54, 0.57 rejected
		t.Errorf("frr %v, want 0.3", c.FRR)
	}
	if c := CalibrateFAR(s[100:], 0.01); !math.IsNaN(c.Threshold) {
		t.Errorf("no different pairs: threshold %v, want NaN", c.Threshold)
	}
	r := Summarise(s, 1)
	if r.Accuracy != 107.0/110 {
		t.Errorf("accuracy %v, want %v", r.Accuracy, 107.0/110)
	}
}

// TestVerifySetAccuracy runs the verification evaluation over
// ../shared/faces/verify/pairs.txt: accuracy ≥ 99%, no pair lost to a
// missed detection, and the stock threshold's calibration recorded.
func TestVerifySetAccuracy(t *testing.T) {
	dir := filepath.Join(facesDir(t), "verify")
	e := testEngine(t)
	f, err := os.Open(filepath.Join(dir, "pairs.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pairs, folds, err := ParsePairs(f)
	if err != nil {
		t.Fatal(err)
	}
	scored, failed, _, err := e.ScorePairs(context.Background(), pairs, dir)
	if err != nil {
		t.Fatal(err)
	}
	r := Summarise(scored, folds)
	t.Logf("pairs %d accuracy %.4f best threshold %.3f max same %.3f min different %.3f TAR@1e-3 %.3f",
		r.Pairs, r.Accuracy, r.Threshold, r.MaxSame, r.MinDifferent, r.TARAtFAR1e3)
	if len(failed) > 0 {
		t.Errorf("no face found in %v", failed)
	}
	if r.Accuracy < 0.99 {
		t.Errorf("accuracy %.4f, want >= 0.99", r.Accuracy)
	}
	c := CalibrateFAR(scored, 0.001)
	t.Logf("calibrate --target-far 0.001: threshold %.3f far %.3f frr %.3f", c.Threshold, c.FAR, c.FRR)
	// The shipped threshold must not accept any different-person pair here.
	if StockThreshold > c.Threshold {
		t.Errorf("StockThreshold %v accepts impostors on the verify set (calibrated %v)", StockThreshold, c.Threshold)
	}
}
