package central_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"examkiosk/sync/central"
	"examkiosk/sync/testbed"
	"examkiosk/sync/wire"
)

// The review queue reads the registration index: counts per status, pages
// in queue order with a cursor, moves on review and on a new revision, the
// HTTP list in pages, and a store without the index gets it at open.
func TestRegistrationIndex(t *testing.T) { testbed.EachStore(t, registrationIndex) }

func registrationIndex(t *testing.T, cfg central.Config) {
	c := testbed.StartCentral(t, cfg)
	d := enrol(t, c)
	photo := testbed.Photo(320, 440, 90, 3)
	var regs []wire.Registration
	for i := range 5 {
		regs = append(regs, testbed.Registration(testbed.RegID(fmt.Sprint("ix-", i)), 1, d.id.DeviceID, testbed.IDNumber(500+i), photo))
	}
	for _, r := range regs { // one push each: distinct received times
		if res := d.pushRegs(r); res[0].Status != wire.StatusAccepted {
			t.Fatalf("push %s: %+v", r.ID, res)
		}
	}
	s := c.Server()
	if _, err := s.Review(regs[1].ID, true, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Review(regs[3].ID, false, "照片模糊 / photo blurred"); err != nil {
		t.Fatal(err)
	}
	counts := func(want string) {
		t.Helper()
		var got []string
		for _, st := range []string{central.StatusUnderReview, central.StatusApproved, central.StatusRejected} {
			n, err := c.Server().RegistrationCount(st)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, fmt.Sprintf("%s=%d", st, n))
		}
		if fmt.Sprint(got) != want {
			t.Fatalf("counts %v, want %s", got, want)
		}
	}
	counts("[under_review=3 approved=1 rejected=1]")

	var paged []string
	after := ""
	for range 3 {
		page, next, err := s.RegistrationsPage(central.StatusUnderReview, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page {
			if r.Status != central.StatusUnderReview || r.Name == "" {
				t.Fatalf("page holds %+v", r)
			}
			paged = append(paged, r.ID)
		}
		if after = next; after == "" {
			break
		}
	}
	want := []string{regs[0].ID, regs[2].ID, regs[4].ID}
	if !slices.Equal(paged, want) {
		t.Fatalf("pages %v, want %v (oldest first)", paged, want)
	}
	if _, _, err := s.RegistrationsPage(central.StatusUnderReview, "00", 2); err == nil {
		t.Fatal("a cursor of another status was taken")
	}

	resp, err := http.Get(c.URL + "/admin/registrations?status=under_review&limit=2")
	if err != nil {
		t.Fatal(err)
	}
	var list []central.Registration
	json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	next := resp.Header.Get("X-Next-After")
	if resp.StatusCode != 200 || len(list) != 2 || next == "" {
		t.Fatalf("list page: %d, %d registrations, next %q", resp.StatusCode, len(list), next)
	}
	resp, err = http.Get(c.URL + "/admin/registrations?status=under_review&limit=2&after=" + next)
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if len(list) != 1 || list[0].ID != regs[4].ID || resp.Header.Get("X-Next-After") != "" {
		t.Fatalf("second list page: %+v, next %q", list, resp.Header.Get("X-Next-After"))
	}

	// Without a status: every registration, in pages by id.
	var ids []string
	after = ""
	for range 5 {
		resp, err := http.Get(c.URL + "/admin/registrations?limit=2&after=" + after)
		if err != nil {
			t.Fatal(err)
		}
		var page []central.Registration
		json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		for _, r := range page {
			ids = append(ids, r.ID)
		}
		if after = resp.Header.Get("X-Next-After"); after == "" {
			break
		}
	}
	if len(ids) != 5 || !slices.IsSorted(ids) {
		t.Fatalf("all registrations in pages: %v", ids)
	}

	// A new revision of the rejected registration is under review again.
	r := regs[3]
	r.Revision = 2
	if res := d.pushRegs(r); res[0].Status != wire.StatusAccepted {
		t.Fatalf("revision 2: %+v", res)
	}
	counts("[under_review=4 approved=1 rejected=0]")
	if all, _ := s.Registrations(central.StatusUnderReview); len(all) != 4 || all[3].ID != r.ID {
		t.Fatalf("under review after the new revision: %d, last %+v", len(all), all[len(all)-1])
	}

	// A store written without the index (or with an older one) is indexed
	// at open.
	if err := s.DropRegIndex(); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.RegistrationCount(central.StatusUnderReview); n != 0 {
		t.Fatalf("dropped index still counts %d", n)
	}
	if err := c.Restart(); err != nil {
		t.Fatal(err)
	}
	counts("[under_review=4 approved=1 rejected=0]")
}
