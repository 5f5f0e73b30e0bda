// Package wire holds the types that travel between a kiosk and the central
// registration system, and the small contracts the kiosk-side sync code needs
// from local storage. It imports nothing from app/: app/store implements the
// interfaces declared here and app/ wires the two together.
package wire

import (
	"context"
	"time"
)

// Registration is one revision of a candidate's application as it travels to
// the central system. The kiosk's own model (package app) converts to and
// from it; the central ingests it.
type Registration struct {
	ID             string    `json:"id"`       // time-ordered (UUIDv7), stable across revisions
	Revision       int       `json:"revision"` // 1 for the first submission, +1 per resubmission
	DeviceID       string    `json:"device_id"`
	Name           string    `json:"name"`
	IDNumber       string    `json:"id_number"` // 18-digit GB 11643
	Phone          string    `json:"phone"`
	Education      string    `json:"education"`
	Major          string    `json:"major"`
	GraduationYear int       `json:"graduation_year"`
	WorkExperience string    `json:"work_experience"`
	ExamID         string    `json:"exam_id"`
	PositionID     string    `json:"position_id"`
	IdentitySource string    `json:"identity_source"` // alipay_qr, social_security_qr, account, offline_unverified
	Photo          []byte    `json:"photo"`           // ID photo, JPEG
	FaceDistance   float64   `json:"face_distance"`   // live face vs ID photo, as measured on the kiosk
	LivenessPassed bool      `json:"liveness_passed"`
	SubmittedAt    time.Time `json:"submitted_at"`
	// Duplicate is set when the candidate's live face matched a
	// registration kept under another ID number (one face, one identity):
	// the registration is submitted all the same, for staff and reviewers
	// to decide.
	Duplicate *DuplicateSuspect `json:"duplicate_suspected,omitempty"`
	// Face is the candidate's live-face descriptor with the model that
	// made it: the central searches it among every kiosk's registrations
	// for the same face under another ID number. Absent from kiosks that
	// kept none (or from before this field).
	Face *FaceDescriptor `json:"face,omitempty"`
}

// FaceDescriptor is a face descriptor as it travels: the recognition
// model's id (its file name), its kind ("dlib", "mobilefacenet",
// "arcface512") and the vector. Descriptors of different models are never
// compared.
type FaceDescriptor struct {
	Model string    `json:"model"`
	Kind  string    `json:"kind"`
	Vec   []float32 `json:"vec"`
}

// DuplicateSuspect is the "duplicate suspected" mark of a registration, as
// the kiosk measured it at submission: the registration under another ID
// number whose live face matched, and how close. (A kiosk staff member's
// later decision stays on the kiosk, audited: a delivered revision's
// document never changes.)
type DuplicateSuspect struct {
	RegistrationID string  `json:"registration_id"` // the matched registration
	Distance       float64 `json:"distance"`        // live face to live face
	Threshold      float64 `json:"threshold"`       // the 1:N threshold of the search
	Model          string  `json:"model"`           // the recognition model that measured it
}

// OutboxItem is one registration revision waiting for delivery.
type OutboxItem struct {
	Seq          uint64 // kiosk-local FIFO sequence
	ID           string // registration id
	Revision     int
	CandidateKey string // items with the same key are delivered in Seq order
	Doc          []byte // JSON encoding of Registration (plaintext; sync seals it for the central)
}

// Result is the central's answer for one pushed item.
type Result struct {
	ID       string `json:"id"`
	Revision int    `json:"revision"`
	Status   string `json:"status"` // accepted, duplicate, rejected
	Reason   string `json:"reason,omitempty"`
}

// Item result statuses.
const (
	StatusAccepted  = "accepted"
	StatusDuplicate = "duplicate"
	StatusRejected  = "rejected"
)

// Update is a status change decided by the central (review or payment).
type Update struct {
	RegistrationID string    `json:"registration_id"`
	Revision       int       `json:"revision"`
	Status         string    `json:"status"` // under_review, approved, rejected, paid, expired
	Reason         string    `json:"reason,omitempty"`
	PaymentURL     string    `json:"payment_url,omitempty"`
	PayBy          time.Time `json:"pay_by,omitzero"`
	At             time.Time `json:"at"`
	// Ticket is the admission ticket of a paid registration, once the
	// central assigned its seat (an update with status paid).
	Ticket *Ticket `json:"ticket,omitempty"`
}

// Ticket is an admission ticket (准考证): where and when the candidate sits
// the exam. The central assigns it once the exam's ticket window opens and
// the registration is paid; it never changes afterwards.
type Ticket struct {
	Number       string    `json:"number"` // 准考证号, unique within the exam
	ExamID       string    `json:"exam_id"`
	ExamName     string    `json:"exam_name"`
	PositionID   string    `json:"position_id"`
	PositionName string    `json:"position_name"`
	SiteName     string    `json:"site_name"`
	SiteAddress  string    `json:"site_address,omitempty"`
	Room         string    `json:"room"`
	Seat         int       `json:"seat"`
	StartsAt     time.Time `json:"starts_at"`
	EndsAt       time.Time `json:"ends_at"`
	IssuedAt     time.Time `json:"issued_at"`
	// VerifyURL is what the ticket's QR code holds: the central's
	// verification page for this ticket, carrying the central's Ed25519
	// signature of the ticket (sync/PROTOCOL.md, "Admission tickets").
	VerifyURL string `json:"verify_url"`
	// Photo is the ID photo of the approved revision (JPEG), as the
	// central holds it: the kiosk may have purged its own copy by now.
	Photo []byte `json:"photo,omitempty"`
}

// Position is a post that candidates can apply for within an exam.
type Position struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Employer string `json:"employer,omitempty"`
	Quota    int    `json:"quota,omitempty"`
}

// Exam is an exam open for registration.
type Exam struct {
	ID            string     `json:"id"`
	Name          string     `json:"name"`
	RegisterFrom  time.Time  `json:"register_from"`
	RegisterUntil time.Time  `json:"register_until"`
	PayUntil      time.Time  `json:"pay_until"`
	FeeCents      int        `json:"fee_cents"`
	Positions     []Position `json:"positions"`
}

// Catalog is the set of exams and positions the kiosk offers.
type Catalog struct {
	Version int64  `json:"version"`
	Exams   []Exam `json:"exams"`
}

// Pull is what one pull returns: updates and, when changed, the catalog,
// plus the cursor to ask from next time.
type Pull struct {
	Updates []Update `json:"updates"`
	Catalog *Catalog `json:"catalog,omitempty"`
	Cursor  string   `json:"cursor"`
	// More is true when the central holds further updates after Cursor;
	// the kiosk pulls again at once.
	More bool `json:"more,omitempty"`
}

// Outbox is the kiosk's queue of registrations to deliver. Implemented by
// app/store.
type Outbox interface {
	// Pending returns up to limit items, oldest first, whose Doc sizes add
	// up to at most maxBytes (always at least one item if any is pending).
	// Quarantined items are not returned.
	Pending(ctx context.Context, limit, maxBytes int) ([]OutboxItem, error)
	// Ack records the central's answers in one transaction: accepted and
	// duplicate items are marked delivered and leave the outbox; rejected
	// items are quarantined with their reason for staff.
	Ack(ctx context.Context, results []Result) error
	// Depth reports how many items are queued and how many are quarantined.
	Depth(ctx context.Context) (queued, quarantined int, err error)
}

// Sink takes what the kiosk pulls from the central. Implemented by app/store.
type Sink interface {
	// PullCursor returns the cursor saved by the last ApplyPull ("" at first).
	PullCursor(ctx context.Context) (string, error)
	// ApplyPull applies updates and catalog and saves the cursor, atomically.
	ApplyPull(ctx context.Context, p Pull) error
}
