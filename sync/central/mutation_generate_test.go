package central_test

import (
	"slices"
	"testing"
	"time"

	"examkiosk/idnumber"
	"examkiosk/sync/central"
	"examkiosk/sync/testbed"
	"examkiosk/sync/wire"
)

// Generate (the load tests' season) writes n registrations in chunks,
// with the documented status mix, valid distinct ID numbers and submission
// times one millisecond apart before now, through the same candidate index
// as ingest: a kiosk cannot register a generated candidate again.
func TestGenerate(t *testing.T) {
	c := testbed.StartCentral(t, central.DefaultConfig())
	s := c.Server()
	before := time.Now()
	var progress []int
	if err := s.Generate(25, 10, func(done int) { progress = append(progress, done) }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(progress, []int{10, 20, 25}) {
		t.Errorf("progress %v, want [10 20 25]", progress)
	}
	regs, err := s.Registrations("")
	if err != nil {
		t.Fatal(err)
	}
	if len(regs) != 25 {
		t.Fatalf("%d registrations, want 25", len(regs))
	}
	count := map[string]int{}
	ids := map[string]bool{}
	var times []time.Time
	for _, r := range regs {
		count[r.Status]++
		if !validID(r.IDNumber) || r.IDNumber[:14] != "11010119500101" || ids[r.IDNumber] {
			t.Errorf("ID number %q: want valid, distinct, born 1950-01-01 in 110101", r.IDNumber)
		}
		ids[r.IDNumber] = true
		if r.DeviceID != central.GeneratedDevice || r.CentreID != central.DemoCentreID || r.ExamID != central.DemoExamID || r.Revision != 1 {
			t.Errorf("registration %+v", r)
		}
		if (r.Status == central.StatusRejected) != (r.Reason != "") {
			t.Errorf("status %s with reason %q", r.Status, r.Reason)
		}
		if !r.ReceivedAt.Equal(r.SubmittedAt) || r.SubmittedAt.After(before) || r.SubmittedAt.Before(before.Add(-time.Second)) {
			t.Errorf("submitted %s, received %s (generated at %s)", r.SubmittedAt, r.ReceivedAt, before)
		}
		times = append(times, r.SubmittedAt)
	}
	// 0–3 of every ten under review, 4–6 approved, 7–8 paid, 9 rejected.
	want := map[string]int{central.StatusUnderReview: 12, central.StatusApproved: 7, central.StatusPaid: 4, central.StatusRejected: 2}
	for st, n := range want {
		if count[st] != n {
			t.Errorf("%d %s, want %d (all: %v)", count[st], st, n, count)
		}
	}
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	for i := 1; i < len(times); i++ {
		if d := times[i].Sub(times[i-1]); d != time.Millisecond {
			t.Errorf("submissions %d and %d are %s apart, want 1ms", i-1, i, d)
			break
		}
	}
	// The candidate index holds them.
	d := enrol(t, c)
	r := testbed.Registration(testbed.RegID("gen-again"), 1, d.id.DeviceID, regs[0].IDNumber, testbed.Photo(320, 440, 90, 5))
	if res := d.pushRegs(r); res[0].Status != wire.StatusRejected {
		t.Errorf("a generated candidate registered again: %+v", res[0])
	}
}

func validID(s string) bool {
	_, err := idnumber.Parse(s, time.Now())
	return err == nil
}
