package central_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"examkiosk/sync/central"
	"examkiosk/sync/seal"
	"examkiosk/sync/testbed"
	"examkiosk/sync/wire"
)

// pushDocs seals raw documents (valid or not) as items of one push.
func (d rawDevice) pushDocs(items map[string][]byte) map[string]wire.Result {
	d.t.Helper()
	var req wire.PushRequest
	for id, doc := range items {
		sealed, err := seal.Seal(doc, d.seal)
		if err != nil {
			d.t.Fatal(err)
		}
		req.Items = append(req.Items, wire.SealedItem{ID: id, Revision: 1, Sealed: sealed})
	}
	body, _ := json.Marshal(req)
	st, _, data := d.do(call{method: "POST", path: "/v1/push", body: body, ctype: "application/json"})
	if st != 200 {
		d.t.Fatalf("push: %d %s", st, data)
	}
	var pr wire.PushResponse
	if err := json.Unmarshal(data, &pr); err != nil || len(pr.Results) != len(items) {
		d.t.Fatalf("push answer %s (%v)", data, err)
	}
	out := map[string]wire.Result{}
	for _, r := range pr.Results {
		out[r.ID] = r
	}
	return out
}

// The central refuses, each with a reason that names it, a registration
// for an exam or a position the catalogue does not hold, one submitted
// before registration opened, and a document that is not a registration;
// a registration submitted exactly when registration opens or closes is
// accepted.
func TestIngestCatalogueRefusals(t *testing.T) {
	c := testbed.StartCentral(t, central.DefaultConfig())
	d := enrol(t, c)
	now := time.Now().UTC().Truncate(time.Second)
	from, until := now.Add(-time.Hour), now.Add(time.Hour)
	if _, err := c.Server().SetCatalog(wire.Catalog{Exams: []wire.Exam{{ID: central.DemoExamID, Name: "春季考试",
		RegisterFrom: from, RegisterUntil: until, PayUntil: until.AddDate(0, 0, 3), FeeCents: 100,
		Positions: []wire.Position{{ID: "P003", Name: "岗"}}}}}); err != nil {
		t.Fatal(err)
	}
	photo := testbed.Photo(320, 440, 90, 21)
	reg := func(label string, n int) wire.Registration {
		return testbed.Registration(testbed.RegID(label), 1, d.id.DeviceID, testbed.IDNumber(n), photo)
	}
	noExam, noPos, early, atOpen, atClose := reg("no-exam", 1), reg("no-pos", 2), reg("early", 3), reg("at-open", 4), reg("at-close", 5)
	noExam.ExamID = "exam-gone"
	noPos.PositionID = "P999"
	early.SubmittedAt = from.Add(-time.Second)
	atOpen.SubmittedAt = from
	// Submitted at the deadline by a kiosk clock within the skew of now.
	atClose.SubmittedAt = now
	res := d.pushRegs(noExam, noPos, early, atOpen)
	for i, want := range []string{"exam-gone", "P999", "春季考试"} {
		if res[i].Status != wire.StatusRejected || !strings.Contains(res[i].Reason, want) {
			t.Errorf("%s: %+v, want rejected naming %q", res[i].ID, res[i], want)
		}
	}
	if !strings.Contains(res[0].Reason, "does not exist") || !strings.Contains(res[1].Reason, "does not exist") || !strings.Contains(res[2].Reason, "opened") {
		t.Errorf("reasons: %q, %q, %q", res[0].Reason, res[1].Reason, res[2].Reason)
	}
	if res[3].Status != wire.StatusAccepted {
		t.Errorf("submitted the second registration opened: %+v", res[3])
	}
	if _, err := c.Server().SetCatalog(wire.Catalog{Exams: []wire.Exam{{ID: central.DemoExamID, Name: "春季考试",
		RegisterFrom: from, RegisterUntil: now, PayUntil: until.AddDate(0, 0, 3), FeeCents: 100,
		Positions: []wire.Position{{ID: "P003", Name: "岗"}}}}}); err != nil {
		t.Fatal(err)
	}
	if res := d.pushRegs(atClose); res[0].Status != wire.StatusAccepted {
		t.Errorf("submitted the second registration closed: %+v", res[0])
	}

	bad := testbed.RegID("not-a-registration")
	got := d.pushDocs(map[string][]byte{bad: []byte(`{"id": 7}`)})
	if r := got[bad]; r.Status != wire.StatusRejected || !strings.Contains(r.Reason, "malformed") || !strings.Contains(r.Reason, "id") {
		t.Errorf("a document that is no registration: %+v", r)
	}
}

// A candidate who revises a registration to another exam is free to
// register again for the first exam, and is held to one registration for
// the new one.
func TestIngestRevisionToAnotherExam(t *testing.T) {
	c := testbed.StartCentral(t, central.DefaultConfig())
	d := enrol(t, c)
	now := time.Now().UTC()
	exam := func(id string) wire.Exam {
		return wire.Exam{ID: id, Name: id, RegisterFrom: now.AddDate(0, 0, -1), RegisterUntil: now.AddDate(0, 0, 1),
			PayUntil: now.AddDate(0, 0, 3), FeeCents: 100, Positions: []wire.Position{{ID: "P003", Name: "岗"}}}
	}
	if _, err := c.Server().SetCatalog(wire.Catalog{Exams: []wire.Exam{exam(central.DemoExamID), exam("autumn")}}); err != nil {
		t.Fatal(err)
	}
	photo := testbed.Photo(320, 440, 90, 22)
	idn := testbed.IDNumber(22)
	first := testbed.Registration(testbed.RegID("move-1"), 1, d.id.DeviceID, idn, photo)
	if r := d.pushRegs(first); r[0].Status != wire.StatusAccepted {
		t.Fatalf("first: %+v", r)
	}
	moved := first
	moved.Revision, moved.ExamID = 2, "autumn"
	if r := d.pushRegs(moved); r[0].Status != wire.StatusAccepted {
		t.Fatalf("revised to another exam: %+v", r)
	}
	again := testbed.Registration(testbed.RegID("move-2"), 1, d.id.DeviceID, idn, photo)
	if r := d.pushRegs(again); r[0].Status != wire.StatusAccepted {
		t.Errorf("a new registration for the exam the candidate left: %+v", r)
	}
	second := testbed.Registration(testbed.RegID("move-3"), 1, d.id.DeviceID, idn, photo)
	second.ExamID = "autumn"
	if r := d.pushRegs(second); r[0].Status != wire.StatusRejected || !strings.Contains(r[0].Reason, testbed.RegID("move-1")) {
		t.Errorf("a second registration for the new exam: %+v", r)
	}
	regs, err := c.Server().Registrations("")
	if err != nil {
		t.Fatal(err)
	}
	exams := map[string]string{}
	for _, r := range regs {
		exams[r.ID] = r.ExamID
	}
	if exams[first.ID] != "autumn" || exams[again.ID] != central.DemoExamID || len(exams) != 2 {
		t.Errorf("registrations: %v", exams)
	}
}

// A batch of exactly max_batch_items is taken; one more is refused whole.
func TestIngestBatchLimit(t *testing.T) {
	cfg := central.DefaultConfig()
	cfg.MaxBatchItems = 3
	c := testbed.StartCentral(t, cfg)
	d := enrol(t, c)
	if st, _, data := d.do(call{method: "POST", path: "/v1/push", body: d.pushBody(60, "b-1", "b-2", "b-3")}); st != 200 || strings.Count(string(data), wire.StatusAccepted) != 3 {
		t.Errorf("a batch of max_batch_items: %d %s", st, data)
	}
	if st, er, _ := d.do(call{method: "POST", path: "/v1/push", body: d.pushBody(70, "b-4", "b-5", "b-6", "b-7")}); st != 413 || er.Code != wire.ErrCodeTooLarge {
		t.Errorf("one item more: %d %s, want 413", st, er.Code)
	}
}

// An accepted registration is reported to its kiosk: the next pull has
// its "under review" update, with the revision.
func TestIngestReportsUnderReview(t *testing.T) {
	c := testbed.StartCentral(t, central.DefaultConfig())
	d := enrol(t, c)
	r := testbed.Registration(testbed.RegID("told"), 1, d.id.DeviceID, testbed.IDNumber(81), testbed.Photo(320, 440, 90, 81))
	if res := d.pushRegs(r); res[0].Status != wire.StatusAccepted {
		t.Fatalf("push: %+v", res)
	}
	r.Revision = 2
	if res := d.pushRegs(r); res[0].Status != wire.StatusAccepted {
		t.Fatalf("revision 2: %+v", res)
	}
	st, _, data := d.do(call{method: "GET", path: "/v1/pull?cursor="})
	var p wire.Pull
	if st != 200 || json.Unmarshal(data, &p) != nil {
		t.Fatalf("pull: %d %s", st, data)
	}
	var revs []int
	for _, u := range p.Updates {
		if u.RegistrationID == r.ID && u.Status == central.StatusUnderReview {
			revs = append(revs, u.Revision)
		}
	}
	if len(revs) != 2 || revs[0] != 1 || revs[1] != 2 {
		t.Errorf("under-review updates for revisions %v, want [1 2] (pull %s)", revs, data)
	}
}

// Revisions run from 1 to 10,000: the last one is taken, one more is
// refused.
func TestIngestRevisionRange(t *testing.T) {
	c := testbed.StartCentral(t, central.DefaultConfig())
	d := enrol(t, c)
	photo := testbed.Photo(320, 440, 90, 82)
	last := testbed.Registration(testbed.RegID("rev-last"), 10000, d.id.DeviceID, testbed.IDNumber(82), photo)
	over := testbed.Registration(testbed.RegID("rev-over"), 10001, d.id.DeviceID, testbed.IDNumber(83), photo)
	zero := testbed.Registration(testbed.RegID("rev-zero"), 0, d.id.DeviceID, testbed.IDNumber(84), photo)
	res := d.pushRegs(last, over, zero)
	if res[0].Status != wire.StatusAccepted {
		t.Errorf("revision 10000: %+v", res[0])
	}
	for _, r := range res[1:] {
		if r.Status != wire.StatusRejected || !strings.Contains(r.Reason, "10000") {
			t.Errorf("revision %d: %+v, want rejected", r.Revision, r)
		}
	}
}
