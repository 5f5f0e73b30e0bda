package central

import "fmt"

// regTransitions is the central's status machine: for each status of a
// registration, the statuses it may move to. A new revision from the kiosk
// moves it to under_review, so a revision is accepted only where that move
// is listed: while under review or after a rejection, never once approved
// (an order is open), paid or expired.
var regTransitions = map[string][]string{
	StatusUnderReview: {StatusUnderReview, StatusApproved, StatusRejected},
	StatusRejected:    {StatusUnderReview, StatusExpired},
	StatusApproved:    {StatusPaid, StatusExpired},
	StatusPaid:        nil,
	StatusExpired:     nil,
}

// statusWords names statuses in refusals read by staff and candidates.
var statusWords = map[string]string{
	StatusUnderReview: "在审核中",
	StatusRejected:    "被退回",
	StatusApproved:    "审核通过待缴费",
	StatusPaid:        "缴费",
	StatusExpired:     "过期",
}

// regTransition reports whether a registration may move from one status to
// another.
func regTransition(from, to string) error {
	for _, next := range regTransitions[from] {
		if next == to {
			return nil
		}
	}
	return fmt.Errorf("registration status %s cannot become %s", from, to)
}
