package app

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"examkiosk/app/registration"
	"examkiosk/app/store"
	"examkiosk/device/face"
	"examkiosk/exam"
	"examkiosk/sync/kiosk"
	"examkiosk/sync/wire"
)

// JourneyView is what the UI shows of the candidate's session.
type JourneyView struct {
	Step          Step               `json:"step"`
	Candidate     *Candidate         `json:"candidate,omitempty"`
	Photo         string             `json:"photo,omitempty"` // data: URL of the accepted ID photo
	Distance      float64            `json:"distance,omitempty"`
	Threshold     float64            `json:"threshold,omitempty"`
	PhotoOK       bool               `json:"photoOk"`
	Match         bool               `json:"match"`
	Problems      []face.Problem     `json:"problems"`
	Form          *ApplicationForm   `json:"form,omitempty"`
	Receipt       *RegistrationView  `json:"receipt,omitempty"`
	Registrations []RegistrationView `json:"registrations"`
	ResubmitOf    string             `json:"resubmitOf,omitempty"`
	// CanSetPassword: on the password step, the session holds a ticket the
	// central has not refused yet (the ticket itself never leaves Go).
	CanSetPassword bool `json:"canSetPassword"`
}

// ApplicationForm is what the candidate types on the form screen.
type ApplicationForm struct {
	Phone          string `json:"phone"`
	Education      string `json:"education"`
	Major          string `json:"major"`
	GraduationYear int    `json:"graduationYear"`
	WorkExperience string `json:"workExperience"`
	ExamID         string `json:"examId"`
	PositionID     string `json:"positionId"`
}

// RegistrationView is a registration as the candidate sees it.
type RegistrationView struct {
	ID          string    `json:"id"`
	Revision    int       `json:"revision"`
	Exam        string    `json:"exam"`
	Position    string    `json:"position"`
	Status      string    `json:"status"`
	Reason      string    `json:"reason,omitempty"`
	PaymentURL  string    `json:"paymentUrl,omitempty"`
	PaymentQR   string    `json:"paymentQr,omitempty"` // data: URL of the payment link's QR code
	PayBy       time.Time `json:"payBy"`
	SubmittedAt time.Time `json:"submittedAt"`
	Delivered   bool      `json:"delivered"`
	ReviewBy    time.Time `json:"reviewBy,omitzero"` // when the review is due (12 working hours after delivery)
	ReceiptQR   string    `json:"receiptQr"`         // data: URL of a QR code of the registration number
	// Ticket is the admission ticket once the central issued it (admission.go).
	Ticket *TicketView `json:"ticket,omitempty"`
}

// Journey returns the candidate's session as the UI shows it.
func (a *JourneyService) Journey() JourneyView {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.viewLocked()
}

func (a *core) viewLocked() JourneyView {
	j := &a.journey
	v := JourneyView{Step: j.Step(), Candidate: j.candidate, Registrations: []RegistrationView{}, ResubmitOf: j.resubmit, Problems: []face.Problem{},
		CanSetPassword: j.Step() == StepPassword && j.passwordTicket != ""}
	if j.face != nil && len(j.face.Photo) > 0 {
		v.Photo = "data:image/jpeg;base64," + base64.StdEncoding.EncodeToString(j.face.Photo)
		v.Distance, v.Threshold = j.face.Distance, j.face.Threshold
		v.PhotoOK, v.Match = j.face.PhotoOK, j.face.Match
		if j.face.Problems != nil {
			v.Problems = j.face.Problems
		}
	}
	if j.form != nil {
		f := formOf(j.form)
		v.Form = &f
	}
	cat, _ := a.opts.Store.Catalog(a.ctx)
	if j.receipt != nil {
		r := viewOf(*j.receipt, cat, a.opts.Config.Review)
		v.Receipt = &r
	}
	if j.candidate != nil {
		regs, err := a.opts.Store.ListByCandidate(a.ctx, j.candidate.IDNumber)
		if err != nil {
			a.log.Warn("list registrations", "err", err)
		}
		for _, r := range regs {
			v.Registrations = append(v.Registrations, viewOf(r, cat, a.opts.Config.Review))
		}
	}
	return v
}

// Begin leaves the welcome screen for the login screen.
func (a *JourneyService) Begin() (JourneyView, error) { return a.step(StepLogin) }

// Logout forgets the candidate and returns to the welcome screen.
func (a *JourneyService) Logout() JourneyView {
	a.CancelFaceCheck()
	a.mu.Lock()
	defer a.mu.Unlock()
	a.login = nil
	a.journey.Reset()
	return a.viewLocked()
}

// RetakeFace goes back from the photo to the live face step.
func (a *JourneyService) RetakeFace() (JourneyView, error) { return a.step(StepFace) }

// AcceptPhoto accepts the ID photo and opens the form.
func (a *JourneyService) AcceptPhoto() (JourneyView, error) { return a.step(StepForm) }

// EditForm goes back from the review to the form.
func (a *JourneyService) EditForm() (JourneyView, error) { return a.step(StepForm) }

// ShowStatus shows the candidate's registrations (after a receipt).
func (a *JourneyService) ShowStatus() (JourneyView, error) { return a.step(StepStatus) }

// NewApplication starts another application from the status screen.
func (a *JourneyService) NewApplication() (JourneyView, error) {
	a.mu.Lock()
	a.journey.resubmit = ""
	a.journey.form = nil
	a.mu.Unlock()
	return a.step(StepFace)
}

// ChangePosition starts a new revision of a rejected registration for
// another position of the same exam (the notice allows it before the
// deadline): the form opens with the position to choose again.
func (a *JourneyService) ChangePosition(id string) (JourneyView, error) {
	return a.reopen(id, true)
}

// Resubmit starts a new revision of a rejected registration.
func (a *JourneyService) Resubmit(id string) (JourneyView, error) {
	return a.reopen(id, false)
}

// reopen takes a rejected registration back into the form, for a fixed
// resubmission or, with otherPosition, for another position.
func (a *JourneyService) reopen(id string, otherPosition bool) (JourneyView, error) {
	a.mu.Lock()
	j := &a.journey
	if j.candidate == nil {
		a.mu.Unlock()
		return a.Journey(), refuse("login_first")
	}
	reg, err := a.opts.Store.Get(a.ctx, id)
	if err != nil || reg.IDNumber != j.candidate.IDNumber {
		a.mu.Unlock()
		return a.Journey(), refuse("registration_not_found")
	}
	if reg.Status != registration.StatusRejected {
		a.mu.Unlock()
		return a.Journey(), refuse("only_rejected_change")
	}
	if otherPosition {
		reg.PositionID = ""
	}
	j.resubmit = id
	j.form = &reg
	a.mu.Unlock()
	return a.step(StepFace)
}

func (a *core) step(to Step) (JourneyView, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.journey.Touch(a.opts.Now())
	if err := a.journey.Go(to); err != nil {
		return a.viewLocked(), err
	}
	return a.viewLocked(), nil
}

// login establishes the candidate and moves on: to the password step when
// a QR login handed out a password ticket, else onward (onwardLocked).
func (a *core) loginLocked(c Candidate, passwordTicket string) error {
	info, err := registration.ParseIDNumber(c.IDNumber, a.opts.Now())
	if err != nil {
		return err // a *registration.FieldError: FormatError sends its code
	}
	c.Masked = maskID(c.IDNumber)
	c.Birth = info.BirthDate.Format("2006-01-02")
	c.Sex = info.Sex
	a.journey.candidate = &c
	a.journey.Touch(a.opts.Now())
	if passwordTicket != "" {
		a.journey.passwordTicket = passwordTicket
		return a.journey.Go(StepPassword)
	}
	return a.onwardLocked()
}

// onwardLocked moves a logged-in candidate on: to the status screen when
// they have registrations here, else to the face step.
func (a *core) onwardLocked() error {
	regs, err := a.opts.Store.ListByCandidate(a.ctx, a.journey.candidate.IDNumber)
	if err != nil {
		return fmt.Errorf("list registrations: %w", err)
	}
	if len(regs) > 0 {
		return a.journey.Go(StepStatus)
	}
	return a.journey.Go(StepFace)
}

// OfflineLogin logs in with a typed name and ID number when no QR login is
// possible (no connection to the central). The registration is marked
// offline_unverified and the central verifies the identity later.
func (a *JourneyService) OfflineLogin(name, idNumber string) (JourneyView, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.journey.Step() != StepLogin {
		return a.viewLocked(), refuse("start_from_welcome")
	}
	r := registration.Registration{Name: name, IDNumber: idNumber}
	r.Normalize()
	if len([]rune(r.Name)) < 2 {
		return a.viewLocked(), refuse("name_as_on_id")
	}
	err := a.loginLocked(Candidate{Name: r.Name, IDNumber: r.IDNumber, Source: registration.SourceOfflineUnverified}, "")
	return a.viewLocked(), err
}

// QRLogin is a QR login session as the login screen shows it.
type QRLogin struct {
	ID        string    `json:"id"`
	Channel   string    `json:"channel"`
	URL       string    `json:"url"`
	Image     string    `json:"image"` // data: URL of the QR code PNG
	State     string    `json:"state"` // waiting, scanned, confirmed, expired
	ExpiresAt time.Time `json:"expiresAt"`
}

type loginRun struct {
	id, state string
}

// StartQRLogin asks the central for a login session on channel (alipay or
// social_security) and returns its QR code.
func (a *JourneyService) StartQRLogin(channel string) (QRLogin, error) {
	a.mu.Lock()
	ctx, step := a.ctx, a.journey.Step()
	a.mu.Unlock()
	if step != StepLogin {
		return QRLogin{}, refuse("start_from_welcome")
	}
	if a.sync.Load() == nil {
		return QRLogin{}, refuse("not_enrolled_qr")
	}
	s, err := a.sync.Load().StartQRLogin(ctx, channel)
	if err != nil {
		return QRLogin{}, refuse("central_unreachable_qr").because(err)
	}
	if a.opts.Demo {
		// No phone in the demo: the link plays its part in any browser.
		a.log.Info("demo: to log in, open the phone's page of this QR code in a browser", "url", s.URL)
	}
	img := qrDataURL(s.URL)
	if img == "" {
		return QRLogin{}, fmt.Errorf("draw QR code for %s", s.URL)
	}
	a.mu.Lock()
	a.login = &loginRun{id: s.ID, state: s.State}
	a.mu.Unlock()
	return QRLogin{ID: s.ID, Channel: s.Channel, URL: s.URL, State: s.State, ExpiresAt: s.ExpiresAt,
		Image: img}, nil
}

// PollQRLogin waits (long poll) for the session to change. When the phone
// confirms, the candidate is logged in and the journey moves on: to the
// password step when the central handed out a password ticket.
func (a *JourneyService) PollQRLogin(id string) (QRLogin, error) {
	a.mu.Lock()
	ctx, run := a.ctx, a.login
	a.mu.Unlock()
	if run == nil || run.id != id || a.sync.Load() == nil {
		return QRLogin{}, refuse("qr_invalid")
	}
	s, err := a.sync.Load().PollQRLogin(ctx, id, run.state)
	if err != nil {
		return QRLogin{}, refuse("central_unreachable").because(err)
	}
	out := QRLogin{ID: s.ID, Channel: s.Channel, URL: s.URL, State: s.State, ExpiresAt: s.ExpiresAt}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.login != run {
		return out, refuse("login_cancelled")
	}
	run.state = s.State
	if s.State == "confirmed" && s.Identity != nil {
		a.login = nil
		src := registration.IdentitySource(s.Identity.Source)
		if err := a.loginLocked(Candidate{Name: s.Identity.Name, IDNumber: s.Identity.IDNumber, Source: src}, s.PasswordTicket); err != nil {
			return out, err
		}
	}
	return out, nil
}

// FormOptions are the choices of the application form.
type FormOptions struct {
	Exams     []wire.Exam              `json:"exams"`
	Education []registration.Education `json:"education"`
	YearFrom  int                      `json:"yearFrom"`
	YearTo    int                      `json:"yearTo"`
}

// FormOptions returns the open exams with their positions and the
// education levels.
func (a *JourneyService) FormOptions() (FormOptions, error) {
	cat, err := a.opts.Store.Catalog(a.context())
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return FormOptions{}, fmt.Errorf("read exam catalog: %w", err)
	}
	now := a.opts.Now()
	lim := a.opts.Config.Store.Limits
	o := FormOptions{Exams: []wire.Exam{}, Education: registration.EducationLevels(), YearFrom: lim.MinGraduationYear, YearTo: now.Year() + lim.GraduationYearAhead}
	for _, e := range cat.Exams {
		if !now.Before(e.RegisterFrom) && now.Before(e.RegisterUntil) {
			o.Exams = append(o.Exams, e)
		}
	}
	return o, nil
}

// SaveForm checks the form with the registration rules and, when every
// field is right, moves to the review. A refusal lists every wrong field.
func (a *JourneyService) SaveForm(f ApplicationForm) (JourneyView, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	j := &a.journey
	if j.Step() != StepForm || j.candidate == nil || j.face == nil {
		return a.viewLocked(), refuse("steps_in_order")
	}
	reg := a.draftLocked(f)
	cat, err := a.opts.Store.Catalog(a.ctx)
	var catp *wire.Catalog
	if err == nil {
		catp = &cat
	}
	if err := reg.Validate(a.opts.Now(), catp, a.opts.Config.Store.Limits); err != nil {
		return a.viewLocked(), err // a *registration.ValidationError: FormatError lists the fields
	}
	j.form = &reg
	j.Touch(a.opts.Now())
	if err := j.Go(StepReview); err != nil {
		return a.viewLocked(), err
	}
	return a.viewLocked(), nil
}

// Submit stores the reviewed application (durably, before it returns) and
// queues it for delivery to the central.
func (a *JourneyService) Submit() (JourneyView, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	j := &a.journey
	if j.Step() != StepReview || j.form == nil {
		return a.viewLocked(), refuse("review_first")
	}
	reg := *j.form
	var saved registration.Registration
	var err error
	if j.resubmit != "" {
		reg.ID = j.resubmit
		saved, err = a.opts.Store.Resubmit(a.ctx, reg)
	} else {
		saved, err = a.opts.Store.Submit(a.ctx, reg)
	}
	if err != nil {
		var ve *registration.ValidationError
		if errors.As(err, &ve) {
			return a.viewLocked(), err // a *registration.ValidationError: FormatError lists the fields
		}
		a.log.Error("submit", "err", err)
		return a.viewLocked(), refuse("save_failed").because(err)
	}
	a.log.Info("registration submitted", "id", saved.ID, "revision", saved.Revision)
	j.receipt = &saved
	j.form = nil
	j.resubmit = ""
	j.face = nil
	if err := j.Go(StepReceipt); err != nil {
		return a.viewLocked(), err
	}
	if a.sync.Load() != nil {
		a.sync.Load().SyncNow()
	}
	return a.viewLocked(), nil
}

// draftLocked builds the registration from the session and the form.
func (a *core) draftLocked(f ApplicationForm) registration.Registration {
	j := &a.journey
	reg := registration.Registration{
		Name: j.candidate.Name, IDNumber: j.candidate.IDNumber, IdentitySource: j.candidate.Source,
		Phone: f.Phone, Education: registration.Education(f.Education), Major: f.Major,
		GraduationYear: f.GraduationYear, WorkExperience: f.WorkExperience, ExamID: f.ExamID, PositionID: f.PositionID,
		Photo: j.face.Photo, Descriptors: j.face.Descriptors, DescriptorModel: j.face.DescriptorModel, FaceDistance: j.face.Distance,
		LivenessPassed: j.face.LivenessPassed, DeviceID: a.deviceID(), Duplicate: j.face.Duplicate,
	}
	reg.Normalize()
	return reg
}

func (a *core) deviceID() string {
	id, err := a.opts.Store.Identity(a.ctx)
	if err != nil || id.DeviceID == "" {
		return "unenrolled"
	}
	return id.DeviceID
}

func formOf(r *registration.Registration) ApplicationForm {
	return ApplicationForm{Phone: r.Phone, Education: string(r.Education), Major: r.Major, GraduationYear: r.GraduationYear,
		WorkExperience: r.WorkExperience, ExamID: r.ExamID, PositionID: r.PositionID}
}

func viewOf(r registration.Registration, cat wire.Catalog, review exam.ReviewHours) RegistrationView {
	v := RegistrationView{ID: r.ID, Revision: r.Revision, Exam: r.ExamID, Position: r.PositionID, Status: string(r.Status),
		Reason: r.Reason, PaymentURL: r.PaymentURL, PayBy: r.PayBy, SubmittedAt: r.SubmittedAt, Delivered: !r.DeliveredAt.IsZero()}
	v.ReceiptQR = qrDataURL(receiptCode(r))
	v.Ticket = ticketViewOf(r)
	if !r.DeliveredAt.IsZero() && (r.Status == registration.StatusDelivered || r.Status == registration.StatusUnderReview) {
		v.ReviewBy = review.Due(r.DeliveredAt.Local())
	}
	if r.PaymentURL != "" && r.Status == registration.StatusApproved {
		v.PaymentQR = qrDataURL(r.PaymentURL)
	}
	for _, e := range cat.Exams {
		if e.ID != r.ExamID {
			continue
		}
		v.Exam = e.Name
		for _, p := range e.Positions {
			if p.ID == r.PositionID {
				v.Position = p.Name
			}
		}
	}
	return v
}

// receiptCode is what the receipt's QR code holds: the registration number
// and revision, as staff and the central look registrations up.
func receiptCode(r registration.Registration) string {
	return fmt.Sprintf("EXAMKIOSK:%s:%d", r.ID, r.Revision)
}

// qrDataURL draws content as a QR code PNG data: URL ("" if it cannot).
func qrDataURL(content string) string {
	png, err := kiosk.QRCodePNG(content, 320)
	if err != nil {
		return ""
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)
}

// maskID shows the first 3 and the last 4 characters of an ID number.
func maskID(s string) string {
	if len(s) < 8 {
		return strings.Repeat("*", len(s))
	}
	return s[:3] + strings.Repeat("*", len(s)-7) + s[len(s)-4:]
}
