package central_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"examkiosk/sync/central"
	"examkiosk/sync/seal"
	"examkiosk/sync/testbed"
	"examkiosk/sync/wire"
)

// TestDuplicateMarkReachesReviewers: a registration the kiosk marked
// "duplicate suspected" keeps the mark at the central, and the review page
// shows it with the matched registration's photo beside it.
func TestDuplicateMarkReachesReviewers(t *testing.T) {
	c := testbed.StartCentral(t, central.DefaultConfig())
	d := enrol(t, c)
	photo := testbed.Photo(320, 440, 90, 3)
	var req wire.PushRequest
	first, second := testbed.RegID("first"), testbed.RegID("second")
	for i, id := range []string{first, second} {
		r := testbed.Registration(id, 1, d.id.DeviceID, testbed.IDNumber(i), photo)
		if id == second {
			r.Duplicate = &wire.DuplicateSuspect{RegistrationID: first, Distance: 0.21, Threshold: 0.35, Model: "mobilefacenet.onnx"}
		}
		sealed, err := seal.Seal(testbed.Doc(r), d.seal)
		if err != nil {
			t.Fatal(err)
		}
		req.Items = append(req.Items, wire.SealedItem{ID: id, Revision: 1, Sealed: sealed})
	}
	body, _ := json.Marshal(req)
	if st, _, data := d.do(call{method: "POST", path: "/v1/push", body: body}); st != 200 {
		t.Fatalf("push: %d %s", st, data)
	}
	regs, err := c.Server().Registrations("")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range regs {
		switch {
		case r.ID == first && r.Duplicate != nil:
			t.Errorf("the first carries a mark it was not given: %+v", r.Duplicate)
		case r.ID == second && (r.Duplicate == nil || r.Duplicate.RegistrationID != first || r.Duplicate.Distance != 0.21):
			t.Errorf("the second's mark not kept: %+v", r.Duplicate)
		}
	}
	resp, err := http.Get(c.URL + "/review?lang=en") // the words checked are English
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	page := string(b)
	if strings.Count(page, "Duplicate suspected") != 1 || !strings.Contains(page, `/admin/registrations/`+first+`/photo" alt="matched photo"`) ||
		!strings.Contains(page, "0.210") {
		t.Errorf("review page does not show the mark with the matched photo:\n%s", page)
	}
}
