package registration

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestLimitsBounds: every configurable limit accepts the ends of its range
// and refuses one past them, naming its key.
func TestLimitsBounds(t *testing.T) {
	for _, c := range []struct {
		key    string
		set    func(l *Limits, v int)
		lo, hi int
	}{
		{"max_photo_bytes", func(l *Limits, v int) { l.MaxPhotoBytes = v }, 20 << 10, 16 << 20},
		{"max_name_runes", func(l *Limits, v int) { l.MaxNameRunes = v }, 2, 200},
		{"max_major_runes", func(l *Limits, v int) { l.MaxMajorRunes = v }, 1, 500},
		{"max_work_runes", func(l *Limits, v int) { l.MaxWorkRunes = v }, 0, 20000},
		{"max_descriptors", func(l *Limits, v int) { l.MaxDescriptors = v }, 1, 64},
		{"min_graduation_year", func(l *Limits, v int) { l.MinGraduationYear = v }, 1900, 2100},
		{"graduation_year_ahead", func(l *Limits, v int) { l.GraduationYearAhead = v }, 0, 10},
	} {
		for _, v := range []int{c.lo, c.hi} {
			l := DefaultLimits()
			c.set(&l, v)
			if err := l.Validate(); err != nil {
				t.Errorf("%s = %d refused: %v", c.key, v, err)
			}
		}
		for _, v := range []int{c.lo - 1, c.hi + 1} {
			l := DefaultLimits()
			c.set(&l, v)
			err := l.Validate()
			if err == nil || !strings.Contains(err.Error(), c.key) || !strings.Contains(err.Error(), fmt.Sprint(v)) {
				t.Errorf("%s = %d: %v; want a refusal naming the key and value", c.key, v, err)
			}
		}
	}
	if err := DefaultLimits().Validate(); err != nil {
		t.Fatalf("defaults refused: %v", err)
	}
}

// TestGraduationAfterFourteen: the earliest graduation year is the later of
// the configured one and the birth year + 14.
func TestGraduationAfterFourteen(t *testing.T) {
	lim := DefaultLimits() // 1950
	for _, c := range []struct {
		year int
		ok   bool
	}{{2003, false}, {2004, true}, {today.Year() + lim.GraduationYearAhead, true}, {today.Year() + lim.GraduationYearAhead + 1, false}} {
		r := validReg(t) // born 1990
		r.GraduationYear = c.year
		err := r.Validate(today, testCatalog(), lim)
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, &FieldError{Field: FieldGraduationYear, Code: CodeYearRange})) {
			t.Errorf("graduation %d (born 1990): %v; want ok=%v", c.year, err, c.ok)
		}
	}
	lim.MinGraduationYear = 2006 // later than 1990 + 14
	r := validReg(t)
	r.GraduationYear = 2005
	if err := r.Validate(today, testCatalog(), lim); !errors.Is(err, &FieldError{Code: CodeYearRange}) {
		t.Errorf("graduation 2005 with min_graduation_year 2006: %v", err)
	}
}

// TestPhotoSizeBoundary: a JPEG of exactly max_photo_bytes is taken, one
// byte more is refused.
func TestPhotoSizeBoundary(t *testing.T) {
	base := validReg(t).Photo
	lim := DefaultLimits()
	lim.MaxPhotoBytes = max(20<<10, len(base)+4096)
	for _, c := range []struct {
		n  int
		ok bool
	}{{lim.MaxPhotoBytes, true}, {lim.MaxPhotoBytes + 1, false}} {
		r := validReg(t)
		r.Photo = append(append([]byte(nil), base...), make([]byte, c.n-len(base))...) // trailing bytes after EOI
		err := r.Validate(today, testCatalog(), lim)
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, &FieldError{Field: FieldPhoto, Code: CodeTooLong})) {
			t.Errorf("photo of %d bytes (max %d): %v; want ok=%v", c.n, lim.MaxPhotoBytes, err, c.ok)
		}
	}
}

// TestErrorTexts: what staff read in logs names the field of each refusal,
// and errors.Is reaches every field error through a ValidationError.
func TestErrorTexts(t *testing.T) {
	fe := &FieldError{Field: FieldMajor, Code: CodeRequired}
	unknown := &FieldError{Field: "shoe_size", Code: "too_big"}
	for _, e := range []*FieldError{fe, unknown} {
		if !strings.HasPrefix(e.Error(), e.Field+": ") || len(e.Error()) <= len(e.Field)+2 {
			t.Errorf("FieldError.Error() = %q; want the field, then what is wrong", e.Error())
		}
	}
	ve := &ValidationError{Fields: []*FieldError{fe, unknown}}
	if got := ve.Error(); got != "registration refused: "+fe.Error()+"; "+unknown.Error() {
		t.Errorf("ValidationError.Error() = %q", got)
	}
	if !errors.Is(ve, &FieldError{Code: "too_big"}) || errors.Is(ve, &FieldError{Field: "name", Code: CodeRequired}) {
		t.Error("errors.Is through ValidationError broken")
	}
}

// TestClipEchoedValues: a value echoed in a refusal is cut to 40 runes, with
// control and format characters replaced.
func TestClipEchoedValues(t *testing.T) {
	long := strings.Repeat("长", 41)
	if got := clip(long); got != strings.Repeat("长", 40)+"…" {
		t.Errorf("clip(41 runes) = %q", got)
	}
	if got := clip(strings.Repeat("长", 40)); got != strings.Repeat("长", 40) {
		t.Errorf("clip(40 runes) = %q", got)
	}
	if got := clip("a\x00b\u202ec\xff"); got != "a?b?c?" {
		t.Errorf("clip(controls) = %q", got)
	}
	r := validReg(t)
	r.ExamID = strings.Repeat("X", 100)
	var ve *ValidationError
	if err := r.Validate(today, testCatalog(), DefaultLimits()); !errors.As(err, &ve) || utf8.RuneCountInString(ve.Fields[0].Arg) != 41 {
		t.Errorf("unknown exam echo: %v", err)
	}
}

// TestNameBadCharAnywhere: a character a name may not hold is refused at
// its first, middle and last position.
func TestNameBadCharAnywhere(t *testing.T) {
	for _, name := range []string{"3张三", "张3三", "张三3", "@张三", "张三!"} {
		r := validReg(t)
		r.Name = name
		if err := r.Validate(today, testCatalog(), DefaultLimits()); !errors.Is(err, &FieldError{Field: FieldName, Code: CodeBadChars}) {
			t.Errorf("name %q: %v; want bad_chars", name, err)
		}
	}
}
