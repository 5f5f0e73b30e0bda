package central

import "testing"

// Row 13: the password rule accepted aaaaaaa1. Now repeats, sequences,
// common passwords and the candidate's own data are refused; passwords a
// person can remember but nobody guesses pass.
func TestPasswordRule(t *testing.T) {
	const idn = "11010519491231002X"
	tests := []struct {
		pw  string
		ok  bool
		why string
	}{
		{"aaaaaaa1", false, "repeated character (the attack's example)"},
		{"abcdefg1", false, "sequence"},
		{"12345678a", false, "sequence"},
		{"password1", false, "common password"},
		{"qwerty123", false, "keyboard pattern"},
		{"X19491231x", false, "birthday from the ID number"},
		{"a11010519491231002X", false, "the ID number itself"},
		{"short1", false, "too short"},
		{"onlyletters", false, "no digit"},
		{"Exam2026pass", true, ""},
		{"Kx9mT2vLq", true, ""},
		{"lan hua 2026 xiang", true, ""},
	}
	for _, tt := range tests {
		if got := passwordProblem(tt.pw, idn, "赵六"); (got == "") != tt.ok {
			t.Errorf("%q (%s): problem %q, want ok=%v", tt.pw, tt.why, got, tt.ok)
		}
	}
}
