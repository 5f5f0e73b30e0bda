package registration

import (
	"errors"
	"strings"
	"testing"
)

// Tests written for mutants gremlins reported as not covered by the rest
// of the suite (make mutation MUTATION_PKGS=app/registration).

// TestIdentitySourceRequired: a registration that does not say how the
// candidate's identity was verified is refused with the field required.
func TestIdentitySourceRequired(t *testing.T) {
	r := validReg(t)
	r.IdentitySource = ""
	err := r.Validate(today, testCatalog(), DefaultLimits())
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Validate = %v; want *ValidationError", err)
	}
	found := false
	for _, fe := range ve.Fields {
		if fe.Field == FieldIdentitySource {
			found = fe.Code == CodeRequired
		}
	}
	if !found {
		t.Errorf("Validate without an identity source = %v; want %s %s", err, FieldIdentitySource, CodeRequired)
	}
}

// TestFieldErrorText: the error text names the field, the code and, when
// there is one, the argument.
func TestFieldErrorText(t *testing.T) {
	if got := (&FieldError{Field: "photo", Code: "too_long", Arg: "500 KB"}).Error(); got != "photo: too_long (500 KB)" {
		t.Errorf("with an argument: %q", got)
	}
	if got := (&FieldError{Field: "phone", Code: "required"}).Error(); got != "phone: required" {
		t.Errorf("without: %q", got)
	}
}

// refusedFor reports whether err is a *ValidationError naming field.
func refusedFor(err error, field string) bool {
	var ve *ValidationError
	if !errors.As(err, &ve) {
		return false
	}
	for _, fe := range ve.Fields {
		if fe.Field == field {
			return true
		}
	}
	return false
}

// TestGraduationAfterFourteenWithNearMinimum: the birth year + 14 wins over
// a configured earliest graduation year only a few years before it (born
// 1990, min_graduation_year 2000: 2003 is refused, 2004 taken).
func TestGraduationAfterFourteenWithNearMinimum(t *testing.T) {
	lim := DefaultLimits()
	lim.MinGraduationYear = 2000
	for year, ok := range map[int]bool{2003: false, 2004: true} {
		r := validReg(t) // born 1990
		r.GraduationYear = year
		err := r.Validate(today, testCatalog(), lim)
		if ok != (err == nil) || !ok && !refusedFor(err, FieldGraduationYear) {
			t.Errorf("graduation %d (born 1990, min 2000): %v; want ok=%v", year, err, ok)
		}
	}
}

// TestDescriptorLimits: the descriptor limits are inclusive: max_descriptors
// descriptors, a model name of 100 bytes, descriptors of MinDescriptorLen
// and MaxDescriptorLen values from a named model are taken; one more is
// refused. A model named without descriptors is no crash.
func TestDescriptorLimits(t *testing.T) {
	lim := DefaultLimits()
	desc := func(n int) []float32 {
		d := make([]float32, n)
		for i := range d {
			d[i] = float32(i) / 1000
		}
		return d
	}
	cases := []struct {
		name string
		edit func(r *Registration)
		ok   bool
	}{
		{"max_descriptors", func(r *Registration) {
			r.Descriptors = nil
			for range lim.MaxDescriptors {
				r.Descriptors = append(r.Descriptors, desc(DescriptorLen))
			}
		}, true},
		{"max_descriptors + 1", func(r *Registration) {
			r.Descriptors = nil
			for range lim.MaxDescriptors + 1 {
				r.Descriptors = append(r.Descriptors, desc(DescriptorLen))
			}
		}, false},
		{"model name 100", func(r *Registration) {
			r.DescriptorModel = strings.Repeat("m", 100)
		}, true},
		{"model name 101", func(r *Registration) {
			r.DescriptorModel = strings.Repeat("m", 101)
		}, false},
		{"model, shortest descriptor", func(r *Registration) {
			r.DescriptorModel, r.Descriptors = "small.onnx", [][]float32{desc(MinDescriptorLen)}
		}, true},
		{"model, descriptor too short", func(r *Registration) {
			r.DescriptorModel, r.Descriptors = "small.onnx", [][]float32{desc(MinDescriptorLen - 1)}
		}, false},
		{"model, longest descriptor", func(r *Registration) {
			r.DescriptorModel, r.Descriptors = "big.onnx", [][]float32{desc(MaxDescriptorLen)}
		}, true},
		{"model, descriptor too long", func(r *Registration) {
			r.DescriptorModel, r.Descriptors = "big.onnx", [][]float32{desc(MaxDescriptorLen + 1)}
		}, false},
		{"model without descriptors", func(r *Registration) {
			r.DescriptorModel, r.Descriptors = "small.onnx", nil
		}, true},
	}
	for _, c := range cases {
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Errorf("%s: panic %v", c.name, p)
				}
			}()
			r := validReg(t)
			c.edit(&r)
			err := r.Validate(today, testCatalog(), lim)
			if c.ok != (err == nil) || !c.ok && !refusedFor(err, FieldDescriptors) {
				t.Errorf("%s: %v; want ok=%v", c.name, err, c.ok)
			}
		}()
	}
}

// TestFirstRevisionFromWireIsSubmitted: the central reads a first revision
// as submitted and only a later one as resubmitted.
func TestFirstRevisionFromWireIsSubmitted(t *testing.T) {
	r := validReg(t)
	r.ID, r.SubmittedAt = "0193", today
	for rev, want := range map[int]Status{1: StatusSubmitted, 2: StatusResubmitted} {
		r.Revision = rev
		if got := FromWire(r.Wire()).Status; got != want {
			t.Errorf("FromWire of revision %d: status %s, want %s", rev, got, want)
		}
	}
}

// TestTextAndDistanceLimits: a name of exactly max_name_runes is taken, one
// rune more refused; a face distance of exactly 0 (a perfect match) is a
// number like any other, a negative one is refused.
func TestTextAndDistanceLimits(t *testing.T) {
	lim := DefaultLimits()
	cases := []struct {
		name  string
		edit  func(r *Registration)
		field string // "" when accepted
	}{
		{"name of max runes", func(r *Registration) { r.Name = strings.Repeat("张", lim.MaxNameRunes) }, ""},
		{"name of max+1 runes", func(r *Registration) { r.Name = strings.Repeat("张", lim.MaxNameRunes+1) }, FieldName},
		{"distance 0", func(r *Registration) { r.FaceDistance = 0 }, ""},
		{"distance below 0", func(r *Registration) { r.FaceDistance = -0.01 }, FieldFaceDistance},
	}
	for _, c := range cases {
		r := validReg(t)
		c.edit(&r)
		err := r.Validate(today, testCatalog(), lim)
		if c.field == "" && err != nil || c.field != "" && !refusedFor(err, c.field) {
			t.Errorf("%s: %v; want refused for %q", c.name, err, c.field)
		}
	}
}
