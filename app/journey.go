package app

import (
	"fmt"
	"time"

	"examkiosk/app/registration"
	"examkiosk/device/face"
	"examkiosk/sync/wire"
)

// Step is where a candidate is in the journey at the kiosk.
type Step string

// The journey's steps (../shared/DESIGN.md, "Users and their journeys").
const (
	StepWelcome Step = "welcome" // attract screen, open exams, device status
	StepLogin   Step = "login"   // QR login (Alipay / social-security card) or offline entry
	// StepPassword follows a confirmed QR login: the verified candidate may
	// set (or, having forgotten it, reset) the password of their account
	// for later account logins, or skip it.
	StepPassword Step = "password"
	StepStatus   Step = "status"  // a returning candidate's registrations
	StepFace     Step = "face"    // live face guidance and liveness challenge
	StepPhoto    Step = "photo"   // the ID photo made from the live face, compared with it
	StepForm     Step = "form"    // the application form
	StepReview   Step = "review"  // everything once more before submitting
	StepReceipt  Step = "receipt" // submitted: receipt with a status QR
)

// journeyEdges are the only moves between steps; every step may also go
// back to the welcome screen (log out, idle timeout).
var journeyEdges = map[Step][]Step{
	StepWelcome:  {StepLogin},
	StepLogin:    {StepPassword, StepFace, StepStatus},
	StepPassword: {StepFace, StepStatus},
	StepStatus:   {StepFace},
	StepFace:     {StepPhoto},
	StepPhoto:    {StepFace, StepForm},
	StepForm:     {StepReview},
	StepReview:   {StepForm, StepReceipt},
	StepReceipt:  {StepStatus},
}

// Candidate is the person logged in at the kiosk.
type Candidate struct {
	Name     string                      `json:"name"`
	IDNumber string                      `json:"-"` // never sent to the UI whole
	Masked   string                      `json:"idMasked"`
	Source   registration.IdentitySource `json:"source"`
	Birth    string                      `json:"birth"` // YYYY-MM-DD, derived from the ID number
	Sex      registration.Sex            `json:"sex"`
}

// FaceOutcome is what the face step established.
type FaceOutcome struct {
	LivenessPassed  bool
	Descriptors     [][]float32 // best live frames
	DescriptorModel string      // the recognition model that made them
	Photo           []byte      // ID photo JPEG made from the live face
	Distance        float64     // live face vs ID photo
	Threshold       float64
	PhotoOK         bool           // the photo meets the exam's spec
	Match           bool           // photo to spec and the same person as the live face
	Problems        []face.Problem // what the photo or the comparison failed
	// Duplicate is set when the live face matched a registration under
	// another ID number: the registration is submitted marked for staff.
	Duplicate *wire.DuplicateSuspect
}

// Journey is one candidate's session at the kiosk, from login to receipt.
// It holds personal data only in memory and forgets it at Reset.
type Journey struct {
	step       Step
	candidate  *Candidate
	face       *FaceOutcome
	form       *registration.Registration // the application being filled in
	resubmit   string                     // registration id when this is a resubmission
	receipt    *registration.Registration
	lastActive time.Time
	// passwordTicket is the central's single-use right, handed out with a
	// confirmed QR login, to set this candidate's account password. It
	// lives only here: never stored, logged or sent to the UI, and gone
	// with the session (Reset) or once the password step is left.
	passwordTicket string
}

// Step returns the current step.
func (j *Journey) Step() Step {
	if j.step == "" {
		return StepWelcome
	}
	return j.step
}

// Reset forgets the candidate and returns to the welcome screen.
func (j *Journey) Reset() { *j = Journey{step: StepWelcome} }

// Touch records activity at now (for the idle timeout).
func (j *Journey) Touch(now time.Time) { j.lastActive = now }

// Idle reports whether the journey has had no activity for longer than d
// while away from the welcome screen.
func (j *Journey) Idle(now time.Time, d time.Duration) bool {
	return j.Step() != StepWelcome && !j.lastActive.IsZero() && now.Sub(j.lastActive) > d
}

// StepError refuses a move the journey does not allow.
type StepError struct {
	From, To Step
	Why      string
}

func (e *StepError) Error() string {
	return fmt.Sprintf("journey: cannot go from %s to %s: %s", e.From, e.To, e.Why)
}

// Go moves to step to, checking that the move is allowed and that what the
// next step needs is there: a candidate for face and status, a passed
// liveness check and a matching ID photo for the form, a complete form for
// the review, a stored registration for the receipt.
func (j *Journey) Go(to Step) error {
	from := j.Step()
	if to == StepWelcome {
		j.Reset()
		return nil
	}
	allowed := false
	for _, s := range journeyEdges[from] {
		if s == to {
			allowed = true
		}
	}
	if !allowed {
		return &StepError{from, to, "not a step of the journey"}
	}
	need := func(ok bool, why string) error {
		if !ok {
			return &StepError{from, to, why}
		}
		return nil
	}
	var err error
	switch to {
	case StepFace, StepStatus:
		err = need(j.candidate != nil, "nobody is logged in")
	case StepPassword:
		err = need(j.candidate != nil && j.passwordTicket != "", "no verified identity to set a password for")
	case StepPhoto:
		err = need(j.face != nil && j.face.LivenessPassed && len(j.face.Descriptors) > 0, "the live face check has not passed")
	case StepForm:
		err = need(j.face != nil && j.face.Match && len(j.face.Photo) > 0, "no ID photo matching the live face")
	case StepReview:
		err = need(j.form != nil, "the form is empty")
	case StepReceipt:
		err = need(j.receipt != nil, "nothing was submitted")
	}
	if err != nil {
		return err
	}
	if to == StepFace {
		j.face = nil // every face check starts afresh
	}
	if from == StepPassword {
		j.passwordTicket = "" // the step is left: set, skipped or refused
	}
	j.step = to
	return nil
}
