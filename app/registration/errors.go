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

var fieldLabels = map[string][2]string{
	FieldID:             {"登记编号", "registration id"},
	FieldRevision:       {"版本", "revision"},
	FieldName:           {"姓名", "name"},
	FieldIDNumber:       {"身份证号", "ID number"},
	FieldPhone:          {"手机号", "mobile phone"},
	FieldEducation:      {"学历", "education"},
	FieldMajor:          {"专业", "major"},
	FieldGraduationYear: {"毕业年份", "graduation year"},
	FieldWorkExperience: {"工作经历", "work experience"},
	FieldExamID:         {"考试", "exam"},
	FieldPositionID:     {"岗位", "position"},
	FieldPhoto:          {"证件照", "ID photo"},
	FieldDescriptors:    {"人脸特征", "face descriptors"},
	FieldFaceDistance:   {"人脸比对结果", "face comparison"},
	FieldIdentitySource: {"身份来源", "identity source"},
	FieldDeviceID:       {"设备编号", "device id"},
	FieldStatus:         {"状态", "status"},
}

// messages holds, per code, the zh-CN and en text; {field} is the field label
// and {arg} the FieldError's Arg.
var messages = map[string][2]string{
	CodeRequired:       {"请填写{field}", "{field} is required; please fill it in"},
	CodeTooLong:        {"{field}过长，最多 {arg}，请删减后重试", "{field} is too long (at most {arg}); please shorten it"},
	CodeTooShort:       {"{field}过短，至少 {arg}，请补充完整", "{field} is too short (at least {arg}); please complete it"},
	CodeInvalidUTF8:    {"{field}含有无法识别的字符，请重新输入", "{field} contains invalid UTF-8; please type it again"},
	CodeControlChars:   {"{field}含有控制字符，请删除后重新输入", "{field} contains control characters; please remove them"},
	CodeBadChars:       {"{field}只能包含文字、间隔号“·”和空格，请核对", "{field} may contain only letters, the middle dot \"·\" and spaces; please check it"},
	CodeIDLength:       {"身份证号应为 18 位，请核对后重新输入", "the ID number must have 18 characters; please check it"},
	CodeIDFormat:       {"身份证号前 17 位应为数字，末位为数字或 X，请核对", "the ID number must be 17 digits followed by a digit or X; please check it"},
	CodeIDRegion:       {"身份证号前两位不是有效的省级行政区代码，请核对", "the first two digits of the ID number are not a valid province code; please check it"},
	CodeIDBirthDate:    {"身份证号中的出生日期无效，请核对", "the birth date in the ID number is not a valid date; please check it"},
	CodeIDBirthFuture:  {"身份证号中的出生日期晚于今天，请核对", "the birth date in the ID number is in the future; please check it"},
	CodeIDCheckDigit:   {"身份证号校验位不正确，请逐位核对后重新输入", "the ID number's check digit is wrong; please check every digit and type it again"},
	CodePhoneFormat:    {"手机号应为 11 位中国大陆手机号码，请核对", "the mobile phone must be an 11-digit mainland China mobile number; please check it"},
	CodeUnknownValue:   {"{field}的取值“{arg}”无效，请从列表中选择", "{field} value \"{arg}\" is not allowed; please choose one from the list"},
	CodeYearRange:      {"{field}应在 {arg} 之间，请核对", "{field} must be between {arg}; please check it"},
	CodeNoCatalog:      {"本机尚未取得考试目录，请联系工作人员同步后再报名", "this kiosk has no exam catalog yet; please ask the staff to sync, then register"},
	CodeUnknownExam:    {"所选考试“{arg}”不存在或已下线，请重新选择", "the exam \"{arg}\" does not exist or was withdrawn; please choose again"},
	CodeUnknownPos:     {"所选岗位“{arg}”不属于该考试，请重新选择", "the position \"{arg}\" is not part of this exam; please choose again"},
	CodeExamClosed:     {"该考试当前不在报名时间内（{arg}），请选择其他考试", "registration for this exam is not open now ({arg}); please choose another exam"},
	CodeNotJPEG:        {"证件照不是有效的 JPEG 图片，请重新拍摄", "the ID photo is not a valid JPEG; please take it again"},
	CodePhotoFileSmall: {"证件照文件须大于 20 KB（{arg} 字节），请重新拍摄", "the ID photo file must be larger than 20 KB ({arg} bytes); please take it again"},
	CodePhotoSize:      {"证件照尺寸（{arg}）小于 300×420 像素，请重新拍摄", "the ID photo ({arg}) is smaller than 300×420 pixels; please take it again"},
	CodeBadNumber:      {"{field}数据无效，请重新采集", "{field} holds an invalid value; please capture it again"},
	CodeDuplicate:      {"该考生已报名此考试，不能重复报名；如被退回请修改后重新提交", "this candidate has already registered for this exam; if it was rejected, edit and resubmit it instead"},
	CodeBadTransition:  {"当前状态不允许此操作（{arg}）", "this action is not allowed in the current state ({arg})"},
	CodeMismatch:       {"{field}与原报名不一致，请核对", "{field} differs from the original registration; please check it"},
}

// FieldError is one refusal of one field, with its text in Chinese and
// English. errors.Is matches it against another *FieldError with the same
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

// Message returns the text for lang: "en" for English, anything else for
// Chinese (zh-CN).
func (e *FieldError) Message(lang string) string {
	i := 0
	if strings.HasPrefix(lang, "en") {
		i = 1
	}
	label := e.Field
	if l, ok := fieldLabels[e.Field]; ok {
		label = l[i]
	}
	m, ok := messages[e.Code]
	if !ok {
		return label + ": " + e.Code
	}
	return strings.NewReplacer("{field}", label, "{arg}", e.Arg).Replace(m[i])
}

// Error returns the field name, then the Chinese and the English text.
func (e *FieldError) Error() string {
	return e.Field + ": " + e.Message("zh-CN") + " / " + e.Message("en")
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

// Messages returns one line per refused field in lang ("en" or zh-CN).
func (e *ValidationError) Messages(lang string) []string {
	out := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		out[i] = f.Message(lang)
	}
	return out
}

// Refuse returns a *ValidationError holding one field error; the store uses
// it for refusals it decides itself (duplicates, unknown records).
func Refuse(field, code, arg string) *ValidationError {
	return &ValidationError{Fields: []*FieldError{{Field: field, Code: code, Arg: arg}}}
}
