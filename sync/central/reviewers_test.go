package central

import "testing"

func TestStaffPasswordHash(t *testing.T) {
	h := hashPassword("correct horse 2026")
	if !checkPassword(h, "correct horse 2026") || checkPassword(h, "correct horse 2027") {
		t.Fatal("argon2id round trip")
	}
	if checkPassword(dummyStaffHash, "") || checkPassword("$2a$10$x", "x") || checkPassword("$argon2id$v=19$m=99999999,t=1,p=1$AA$AA", "x") {
		t.Fatal("a malformed or absurd hash verified")
	}
}

// BenchmarkCheckStaffPassword is the cost of one staff login (and of a
// guess at one): argon2id at the parameters in reviewers.go.
func BenchmarkCheckStaffPassword(b *testing.B) {
	h := hashPassword("correct horse 2026")
	for b.Loop() {
		checkPassword(h, "correct horse 2026")
	}
}
