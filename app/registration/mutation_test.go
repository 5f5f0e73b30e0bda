package registration

import (
	"errors"
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
