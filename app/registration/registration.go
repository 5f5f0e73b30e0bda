// Package registration is the kiosk's model of a candidate's application:
// its fields, the one place each field is validated (refusals as codes), the 18-digit GB 11643 ID number rules and the status
// lifecycle. It converts to and from the wire format; it knows nothing of
// storage.
package registration

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"examkiosk/device/face/calib"
	"examkiosk/exam"
	"examkiosk/sync/wire"
)

// IdentitySource says how the candidate's identity was established
// (package exam).
type IdentitySource = exam.IdentitySource

// Identity sources (package exam).
const (
	SourceAlipayQR          = exam.SourceAlipayQR
	SourceSocialSecurityQR  = exam.SourceSocialSecurityQR
	SourceAccount           = exam.SourceAccount
	SourceOfflineUnverified = exam.SourceOfflineUnverified
)

// Education is the highest completed education level.
type Education string

// Education levels, in the order forms list them.
const (
	EducationSecondary Education = "secondary" // 高中/中专
	EducationAssociate Education = "associate" // 大专
	EducationBachelor  Education = "bachelor"  // 本科
	EducationMaster    Education = "master"    // 硕士研究生
	EducationDoctorate Education = "doctorate" // 博士研究生
)

// EducationLevels lists the accepted education levels in the order forms
// list them (their words are the UI's: education.<value>).
func EducationLevels() []Education {
	return []Education{EducationSecondary, EducationAssociate, EducationBachelor, EducationMaster, EducationDoctorate}
}

// DescriptorLen is the length of one face descriptor of dlib's ResNet, the
// model of registrations that name no DescriptorModel (made before the
// kiosk recorded it).
const DescriptorLen = 128

// MinDescriptorLen and MaxDescriptorLen bound the length of a descriptor of
// a named DescriptorModel (MobileFaceNet 192, ArcFace-style 512).
const (
	MinDescriptorLen = 64
	MaxDescriptorLen = 1024
)

// Registration is one candidate's application for one exam position, as the
// kiosk keeps it. Revision counts submissions: 1 at first, +1 per resubmission
// after a rejection. Photo and Descriptors are personal data that the store
// purges some days after delivery (PurgedAt then records when).
type Registration struct {
	ID             string      `json:"id"`
	Revision       int         `json:"revision"`
	Name           string      `json:"name"`
	IDNumber       string      `json:"id_number"`
	Phone          string      `json:"phone"`
	Education      Education   `json:"education"`
	Major          string      `json:"major"`
	GraduationYear int         `json:"graduation_year"`
	WorkExperience string      `json:"work_experience"`
	ExamID         string      `json:"exam_id"`
	PositionID     string      `json:"position_id"`
	Photo          []byte      `json:"photo,omitempty"`       // ID photo, JPEG
	Descriptors    [][]float32 `json:"descriptors,omitempty"` // live-face descriptors
	// DescriptorModel is the recognition model (file name) that made
	// Descriptors; empty means dlib's ResNet. Descriptors of different
	// models are never compared.
	DescriptorModel string         `json:"descriptor_model,omitempty"`
	FaceDistance    float64        `json:"face_distance"` // live face vs ID photo
	LivenessPassed  bool           `json:"liveness_passed"`
	IdentitySource  IdentitySource `json:"identity_source"`
	DeviceID        string         `json:"device_id"`

	Status      Status    `json:"status"`
	Reason      string    `json:"reason,omitempty"`      // rejection reason from the central
	PaymentURL  string    `json:"payment_url,omitempty"` // from the central once approved
	PayBy       time.Time `json:"pay_by,omitzero"`
	CreatedAt   time.Time `json:"created_at"`            // first submission
	SubmittedAt time.Time `json:"submitted_at"`          // this revision's submission
	UpdatedAt   time.Time `json:"updated_at"`            // last change of any kind
	DeliveredAt time.Time `json:"delivered_at,omitzero"` // central acknowledged this revision
	PurgedAt    time.Time `json:"purged_at,omitzero"`    // photo and descriptors removed
	Quarantine  string    `json:"quarantine,omitempty"`  // why the central refused the item, for staff

	// Duplicate marks a live face that matched a registration under
	// another ID number (DESIGN: one face, one identity); DuplicateReview
	// is the kiosk staff's decision on it ("" not yet, DuplicateCleared or
	// DuplicateConfirmed), kept on the kiosk: it is not part of the
	// delivered document.
	Duplicate           *wire.DuplicateSuspect `json:"duplicate_suspected,omitempty"`
	DuplicateReview     string                 `json:"duplicate_review,omitempty"`
	DuplicateReviewedAt time.Time              `json:"duplicate_reviewed_at,omitzero"`

	// Ticket is the admission ticket the central issued once paid (seat,
	// time, verification link, the approved photo); the kiosk prints it.
	Ticket *wire.Ticket `json:"ticket,omitempty"`
}

// Staff decisions on a "duplicate suspected" registration.
const (
	DuplicateCleared   = "cleared"   // two different people
	DuplicateConfirmed = "confirmed" // one person under two ID numbers
)

// Limits bounds the size of fields. The zero value is not useful; start from
// DefaultLimits.
type Limits struct {
	MaxPhotoBytes       int `toml:"max_photo_bytes"`       // ID photo JPEG size
	MaxNameRunes        int `toml:"max_name_runes"`        // candidate name
	MaxMajorRunes       int `toml:"max_major_runes"`       // major
	MaxWorkRunes        int `toml:"max_work_runes"`        // work experience
	MaxDescriptors      int `toml:"max_descriptors"`       // live-face descriptors kept
	MinGraduationYear   int `toml:"min_graduation_year"`   // earliest graduation year accepted
	GraduationYearAhead int `toml:"graduation_year_ahead"` // years after this one accepted (expected graduates)
}

// DefaultLimits returns the limits used unless configured otherwise.
func DefaultLimits() Limits {
	return Limits{
		MaxPhotoBytes:       1 << 20,
		MaxNameRunes:        50,
		MaxMajorRunes:       60,
		MaxWorkRunes:        2000,
		MaxDescriptors:      8,
		MinGraduationYear:   1950,
		GraduationYearAhead: 1,
	}
}

// Validate checks the limits themselves; errors name the key.
func (l Limits) Validate() error {
	for _, c := range []struct {
		key       string
		v, lo, hi int
	}{
		{"max_photo_bytes", l.MaxPhotoBytes, 20 << 10, 16 << 20},
		{"max_name_runes", l.MaxNameRunes, 2, 200},
		{"max_major_runes", l.MaxMajorRunes, 1, 500},
		{"max_work_runes", l.MaxWorkRunes, 0, 20000},
		{"max_descriptors", l.MaxDescriptors, 1, 64},
		{"min_graduation_year", l.MinGraduationYear, 1900, 2100},
		{"graduation_year_ahead", l.GraduationYearAhead, 0, 10},
	} {
		if c.v < c.lo || c.v > c.hi {
			return fmt.Errorf("%s = %d: expected an integer from %d to %d", c.key, c.v, c.lo, c.hi)
		}
	}
	return nil
}

// Normalize trims surrounding white space from the text fields, upper-cases
// the ID number's check character and removes spaces and dashes typed into
// the phone number. Validate expects a normalized registration.
func (r *Registration) Normalize() {
	r.Name = strings.TrimSpace(r.Name)
	r.IDNumber = strings.ToUpper(strings.TrimSpace(r.IDNumber))
	r.Phone = strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(r.Phone))
	r.Phone = strings.TrimPrefix(r.Phone, "+86")
	r.Major = strings.TrimSpace(r.Major)
	r.WorkExperience = strings.TrimSpace(strings.ReplaceAll(r.WorkExperience, "\r\n", "\n"))
	r.ExamID = strings.TrimSpace(r.ExamID)
	r.PositionID = strings.TrimSpace(r.PositionID)
	r.DeviceID = strings.TrimSpace(r.DeviceID)
}

// IDInfo returns what the ID number encodes (birth date, sex, region).
func (r *Registration) IDInfo(today time.Time) (IDInfo, error) {
	return ParseIDNumber(r.IDNumber, today)
}

var mobileRE = regexp.MustCompile(`^1[3-9][0-9]{9}$`)

// Validate checks every candidate-supplied and captured field of r against
// the limits and the catalog, as of now, and returns a *ValidationError
// listing every refused field, or nil. It does not check ID, Revision, Status
// or timestamps (the store assigns those) nor duplicates (the store knows
// them). cat may be nil only if no catalog exists yet, which is refused.
func (r *Registration) Validate(now time.Time, cat *wire.Catalog, lim Limits) error {
	var errs []*FieldError
	add := func(field, code, arg string) {
		errs = append(errs, &FieldError{Field: field, Code: code, Arg: arg})
	}
	// Name: letters, marks, the middle dots of minority and foreign names, spaces.
	if fe := checkText(FieldName, r.Name, true, 2, lim.MaxNameRunes, false); fe != nil {
		errs = append(errs, fe)
	} else if strings.IndexFunc(r.Name, func(c rune) bool {
		return !unicode.IsLetter(c) && !unicode.Is(unicode.Mn, c) && c != '·' && c != '•' && c != ' '
	}) >= 0 {
		add(FieldName, CodeBadChars, "")
	}
	info, err := ParseIDNumber(r.IDNumber, now)
	if err != nil {
		errs = append(errs, err.(*FieldError))
	}
	switch {
	case r.Phone == "":
		add(FieldPhone, CodeRequired, "")
	case !mobileRE.MatchString(r.Phone):
		add(FieldPhone, CodePhoneFormat, "")
	}
	if r.Education == "" {
		add(FieldEducation, CodeRequired, "")
	} else if !knownEducation(r.Education) {
		add(FieldEducation, CodeUnknownValue, clip(string(r.Education)))
	}
	if fe := checkText(FieldMajor, r.Major, true, 1, lim.MaxMajorRunes, false); fe != nil {
		errs = append(errs, fe)
	}
	lo, hi := lim.MinGraduationYear, now.Year()+lim.GraduationYearAhead
	if err == nil && info.BirthDate.Year()+14 > lo {
		lo = info.BirthDate.Year() + 14
	}
	if r.GraduationYear == 0 {
		add(FieldGraduationYear, CodeRequired, "")
	} else if r.GraduationYear < lo || r.GraduationYear > hi {
		add(FieldGraduationYear, CodeYearRange, fmt.Sprintf("%d–%d", lo, hi))
	}
	if fe := checkText(FieldWorkExperience, r.WorkExperience, false, 0, lim.MaxWorkRunes, true); fe != nil {
		errs = append(errs, fe)
	}
	errs = append(errs, checkCatalog(r.ExamID, r.PositionID, now, cat)...)
	switch {
	case len(r.Photo) == 0:
		add(FieldPhoto, CodeRequired, "")
	case len(r.Photo) > lim.MaxPhotoBytes:
		add(FieldPhoto, CodeTooLong, fmt.Sprintf("%d KB", lim.MaxPhotoBytes>>10))
	default:
		// The notice's photo rules, as the central checks them (package exam).
		if pr := exam.CheckPhotoFile(r.Photo, 0); pr != nil {
			switch pr.Code {
			case exam.PhotoNotJPEG:
				add(FieldPhoto, CodeNotJPEG, "")
			case exam.PhotoFileSmall:
				add(FieldPhoto, CodePhotoFileSmall, pr.Limit)
			default:
				add(FieldPhoto, CodePhotoSize, pr.Got)
			}
		}
	}
	if len(r.Descriptors) > lim.MaxDescriptors {
		add(FieldDescriptors, CodeTooLong, strconv.Itoa(lim.MaxDescriptors))
	} else {
		want := DescriptorLen
		if r.DescriptorModel != "" && len(r.Descriptors) > 0 {
			want = len(r.Descriptors[0])
		}
		if len(r.DescriptorModel) > 100 || strings.ContainsAny(r.DescriptorModel, "/\\") {
			add(FieldDescriptors, CodeBadNumber, "")
		}
		for _, d := range r.Descriptors {
			if len(d) != want || len(d) < MinDescriptorLen || len(d) > MaxDescriptorLen || !finite32(d) {
				add(FieldDescriptors, CodeBadNumber, "")
				break
			}
		}
	}
	if math.IsNaN(r.FaceDistance) || math.IsInf(r.FaceDistance, 0) || r.FaceDistance < 0 {
		add(FieldFaceDistance, CodeBadNumber, "")
	}
	switch {
	case r.IdentitySource.Valid():
	case r.IdentitySource == "":
		add(FieldIdentitySource, CodeRequired, "")
	default:
		add(FieldIdentitySource, CodeUnknownValue, clip(string(r.IdentitySource)))
	}
	if fe := checkText(FieldDeviceID, r.DeviceID, true, 1, 64, false); fe != nil {
		errs = append(errs, fe)
	}
	if len(errs) == 0 {
		return nil
	}
	return &ValidationError{Fields: errs}
}

func checkCatalog(examID, positionID string, now time.Time, cat *wire.Catalog) []*FieldError {
	if examID == "" {
		return []*FieldError{{Field: FieldExamID, Code: CodeRequired}}
	}
	if cat == nil {
		return []*FieldError{{Field: FieldExamID, Code: CodeNoCatalog}}
	}
	for _, e := range cat.Exams {
		if e.ID != examID {
			continue
		}
		var errs []*FieldError
		if (!e.RegisterFrom.IsZero() && now.Before(e.RegisterFrom)) ||
			(!e.RegisterUntil.IsZero() && !now.Before(e.RegisterUntil)) {
			errs = append(errs, &FieldError{Field: FieldExamID, Code: CodeExamClosed,
				Arg: e.RegisterFrom.Format("2006-01-02 15:04") + " – " + e.RegisterUntil.Format("2006-01-02 15:04")})
		}
		if positionID == "" {
			return append(errs, &FieldError{Field: FieldPositionID, Code: CodeRequired})
		}
		for _, p := range e.Positions {
			if p.ID == positionID {
				return errs
			}
		}
		return append(errs, &FieldError{Field: FieldPositionID, Code: CodeUnknownPos, Arg: clip(positionID)})
	}
	return []*FieldError{{Field: FieldExamID, Code: CodeUnknownExam, Arg: clip(examID)}}
}

// checkText checks that s is valid UTF-8 without control characters (a
// newline is allowed when multiline) and within min..max runes.
func checkText(field, s string, required bool, min, max int, multiline bool) *FieldError {
	if s == "" {
		if required {
			return &FieldError{Field: field, Code: CodeRequired}
		}
		return nil
	}
	if !utf8.ValidString(s) {
		return &FieldError{Field: field, Code: CodeInvalidUTF8}
	}
	// Too long first: an oversize field is refused without scanning it all.
	n := utf8.RuneCountInString(s)
	if n > max {
		return &FieldError{Field: field, Code: CodeTooLong, Arg: strconv.Itoa(max)}
	}
	if n < min {
		return &FieldError{Field: field, Code: CodeTooShort, Arg: strconv.Itoa(min)}
	}
	for _, c := range s {
		if c == '\n' && multiline {
			continue
		}
		// Cc (C0, DEL, C1) and the format characters that can hide or
		// reorder text (bidi overrides, zero-width).
		if unicode.IsControl(c) || unicode.Is(unicode.Cf, c) || c == '\u2028' || c == '\u2029' {
			return &FieldError{Field: field, Code: CodeControlChars}
		}
	}
	return nil
}

func knownEducation(e Education) bool {
	return slices.Contains(EducationLevels(), e)
}

func finite32(v []float32) bool {
	for _, f := range v {
		if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
			return false
		}
	}
	return true
}

// clip shortens a value echoed in an error message.
func clip(s string) string {
	s = strings.ToValidUTF8(s, "?")
	s = strings.Map(func(c rune) rune {
		if unicode.IsControl(c) || unicode.Is(unicode.Cf, c) {
			return '?'
		}
		return c
	}, s)
	if utf8.RuneCountInString(s) > 40 {
		s = string([]rune(s)[:40]) + "…"
	}
	return s
}

// Wire converts r to the form that travels to the central system. Photo is
// shared, not copied.
func (r *Registration) Wire() wire.Registration {
	return wire.Registration{
		ID:             r.ID,
		Revision:       r.Revision,
		DeviceID:       r.DeviceID,
		Name:           r.Name,
		IDNumber:       r.IDNumber,
		Phone:          r.Phone,
		Education:      string(r.Education),
		Major:          r.Major,
		GraduationYear: r.GraduationYear,
		WorkExperience: r.WorkExperience,
		ExamID:         r.ExamID,
		PositionID:     r.PositionID,
		IdentitySource: string(r.IdentitySource),
		Photo:          r.Photo,
		FaceDistance:   r.FaceDistance,
		LivenessPassed: r.LivenessPassed,
		SubmittedAt:    r.SubmittedAt,
		Duplicate:      r.Duplicate,
		Face:           r.wireFace(),
	}
}

// wireFace is the live-face descriptor (the first kept) with its model,
// for the central's cross-kiosk duplicate search; nil when none is kept.
func (r *Registration) wireFace() *wire.FaceDescriptor {
	if len(r.Descriptors) == 0 {
		return nil
	}
	model := r.DescriptorModel
	if model == "" {
		model = calib.Dlib // made before the kiosk recorded the model
	}
	m, _ := calib.Lookup(model) // a model without calibration travels without its kind
	return &wire.FaceDescriptor{Model: model, Kind: m.Kind, Vec: r.Descriptors[0]}
}

// FromWire converts a received wire registration to the model, with status
// submitted (or resubmitted for revisions after the first). The central uses
// it to validate what it ingests with the same rules as the kiosk.
func FromWire(w wire.Registration) Registration {
	st := StatusSubmitted
	if w.Revision > 1 {
		st = StatusResubmitted
	}
	return Registration{
		ID:             w.ID,
		Revision:       w.Revision,
		Name:           w.Name,
		IDNumber:       w.IDNumber,
		Phone:          w.Phone,
		Education:      Education(w.Education),
		Major:          w.Major,
		GraduationYear: w.GraduationYear,
		WorkExperience: w.WorkExperience,
		ExamID:         w.ExamID,
		PositionID:     w.PositionID,
		Photo:          w.Photo,
		FaceDistance:   w.FaceDistance,
		LivenessPassed: w.LivenessPassed,
		IdentitySource: IdentitySource(w.IdentitySource),
		DeviceID:       w.DeviceID,
		Status:         st,
		SubmittedAt:    w.SubmittedAt,
		Duplicate:      w.Duplicate,
	}
}
