package app

import (
	"testing"
	"time"
)

func TestReviewDue(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	at := func(d, hm string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", d+" "+hm, cst)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		name string
		from time.Time
		want time.Time
	}{
		// 7 h of working time a day (8:30–12:00, 14:30–18:00): 12 h is a day
		// and 5 h more.
		{"Monday before work", at("2026-11-23", "07:00"), at("2026-11-24", "16:00")},
		{"Monday 10:00", at("2026-11-23", "10:00"), at("2026-11-24", "17:30")},
		{"Monday lunch", at("2026-11-23", "13:00"), at("2026-11-25", "10:00")},
		{"Thursday 16:00 crosses the weekend", at("2026-11-26", "16:00"), at("2026-11-30", "11:30")},
		{"Saturday counts from Monday", at("2026-11-28", "11:00"), at("2026-12-01", "16:00")},
		{"Friday after work", at("2026-11-27", "19:00"), at("2026-12-01", "16:00")},
	}
	for _, tt := range tests {
		if got := ReviewDue(tt.from); !got.Equal(tt.want) {
			t.Errorf("%s: ReviewDue(%v) = %v, want %v", tt.name, tt.from, got, tt.want)
		}
	}
}
