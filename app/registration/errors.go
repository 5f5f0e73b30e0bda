package registration

import "strings"

// Field names as used in errors, JSON and the wire format.
const (
	FieldID             = "id"
	FieldRevision       = "revision"
	FieldName           = "name"
	FieldIDNumber       = "id_number"
	FieldPhone          = "phone"
	FieldEducation      = "education"
	FieldMajor          = "major"
	FieldGraduationYear = "graduation_year"
	FieldWorkExperience = "work_experience"
	FieldExamID         = "exam_id"
	FieldPositionID     = "position_id"
	FieldPhoto          = "photo"
	FieldDescriptors    = "descriptors"
	FieldFaceDistance   = "face_distance"
	FieldIdentitySource = "identity_source"
	FieldDeviceID       = "device_id"
	FieldStatus         = "status"
)

// Error codes of a FieldError. They are stable and meant for the UI and logs.
const (
	CodeRequired      = "required"
	CodeTooLong       = "too_long"
	CodeTooShort      = "too_short"
	CodeInvalidUTF8   = "invalid_utf8"
	CodeControlChars  = "control_chars"
	CodeBadChars      = "bad_chars"
	CodeIDLength      = "id_length"
	CodeIDFormat      = "id_format"
	CodeIDRegion      = "id_region"
	CodeIDBirthDate   = "id_birth_date"
	CodeIDBirthFuture = "id_birth_future"
	CodeIDCheckDigit  = "id_check_digit"
	CodePhoneFormat   = "phone_format"
	CodeUnknownValue  = "unknown_value"
	CodeYearRange     = "year_range"
	CodeNoCatalog     = "no_catalog"
	CodeUnknownExam   = "unknown_exam"
	CodeUnknownPos    = "unknown_position"
	CodeExamClosed    = "exam_closed"
	CodeNotJPEG       = "not_jpeg"
	// CodePhotoFileSmall and CodePhotoSize are the notice's photo rules
	// (exam.CheckPhotoFile): more than 20 KB, at least 300×420 px.
	CodePhotoFileSmall = "photo_file_too_small"
	CodePhotoSize      = "photo_too_small"
	CodeBadNumber      = "bad_number"
	CodeDuplicate      = "duplicate"
	CodeBadTransition  = "bad_transition"
	CodeMismatch       = "mismatch"
)

// FieldError is one refusal of one field: a code, the field and an
// argument. The words a person reads are the UI's (frontend/src/i18n:
// refusal.<code>, field.<field>); Go sends only the code. errors.Is matches it against another *FieldError with the same
// Code (and the same Field, unless the target's Field is empty), so the
// sentinels below work through wrapping.
type FieldError struct {
	Field string `json:"field"`
	Code  string `json:"code"`
	Arg   string `json:"arg,omitempty"`
}

// Sentinels for errors.Is.
var (
	// ErrDuplicate matches a refused second registration of a candidate for an exam.
	ErrDuplicate = &FieldError{Code: CodeDuplicate}
	// ErrBadTransition matches a refused status change.
	ErrBadTransition = &FieldError{Code: CodeBadTransition}
	// ErrNoCatalog matches a submission made before any catalog was stored.
	ErrNoCatalog = &FieldError{Code: CodeNoCatalog}
)

func newFieldError(field, code string) *FieldError {
	return &FieldError{Field: field, Code: code}
}

// Error returns the field, the code and the argument, for logs.
func (e *FieldError) Error() string {
	if e.Arg == "" {
		return e.Field + ": " + e.Code
	}
	return e.Field + ": " + e.Code + " (" + e.Arg + ")"
}

// Is reports whether target is a *FieldError with the same code (and field,
// when the target names one).
func (e *FieldError) Is(target error) bool {
	t, ok := target.(*FieldError)
	if !ok {
		return false
	}
	return t.Code == e.Code && (t.Field == "" || t.Field == e.Field)
}

// ValidationError lists every field refused in one validation.
type ValidationError struct {
	Fields []*FieldError `json:"fields"`
}

// Error joins the field errors.
func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Error()
	}
	return "registration refused: " + strings.Join(parts, "; ")
}

// Unwrap returns the field errors, for errors.Is and errors.As.
func (e *ValidationError) Unwrap() []error {
	errs := make([]error, len(e.Fields))
	for i, f := range e.Fields {
		errs[i] = f
	}
	return errs
}

// Refuse returns a *ValidationError holding one field error; the store uses
// it for refusals it decides itself (duplicates, unknown records).
func Refuse(field, code, arg string) *ValidationError {
	return &ValidationError{Fields: []*FieldError{{Field: field, Code: code, Arg: arg}}}
}
