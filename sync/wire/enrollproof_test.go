package wire

import "testing"

// TestEnrollProofMessage: the enrolment proof signs the versioned prefix
// and the code, so a proof for one code is no proof for another.
func TestEnrollProofMessage(t *testing.T) {
	if got := string(EnrollProofMessage("K7Q2-9XZ")); got != "examkiosk-enroll-v1\nK7Q2-9XZ" {
		t.Errorf("EnrollProofMessage = %q", got)
	}
	if string(EnrollProofMessage("A")) == string(EnrollProofMessage("B")) {
		t.Error("two codes give the same message")
	}
}
