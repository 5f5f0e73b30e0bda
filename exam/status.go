package exam

// Status is where a registration is in its lifecycle.
type Status string

// Lifecycle states. Submitted and resubmitted revisions wait in the outbox;
// the rest follow the central's acknowledgement and decisions.
const (
	StatusSubmitted   Status = "submitted"    // stored and queued on the kiosk
	StatusDelivered   Status = "delivered"    // the central acknowledged it
	StatusUnderReview Status = "under_review" // a reviewer has it
	StatusApproved    Status = "approved"     // approved, awaiting payment
	StatusRejected    Status = "rejected"     // rejected with a reason; may be resubmitted
	StatusResubmitted Status = "resubmitted"  // a new revision after a rejection, queued
	StatusPaid        Status = "paid"         // fee paid: final
	StatusExpired     Status = "expired"      // deadline passed: final
	StatusWithdrawn   Status = "withdrawn"    // withdrawn by the candidate: final
)

// transitions lists, for each status, the statuses it may move to. It is the
// one place the lifecycle is defined; a constant table, never modified.
var transitions = map[Status][]Status{
	StatusSubmitted:   {StatusDelivered, StatusWithdrawn},
	StatusResubmitted: {StatusDelivered, StatusWithdrawn},
	StatusDelivered:   {StatusUnderReview, StatusApproved, StatusRejected, StatusExpired, StatusWithdrawn},
	StatusUnderReview: {StatusApproved, StatusRejected, StatusExpired},
	StatusApproved:    {StatusPaid, StatusExpired},
	StatusRejected:    {StatusResubmitted, StatusExpired, StatusWithdrawn},
	StatusPaid:        nil,
	StatusExpired:     nil,
	StatusWithdrawn:   nil,
}

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	_, ok := transitions[s]
	return ok
}

// Final reports whether no transition leaves s.
func (s Status) Final() bool {
	return s.Valid() && len(transitions[s]) == 0
}

// Queued reports whether a registration in s waits for delivery.
func (s Status) Queued() bool {
	return s == StatusSubmitted || s == StatusResubmitted
}

// CanMove reports whether the lifecycle allows a registration to move
// from one status to another in one step.
func CanMove(from, to Status) bool {
	for _, next := range transitions[from] {
		if next == to {
			return true
		}
	}
	return false
}

// Path returns the statuses a registration passes through to get from one
// status to another by the shortest chain of allowed transitions, excluding
// from and including to, or nil if to cannot be reached. The store uses it to
// apply a central decision that overtook the delivery acknowledgement (for
// example under_review arriving while the kiosk still shows submitted).
func Path(from, to Status) []Status {
	if from == to {
		return nil
	}
	prev := map[Status]Status{from: from}
	queue := []Status{from}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for _, n := range transitions[s] {
			if _, seen := prev[n]; seen {
				continue
			}
			prev[n] = s
			if n == to {
				var path []Status
				for c := to; c != from; c = prev[c] {
					path = append([]Status{c}, path...)
				}
				return path
			}
			queue = append(queue, n)
		}
	}
	return nil
}
