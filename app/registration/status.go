package registration

import (
	"fmt"

	"examkiosk/exam"
)

// Status is where a registration is in its lifecycle; the statuses and
// their transitions are the protocol's, defined once in package exam.
type Status = exam.Status

// Lifecycle states (package exam).
const (
	StatusSubmitted   = exam.StatusSubmitted
	StatusDelivered   = exam.StatusDelivered
	StatusUnderReview = exam.StatusUnderReview
	StatusApproved    = exam.StatusApproved
	StatusRejected    = exam.StatusRejected
	StatusResubmitted = exam.StatusResubmitted
	StatusPaid        = exam.StatusPaid
	StatusExpired     = exam.StatusExpired
	StatusWithdrawn   = exam.StatusWithdrawn
)

// Transition checks that a registration may move from one status to another.
// The error is a *FieldError matching ErrBadTransition.
func Transition(from, to Status) error {
	if exam.CanMove(from, to) {
		return nil
	}
	return &FieldError{Field: FieldStatus, Code: CodeBadTransition, Arg: fmt.Sprintf("%s → %s", from, to)}
}

// Path returns the shortest chain of allowed transitions from one status to
// another (exam.Path).
func Path(from, to Status) []Status { return exam.Path(from, to) }
