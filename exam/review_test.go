package exam

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
		if got := DefaultReviewHours().Due(tt.from); !got.Equal(tt.want) {
			t.Errorf("%s: ReviewDue(%v) = %v, want %v", tt.name, tt.from, got, tt.want)
		}
	}
}

func TestReviewHoursValidate(t *testing.T) {
	for _, tt := range []struct {
		name string
		h    ReviewHours
		ok   bool
	}{
		{"default", DefaultReviewHours(), true},
		{"one window", ReviewHours{Windows: []string{"09:00-17:00"}, Within: Duration{8 * time.Hour}}, true},
		{"no windows", ReviewHours{Within: Duration{time.Hour}}, false},
		{"reversed", ReviewHours{Windows: []string{"12:00-08:30"}, Within: Duration{time.Hour}}, false},
		{"overlapping", ReviewHours{Windows: []string{"08:00-12:00", "11:00-13:00"}, Within: Duration{time.Hour}}, false},
		{"not a time", ReviewHours{Windows: []string{"8h-12h"}, Within: Duration{time.Hour}}, false},
		{"too short", ReviewHours{Windows: []string{"08:00-12:00"}, Within: Duration{time.Minute}}, false},
	} {
		if err := tt.h.Validate(); (err == nil) != tt.ok {
			t.Errorf("%s: Validate() = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
	// One 8-hour window: 12 h is a day and 4 h more.
	h := ReviewHours{Windows: []string{"09:00-17:00"}, Within: Duration{12 * time.Hour}}
	from := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	if got, want := h.Due(from), time.Date(2026, 11, 24, 13, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("Due = %v, want %v", got, want)
	}
}
