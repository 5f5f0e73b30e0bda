package registration

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"strings"
	"testing"
	"time"

	"examkiosk/idnumber"
	"examkiosk/sync/wire"
)

var today = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// withCheck appends the correct check digit to 17 digits.
func withCheck(t *testing.T, first17 string) string {
	t.Helper()
	c, ok := CheckDigit(first17)
	if !ok {
		t.Fatalf("CheckDigit(%q) not ok", first17)
	}
	return first17 + string(c)
}

func TestCheckDigitKnown(t *testing.T) {
	// Published GB 11643 examples.
	for _, id := range []string{"11010519491231002X", "440524188001010014", "110101199003074477"} {
		c, ok := CheckDigit(id[:17])
		if !ok || c != id[17] {
			t.Errorf("CheckDigit(%s) = %c, %v; want %c", id[:17], c, ok, id[17])
		}
	}
}

func TestParseIDNumber(t *testing.T) {
	tests := []struct {
		name, id string
		code     string
		birth    string
		sex      Sex
		province string
	}{
		{"female X", "11010519491231002X", "", "1949-12-31", Female, "北京"},
		{"male", "440524188001010014", "id_birth_date", "", "", ""}, // 1880 is before 1900
		{"male 1990", "110101199003074477", "", "1990-03-07", Male, "北京"},
		{"guangdong", withCheck(t, "44030519850229101"), "id_birth_date", "", "", ""}, // 1985 not a leap year
		{"leap day", withCheck(t, "44030519840229101"), "", "1984-02-29", Male, "广东"},
		{"hk permit", withCheck(t, "81000019950101002"), "", "1995-01-01", Female, "香港"},
		{"bad check", "110105194912310021", "id_check_digit", "", "", ""},
		{"empty", "", "required", "", "", ""},
		{"short", "11010519491231002", "id_length", "", "", ""},
		{"long", "11010519491231002X1", "id_length", "", "", ""},
		{"letter", "1101051949123100AX", "id_format", "", "", ""},
		{"lower x", "11010519491231002x", "id_format", "", "", ""},
		{"fullwidth", "１１０１０５１９４９１２３１００２Ｘ", "id_length", "", "", ""},
		{"region 00", withCheck(t, "00010519491231002"), "id_region", "", "", ""},
		{"region 99", withCheck(t, "99010519491231002"), "id_region", "", "", ""},
		{"region 24", withCheck(t, "24010519491231002"), "id_region", "", "", ""},
		{"month 13", withCheck(t, "11010519491331002"), "id_birth_date", "", "", ""},
		{"day 00", withCheck(t, "11010519491200002"), "id_birth_date", "", "", ""},
		{"future", withCheck(t, "11010520261127002"), "id_birth_future", "", "", ""},
		{"today", withCheck(t, "11010520261126002"), "", "2026-11-26", Female, "北京"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := ParseIDNumber(tt.id, today)
			if tt.code != "" {
				var fe *FieldError
				if !errors.As(err, &fe) || fe.Code != tt.code || fe.Field != FieldIDNumber {
					t.Fatalf("ParseIDNumber(%q) error = %v; want code %s", tt.id, err, tt.code)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseIDNumber(%q): %v", tt.id, err)
			}
			if got := info.BirthDate.Format("2006-01-02"); got != tt.birth {
				t.Errorf("birth = %s; want %s", got, tt.birth)
			}
			if info.Sex != tt.sex || info.Province != tt.province || info.Region != tt.id[:6] {
				t.Errorf("info = %+v; want sex %s province %s", info, tt.sex, tt.province)
			}
		})
	}
}

func jpegBytes(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 7), uint8(y * 3), uint8(x ^ y), 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// padJPEG pads a JPEG with a comment segment to exactly size bytes.
func padJPEG(t testing.TB, b []byte, size int) []byte {
	t.Helper()
	pad := size - len(b) - 4
	if pad < 0 {
		t.Fatalf("JPEG of %d bytes is larger than %d", len(b), size)
	}
	com := append([]byte{0xFF, 0xFE, byte((pad + 2) >> 8), byte(pad + 2)}, make([]byte, pad)...)
	return append(append(append([]byte{}, b[:2]...), com...), b[2:]...)
}

func testCatalog() *wire.Catalog {
	return &wire.Catalog{Version: 3, Exams: []wire.Exam{
		{ID: "E2026", Name: "2026 事业单位", RegisterFrom: today.AddDate(0, 0, -10), RegisterUntil: today.AddDate(0, 0, 10),
			Positions: []wire.Position{{ID: "P01", Name: "文秘"}, {ID: "P02", Name: "会计"}}},
		{ID: "OLD", Name: "closed", RegisterFrom: today.AddDate(-1, 0, 0), RegisterUntil: today.AddDate(0, 0, -1),
			Positions: []wire.Position{{ID: "P01"}}},
	}}
}

func validReg(t testing.TB) Registration {
	desc := make([]float32, DescriptorLen)
	for i := range desc {
		desc[i] = float32(i) / 1000
	}
	return Registration{
		Name: "张三", IDNumber: "110101199003074477", Phone: "13812345678",
		Education: EducationBachelor, Major: "汉语言文学", GraduationYear: 2012,
		WorkExperience: "2012–2020 某公司\n2020– 某单位", ExamID: "E2026", PositionID: "P01",
		Photo: jpegBytes(t, 300, 420), Descriptors: [][]float32{desc}, FaceDistance: 0.31,
		LivenessPassed: true, IdentitySource: SourceAlipayQR, DeviceID: "kiosk-01",
	}
}

func TestValidate(t *testing.T) {
	lim := DefaultLimits()
	tests := []struct {
		name  string
		edit  func(r *Registration)
		field string
		code  string
	}{
		{"valid", func(r *Registration) {}, "", ""},
		{"minority name", func(r *Registration) { r.Name = "阿依古丽·买买提" }, "", ""},
		{"no work experience", func(r *Registration) { r.WorkExperience = "" }, "", ""},
		{"name empty", func(r *Registration) { r.Name = "" }, FieldName, CodeRequired},
		{"name one rune", func(r *Registration) { r.Name = "张" }, FieldName, CodeTooShort},
		{"name too long", func(r *Registration) { r.Name = strings.Repeat("张", 51) }, FieldName, CodeTooLong},
		{"name digits", func(r *Registration) { r.Name = "张3" }, FieldName, CodeBadChars},
		{"name bad utf8", func(r *Registration) { r.Name = "张\xff三" }, FieldName, CodeInvalidUTF8},
		{"name control", func(r *Registration) { r.Name = "张\x00三" }, FieldName, CodeControlChars},
		{"name bidi", func(r *Registration) { r.Name = "张\u202e三" }, FieldName, CodeControlChars},
		{"id check", func(r *Registration) { r.IDNumber = "110101199003074478" }, FieldIDNumber, CodeIDCheckDigit},
		{"phone empty", func(r *Registration) { r.Phone = "" }, FieldPhone, CodeRequired},
		{"phone landline", func(r *Registration) { r.Phone = "02112345678" }, FieldPhone, CodePhoneFormat},
		{"phone short", func(r *Registration) { r.Phone = "1381234567" }, FieldPhone, CodePhoneFormat},
		{"education unknown", func(r *Registration) { r.Education = "phd" }, FieldEducation, CodeUnknownValue},
		{"major empty", func(r *Registration) { r.Major = "" }, FieldMajor, CodeRequired},
		{"major newline", func(r *Registration) { r.Major = "a\nb" }, FieldMajor, CodeControlChars},
		{"major too long", func(r *Registration) { r.Major = strings.Repeat("x", 61) }, FieldMajor, CodeTooLong},
		{"graduation before birth", func(r *Registration) { r.GraduationYear = 1995 }, FieldGraduationYear, CodeYearRange},
		{"graduation future", func(r *Registration) { r.GraduationYear = 2030 }, FieldGraduationYear, CodeYearRange},
		{"graduation missing", func(r *Registration) { r.GraduationYear = 0 }, FieldGraduationYear, CodeRequired},
		{"work tab", func(r *Registration) { r.WorkExperience = "a\tb" }, FieldWorkExperience, CodeControlChars},
		{"work too long", func(r *Registration) { r.WorkExperience = strings.Repeat("工", 2001) }, FieldWorkExperience, CodeTooLong},
		{"exam missing", func(r *Registration) { r.ExamID = "" }, FieldExamID, CodeRequired},
		{"exam unknown", func(r *Registration) { r.ExamID = "E1999" }, FieldExamID, CodeUnknownExam},
		{"exam closed", func(r *Registration) { r.ExamID = "OLD" }, FieldExamID, CodeExamClosed},
		{"position unknown", func(r *Registration) { r.PositionID = "P99" }, FieldPositionID, CodeUnknownPos},
		{"position missing", func(r *Registration) { r.PositionID = "" }, FieldPositionID, CodeRequired},
		{"photo missing", func(r *Registration) { r.Photo = nil }, FieldPhoto, CodeRequired},
		{"photo png", func(r *Registration) { r.Photo = []byte("\x89PNG\r\n\x1a\n....") }, FieldPhoto, CodeNotJPEG},
		{"photo huge", func(r *Registration) { r.Photo = make([]byte, lim.MaxPhotoBytes+1) }, FieldPhoto, CodeTooLong},
		// The central refuses 20,480 bytes ("more than 20 KB"): so does the kiosk.
		{"photo 20 KB", func(r *Registration) { r.Photo = padJPEG(t, jpegBytes(t, 200, 280), 20480) }, FieldPhoto, CodePhotoFileSmall},
		{"photo narrow", func(r *Registration) { r.Photo = padJPEG(t, jpegBytes(t, 299, 420), 30000) }, FieldPhoto, CodePhotoSize},
		{"descriptor short", func(r *Registration) { r.Descriptors = [][]float32{{1, 2}} }, FieldDescriptors, CodeBadNumber},
		{"descriptor sizes differ", func(r *Registration) { r.Descriptors = append(r.Descriptors, make([]float32, 192)) }, FieldDescriptors, CodeBadNumber},
		{"descriptor nan", func(r *Registration) { r.Descriptors[0][5] = float32(math.NaN()) }, FieldDescriptors, CodeBadNumber},
		{"descriptor of a named model", func(r *Registration) {
			r.DescriptorModel, r.Descriptors = "mobilefacenet.onnx", [][]float32{make([]float32, 192), make([]float32, 192)}
		}, "", ""},
		{"descriptors of two sizes", func(r *Registration) {
			r.DescriptorModel, r.Descriptors = "mobilefacenet.onnx", [][]float32{make([]float32, 192), make([]float32, 128)}
		}, FieldDescriptors, CodeBadNumber},
		{"descriptor model with a path", func(r *Registration) {
			r.DescriptorModel, r.Descriptors = "../x.onnx", [][]float32{make([]float32, 192)}
		}, FieldDescriptors, CodeBadNumber},
		{"descriptors many", func(r *Registration) {
			r.Descriptors = make([][]float32, 9)
		}, FieldDescriptors, CodeTooLong},
		{"distance nan", func(r *Registration) { r.FaceDistance = math.NaN() }, FieldFaceDistance, CodeBadNumber},
		{"source unknown", func(r *Registration) { r.IdentitySource = "wechat" }, FieldIdentitySource, CodeUnknownValue},
		{"device missing", func(r *Registration) { r.DeviceID = "" }, FieldDeviceID, CodeRequired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validReg(t)
			tt.edit(&r)
			err := r.Validate(today, testCatalog(), lim)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Validate = %v; want *ValidationError", err)
			}
			if len(ve.Fields) != 1 || ve.Fields[0].Field != tt.field || ve.Fields[0].Code != tt.code {
				t.Fatalf("Validate = %v; want only %s/%s", err, tt.field, tt.code)
			}
		})
	}
}

func TestValidateNoCatalog(t *testing.T) {
	r := validReg(t)
	err := r.Validate(today, nil, DefaultLimits())
	if !errors.Is(err, ErrNoCatalog) {
		t.Fatalf("Validate(nil catalog) = %v; want ErrNoCatalog", err)
	}
}

func TestValidateListsAllFields(t *testing.T) {
	var r Registration
	err := r.Validate(today, testCatalog(), DefaultLimits())
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Validate(empty) = %v", err)
	}
	got := map[string]bool{}
	for _, f := range ve.Fields {
		got[f.Field] = true
	}
	for _, f := range []string{FieldName, FieldIDNumber, FieldPhone, FieldEducation, FieldMajor,
		FieldGraduationYear, FieldExamID, FieldPhoto, FieldIdentitySource, FieldDeviceID} {
		if !got[f] {
			t.Errorf("field %s not refused in %v", f, err)
		}
	}
}

func TestNormalize(t *testing.T) {
	r := Registration{Name: "  张三 ", IDNumber: " 11010519491231002x", Phone: "+86 138-1234-5678", WorkExperience: "a\r\nb\n"}
	r.Normalize()
	if r.Name != "张三" || r.IDNumber != "11010519491231002X" || r.Phone != "13812345678" || r.WorkExperience != "a\nb" {
		t.Fatalf("Normalize = %+v", r)
	}
}

func TestFieldErrorIs(t *testing.T) {
	err := error(Refuse(FieldExamID, CodeDuplicate, ""))
	if !errors.Is(err, ErrDuplicate) || errors.Is(err, ErrBadTransition) {
		t.Errorf("errors.Is on %v wrong", err)
	}
}

func TestTransition(t *testing.T) {
	tests := []struct {
		from, to Status
		ok       bool
	}{
		{StatusSubmitted, StatusDelivered, true},
		{StatusSubmitted, StatusApproved, false},
		{StatusDelivered, StatusUnderReview, true},
		{StatusUnderReview, StatusApproved, true},
		{StatusUnderReview, StatusRejected, true},
		{StatusRejected, StatusResubmitted, true},
		{StatusResubmitted, StatusDelivered, true},
		{StatusApproved, StatusPaid, true},
		{StatusApproved, StatusRejected, false},
		{StatusPaid, StatusExpired, false},
		{StatusExpired, StatusSubmitted, false},
		{StatusWithdrawn, StatusDelivered, false},
		{StatusDelivered, StatusDelivered, false},
		{"bogus", StatusDelivered, false},
	}
	for _, tt := range tests {
		err := Transition(tt.from, tt.to)
		if (err == nil) != tt.ok {
			t.Errorf("Transition(%s, %s) = %v; want ok=%v", tt.from, tt.to, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrBadTransition) {
			t.Errorf("Transition error %v is not ErrBadTransition", err)
		}
	}
	if !StatusPaid.Final() || StatusRejected.Final() || !StatusResubmitted.Queued() {
		t.Error("Final/Queued wrong")
	}
}

func TestPath(t *testing.T) {
	tests := []struct {
		from, to Status
		want     string
	}{
		{StatusSubmitted, StatusUnderReview, "delivered,under_review"},
		{StatusSubmitted, StatusPaid, "delivered,approved,paid"},
		{StatusResubmitted, StatusRejected, "delivered,rejected"},
		{StatusDelivered, StatusApproved, "approved"},
		{StatusPaid, StatusApproved, ""},
		{StatusApproved, StatusApproved, ""},
	}
	for _, tt := range tests {
		var got []string
		for _, s := range Path(tt.from, tt.to) {
			got = append(got, string(s))
		}
		if strings.Join(got, ",") != tt.want {
			t.Errorf("Path(%s, %s) = %v; want %s", tt.from, tt.to, got, tt.want)
		}
	}
}

func TestWireRoundTrip(t *testing.T) {
	r := validReg(t)
	r.ID, r.Revision, r.SubmittedAt = "0192", 2, today
	w := r.Wire()
	if w.Name != r.Name || w.IDNumber != r.IDNumber || w.Education != "bachelor" || w.Revision != 2 || !bytes.Equal(w.Photo, r.Photo) {
		t.Fatalf("Wire = %+v", w)
	}
	back := FromWire(w)
	if back.Status != StatusResubmitted || back.Name != r.Name || back.IdentitySource != r.IdentitySource || back.Descriptors != nil {
		t.Fatalf("FromWire = %+v", back)
	}
}

// FuzzParseIDNumber checks the wrapper, not the rule (idnumber.FuzzParse
// checks the rule against an independent MOD 11-2 oracle): ParseIDNumber
// accepts exactly what idnumber.Parse accepts, with the same information,
// and refuses with an id_number FieldError carrying the code of
// idnumber's reason.
func FuzzParseIDNumber(f *testing.F) {
	for _, s := range []string{"11010519491231002X", "110101199003074477", "", "99999999999999999X"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		info, err := ParseIDNumber(s, today)
		want, werr := idnumber.Parse(s, today)
		if err == nil {
			if werr != nil || info != want {
				t.Fatalf("ParseIDNumber(%q) = %+v; idnumber.Parse = %+v, %v", s, info, want, werr)
			}
			return
		}
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != FieldIDNumber || werr == nil {
			t.Fatalf("ParseIDNumber(%q) = %v; want an id_number FieldError (idnumber.Parse: %v)", s, err, werr)
		}
		for _, c := range idCodes {
			if errors.Is(werr, c.err) && fe.Code != c.code {
				t.Fatalf("ParseIDNumber(%q) code %s; idnumber says %v (code %s)", s, fe.Code, werr, c.code)
			}
		}
	})
}
