package app

import "time"

// Review hours from the exam notice: reviewers work 8:30–12:00 and
// 14:30–18:00 on working days and review within 12 working hours.
var reviewWindows = [][2]time.Duration{
	{8*time.Hour + 30*time.Minute, 12 * time.Hour},
	{14*time.Hour + 30*time.Minute, 18 * time.Hour},
}

// ReviewWithin is how much working time a review may take.
const ReviewWithin = 12 * time.Hour

// ReviewDue is when the review of a registration received at from is due:
// ReviewWithin of reviewers' working time later, counting only the review
// windows of Monday to Friday, in from's location. Public holidays are not
// known to the kiosk and are not skipped.
func ReviewDue(from time.Time) time.Time {
	left := ReviewWithin
	day := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, from.Location())
	for i := 0; i < 366; i++ {
		if wd := day.Weekday(); wd != time.Saturday && wd != time.Sunday {
			for _, w := range reviewWindows {
				start, end := day.Add(w[0]), day.Add(w[1])
				if end.Before(from) || end.Equal(from) {
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
