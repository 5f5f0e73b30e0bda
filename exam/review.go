package exam

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ReviewHours are the reviewers' working hours and how much working time a
// review may take. The exam notice's are the default: 8:30–12:00 and
// 14:30–18:00 on weekdays, review within 12 working hours. The kiosk reads
// them from its config table [review], the central from [central.review].
type ReviewHours struct {
	// Windows are the daily working windows, "HH:MM-HH:MM", in order.
	Windows []string `toml:"windows"`
	// Within is how much working time a review may take.
	Within Duration `toml:"within"`
}

// Duration is a time.Duration written in TOML as a string ("12h").
type Duration struct{ time.Duration }

// UnmarshalText reads a duration such as "12h" or "90m".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("expected a duration such as \"12h\": %w", err)
	}
	d.Duration = v
	return nil
}

// MarshalText writes the duration as time.Duration.String does.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// DefaultReviewHours are the exam notice's review hours.
func DefaultReviewHours() ReviewHours {
	return ReviewHours{Windows: []string{"08:30-12:00", "14:30-18:00"}, Within: Duration{12 * time.Hour}}
}

type window struct{ start, end time.Duration }

func (h ReviewHours) windows() ([]window, error) {
	var out []window
	var last time.Duration
	for _, w := range h.Windows {
		a, b, ok := strings.Cut(w, "-")
		if !ok {
			return nil, fmt.Errorf("windows: %q: expected \"HH:MM-HH:MM\"", w)
		}
		start, err1 := clock(a)
		end, err2 := clock(b)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("windows: %q: %w", w, err)
		}
		if end <= start || start < last {
			return nil, fmt.Errorf("windows: %q: expected windows in order within one day, each ending after it starts", w)
		}
		last = end
		out = append(out, window{start, end})
	}
	return out, nil
}

func clock(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		if strings.TrimSpace(s) == "24:00" {
			return 24 * time.Hour, nil
		}
		return 0, fmt.Errorf("%q is not a time of day HH:MM", s)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

// Validate checks the windows and the review time; errors name the key.
func (h ReviewHours) Validate() error {
	ws, err := h.windows()
	if err != nil {
		return err
	}
	if len(ws) == 0 {
		return errors.New("windows: expected at least one working window, e.g. [\"08:30-12:00\", \"14:30-18:00\"]")
	}
	if h.Within.Duration < time.Hour || h.Within.Duration > 30*24*time.Hour {
		return fmt.Errorf("within: %s: expected from 1h to 720h", h.Within)
	}
	return nil
}

// Due is when the review of a registration received at from is due:
// Within of reviewers' working time later, counting only the windows of
// Monday to Friday, in from's location. Public holidays are not known and
// are not skipped. Hours that do not validate give the zero time.
func (h ReviewHours) Due(from time.Time) time.Time {
	ws, err := h.windows()
	if err != nil || len(ws) == 0 || h.Within.Duration <= 0 {
		return time.Time{}
	}
	left := h.Within.Duration
	day := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, from.Location())
	for i := 0; i < 3660; i++ {
		if wd := day.Weekday(); wd != time.Saturday && wd != time.Sunday {
			for _, w := range ws {
				start, end := day.Add(w.start), day.Add(w.end)
				if !end.After(from) {
					continue
				}
				if start.Before(from) {
					start = from
				}
				span := end.Sub(start)
				if span >= left {
					return start.Add(left)
				}
				left -= span
			}
		}
		day = day.AddDate(0, 0, 1)
	}
	return day
}
