package central_test

import (
	"slices"
	"strings"
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

// Generate's chunks at their ends: a chunk of one registration commits
// each on its own, a chunk below one is the default (5000: one
// transaction here), no progress callback is allowed, and a failed
// transaction names the registrations it held.
func TestGenerateChunks(t *testing.T) {
	c := testbed.StartCentral(t, central.DefaultConfig())
	s := c.Server()
	var progress []int
	if err := s.Generate(3, 1, func(done int) { progress = append(progress, done) }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(progress, []int{1, 2, 3}) {
		t.Errorf("chunk 1: progress %v, want [1 2 3]", progress)
	}
	progress = nil
	if err := s.Generate(4, 0, func(done int) { progress = append(progress, done) }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(progress, []int{4}) {
		t.Errorf("chunk 0 (the default 5000): progress %v, want [4]", progress)
	}
	if err := s.Generate(2, 5, nil); err != nil {
		t.Fatalf("without progress: %v", err)
	}
	if regs, err := s.Registrations(""); err != nil || len(regs) != 9 {
		t.Fatalf("%d registrations, %v; want 9", len(regs), err)
	}
	c.Stop()
	if err := s.Generate(7, 5, nil); err == nil || !strings.Contains(err.Error(), "registrations 0–5:") {
		t.Fatalf("Generate on a closed store: %v, want the failed chunk 0–5 named", err)
	}
}
