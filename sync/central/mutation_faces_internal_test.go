package central

import "testing"

// cmpFloat orders duplicate suspects by distance, nearest first.
func TestCmpFloat(t *testing.T) {
	for _, tt := range []struct {
		a, b float64
		want int
	}{{0.3, 0.4, -1}, {0.4, 0.3, 1}, {0.35, 0.35, 0}, {-1, 0, -1}} {
		if got := cmpFloat(tt.a, tt.b); got != tt.want {
			t.Errorf("cmpFloat(%v, %v) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
