package app

import (
	"bufio"
	"context"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"examkiosk/app/registration"
	"examkiosk/device/face"
	"examkiosk/internal/testenv"
)

// eastAsianPairs returns the first n same-person pairs of
// ../shared/faces/eastasia/pairs.txt as photo paths, one pair per person.
func eastAsianPairs(t *testing.T, n int) [][2]string {
	t.Helper()
	dir := filepath.Join(testenv.FacesDir(t), "eastasia")
	f, err := os.Open(filepath.Join(dir, "pairs.txt"))
	if err != nil {
		t.Skipf("East Asian faces not found (%v): see ../shared/faces/README.md", err)
	}
	defer f.Close()
	photo := func(name, i string) string {
		return filepath.Join(dir, name, fmt.Sprintf("%s_%04s.jpg", name, i))
	}
	var out [][2]string
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() && len(out) < n {
		p := strings.Fields(sc.Text())
		if len(p) != 3 || seen[p[0]] {
			continue
		}
		seen[p[0]] = true
		out = append(out, [2]string{photo(p[0], p[1]), photo(p[0], p[2])})
	}
	return out
}

// idNumber makes a valid 18-digit ID number for test candidate k.
func idNumber(t *testing.T, k int) string {
	first := fmt.Sprintf("11010519800101%03d", 100+k)
	c, ok := registration.CheckDigit(first)
	if !ok {
		t.Fatalf("check digit of %s", first)
	}
	return first + string(c)
}

// registerWithFace logs a candidate in, takes the face of the photo at path
// as the live face (descriptor and ID photo made from it), runs the
// kiosk's duplicate search, and submits. It returns the saved registration.
func registerWithFace(t *testing.T, a *App, eng *face.Engine, name, idn, path string) registration.Registration {
	t.Helper()
	ctx := context.Background()
	a.Logout()
	a.Begin()
	if _, err := a.OfflineLogin(name, idn); err != nil {
		t.Fatal(err)
	}
	img := readFace(t, path)
	live, _, err := eng.Descriptor(ctx, img)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	photo, _, err := eng.MakeIDPhoto(ctx, img, a.opts.Config.Face.Photo)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	dup := a.duplicateSearch(ctx, live)
	a.mu.Lock()
	a.journey.face = &FaceOutcome{LivenessPassed: true, Descriptors: [][]float32{live.Vec}, DescriptorModel: live.Model, Photo: photo,
		PhotoOK: true, Match: true, Duplicate: dup}
	err = a.journey.Go(StepPhoto)
	a.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	a.AcceptPhoto()
	if _, err := a.SaveForm(ApplicationForm{Phone: "13800138000", Education: "bachelor", Major: "法学", GraduationYear: 2010, ExamID: "E1", PositionID: "P1"}); err != nil {
		t.Fatal(err)
	}
	v, err := a.Submit()
	if err != nil {
		t.Fatalf("%s could not submit: %v", name, err)
	}
	if v.Step != StepReceipt {
		t.Fatalf("%s: step %s after submit, want the receipt", name, v.Step)
	}
	got, err := a.opts.Store.Get(ctx, a.journey.receipt.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func readFace(t *testing.T, path string) image.Image {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := face.DecodeImage(data)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// TestDuplicateSuspected: one face, one identity, at the kiosk. Different
// East Asian people registered one after the other are not flagged; the
// same people, photographed again and logged in under a second ID number,
// are flagged with the registration they matched, and still submit. The
// mark travels in the wire document; staff clear or confirm it, audited.
func TestDuplicateSuspected(t *testing.T) {
	const people, again = 8, 3
	names := []string{"张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄勇"}
	pairs := eastAsianPairs(t, people)
	if len(pairs) < people {
		t.Fatalf("only %d same-person pairs", len(pairs))
	}
	eng := engine(t)
	st := catalogStore(t)
	a := testApp(t, Options{Store: st, Face: eng})
	a.opts.Config.Kiosk.StaffPINHash = mustHashPIN(t, "246810")
	first := map[int]registration.Registration{}
	for k, p := range pairs {
		r := registerWithFace(t, a, eng, names[k], idNumber(t, k), p[0])
		if r.Duplicate != nil {
			t.Errorf("%s, a new person, flagged as a duplicate of %s (distance %.3f, threshold %.3f)",
				filepath.Base(p[0]), r.Duplicate.RegistrationID, r.Duplicate.Distance, r.Duplicate.Threshold)
		}
		first[k] = r
	}
	var flagged []registration.Registration
	for k := range again {
		p := pairs[k]
		r := registerWithFace(t, a, eng, "别"+names[k], idNumber(t, 50+k), p[1])
		switch {
		case r.Duplicate == nil:
			t.Errorf("%s under a second ID number not flagged (first registered as %s)", filepath.Base(p[1]), filepath.Base(p[0]))
			continue
		case r.Duplicate.RegistrationID != first[k].ID:
			t.Errorf("%s flagged as %s, want %s", filepath.Base(p[1]), r.Duplicate.RegistrationID, first[k].ID)
		case r.Duplicate.Distance > r.Duplicate.Threshold || r.Duplicate.Model != eng.Model().ID || r.DuplicateReview != "":
			t.Errorf("mark %+v", *r.Duplicate)
		}
		if w := r.Wire(); w.Duplicate == nil || w.Duplicate.RegistrationID != r.Duplicate.RegistrationID {
			t.Errorf("the mark does not travel to the central: %+v", w.Duplicate)
		}
		flagged = append(flagged, r)
	}
	if len(flagged) == 0 {
		t.FailNow()
	}

	// The staff console shows both photos side by side; a decision is kept
	// and audited.
	if _, err := a.StaffDuplicates(true); err == nil {
		t.Fatal("duplicates listed without a staff session")
	}
	if err := a.StaffLogin("246810"); err != nil {
		t.Fatal(err)
	}
	cases, err := a.StaffDuplicates(true)
	if err != nil || len(cases) != len(flagged) {
		t.Fatalf("%d pending cases (%v), want %d", len(cases), err, len(flagged))
	}
	for _, c := range cases {
		if !strings.HasPrefix(c.Suspect.Photo, "data:image/jpeg;base64,") || !strings.HasPrefix(c.Matched.Photo, "data:image/jpeg;base64,") ||
			c.Matched.Name == "" || c.Suspect.IDNumber == c.Matched.IDNumber {
			t.Errorf("case %s: both photos and both identities wanted: %+v %+v", c.Suspect.ID, c.Suspect.Name, c.Matched.Name)
		}
	}
	if err := a.StaffReviewDuplicate(flagged[0].ID, "maybe"); err == nil {
		t.Error("a decision other than cleared/confirmed was accepted")
	}
	if err := a.StaffReviewDuplicate(flagged[0].ID, registration.DuplicateConfirmed); err != nil {
		t.Fatal(err)
	}
	if err := a.StaffReviewDuplicate(first[people-1].ID, registration.DuplicateCleared); err == nil {
		t.Error("a registration without the mark was reviewed")
	}
	if pending, _ := a.StaffDuplicates(true); len(pending) != len(flagged)-1 {
		t.Errorf("%d pending after one decision, want %d", len(pending), len(flagged)-1)
	}
	r, _ := st.Get(context.Background(), flagged[0].ID)
	if r.Duplicate == nil || r.DuplicateReview != registration.DuplicateConfirmed || r.DuplicateReviewedAt.IsZero() {
		t.Errorf("decision not kept: %q %v", r.DuplicateReview, r.DuplicateReviewedAt)
	}
	// The delivered document is the one measured at submission: the
	// decision does not change it (a revision's content never changes).
	if w := r.Wire(); w.Duplicate == nil || *w.Duplicate != *flagged[0].Duplicate {
		t.Errorf("wire mark changed by the staff decision: %+v", w.Duplicate)
	}
	log, err := st.AuditLog(context.Background(), 50)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range log {
		found = found || (e.Kind == "duplicate_confirmed" && e.Subject == flagged[0].ID)
	}
	if !found {
		t.Error("the staff decision is not in the audit log")
	}
}
