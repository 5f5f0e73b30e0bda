package signing

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// TestErrorText: a refusal says its code and its reason (the central logs
// it and the kiosk shows the code to staff), and matches its sentinel by
// code only.
func TestErrorText(t *testing.T) {
	e := &Error{Code: ErrClockSkew.Code, Msg: "timestamp 400 s away"}
	if got := e.Error(); got != "signing: "+ErrClockSkew.Code+": timestamp 400 s away" {
		t.Fatalf("Error() = %q", got)
	}
	wrapped := fmt.Errorf("verify: %w", e)
	if !errors.Is(wrapped, ErrClockSkew) || errors.Is(wrapped, ErrNonceReused) || errors.Is(wrapped, errors.New(e.Error())) {
		t.Fatalf("errors.Is by code broken for %v", wrapped)
	}
	if !strings.Contains(ErrBadSignature.Error(), ErrBadSignature.Code) {
		t.Fatalf("sentinel text %q lacks its code", ErrBadSignature.Error())
	}
}
