package central_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"examkiosk/device/face/calib"
	"examkiosk/sync/central"
	"examkiosk/sync/central/store/storetest"
	"examkiosk/sync/testbed"
	"examkiosk/sync/wire"
)

// faceFixture is testdata/eastasia_faces.json: real MobileFaceNet
// descriptors of East Asian people, two photos each, made by
// `go run sync/central/testdata/mkfaces.go` (see that file).
type faceFixture struct {
	Model  string `json:"model"`
	Kind   string `json:"kind"`
	People []struct {
		Name  string      `json:"name"`
		Faces [][]float32 `json:"faces"`
	} `json:"people"`
}

func loadFaces(t *testing.T) faceFixture {
	t.Helper()
	data, err := os.ReadFile("testdata/eastasia_faces.json")
	if err != nil {
		t.Fatal(err)
	}
	var fx faceFixture
	if err := json.Unmarshal(data, &fx); err != nil {
		t.Fatal(err)
	}
	if len(fx.People) < 10 {
		t.Fatalf("fixture has %d people", len(fx.People))
	}
	return fx
}

func (fx faceFixture) descriptor(person, photo int) *wire.FaceDescriptor {
	return &wire.FaceDescriptor{Model: fx.Model, Kind: fx.Kind, Vec: fx.People[person].Faces[photo]}
}

// settle waits until the node has searched every stored face.
func settle(t *testing.T, s *central.Server) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.SettleFaceSearch(ctx); err != nil {
		t.Fatal(err)
	}
}

// faceReg is a registration of fixture person p's face (photo k) under
// the ID number testbed.IDNumber(idn), from kiosk d.
func faceReg(fx faceFixture, d rawDevice, label string, idn, p, k int) wire.Registration {
	r := testbed.Registration(testbed.RegID(label), 1, d.id.DeviceID, testbed.IDNumber(idn), testbed.Photo(320, 440, 90, uint64(idn)))
	r.Face = fx.descriptor(p, k)
	return r
}

func accepted(t *testing.T, res []wire.Result) {
	t.Helper()
	for _, r := range res {
		if r.Status != wire.StatusAccepted {
			t.Fatalf("%s: %s %s", r.ID, r.Status, r.Reason)
		}
	}
}

func byID(t *testing.T, s *central.Server) map[string]central.Registration {
	t.Helper()
	regs, err := s.Registrations("")
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]central.Registration{}
	for _, r := range regs {
		m[r.ID] = r
	}
	return m
}

// registerEveryone registers every fixture person's first photo under
// their own ID number, alternating between the kiosks, and checks that no
// one is flagged: different people are not duplicates.
func registerEveryone(t *testing.T, s *central.Server, fx faceFixture, kiosks ...rawDevice) {
	t.Helper()
	for i := range fx.People {
		accepted(t, kiosks[i%len(kiosks)].pushRegs(faceReg(fx, kiosks[i%len(kiosks)], fmt.Sprintf("person-%d", i), 100+i, i, 0)))
	}
	settle(t, s)
	for id, r := range byID(t, s) {
		if len(r.FaceMatches) != 0 || r.FaceSearchPending {
			t.Errorf("%s (%s): flagged among different people: %+v pending %v", id, r.Name, r.FaceMatches, r.FaceSearchPending)
		}
	}
}

// checkPair checks that registrations a and b are marked as each other's
// duplicates, both still under review.
func checkPair(t *testing.T, s *central.Server, fx faceFixture, a, b string, p int) {
	t.Helper()
	settle(t, s)
	regs := byID(t, s)
	m, _ := calib.Lookup(fx.Model)
	k, _ := calib.LookupKind(m.Kind)
	want := k.Distance(fx.People[p].Faces[0], fx.People[p].Faces[1])
	for _, pair := range [][2]string{{a, b}, {b, a}} {
		r := regs[pair[0]]
		if r.Status != central.StatusUnderReview {
			t.Errorf("%s is %s: a duplicate suspect must still be accepted for review", r.ID, r.Status)
		}
		if len(r.FaceMatches) != 1 || r.FaceMatches[0].RegistrationID != pair[1] || r.FaceMatches[0].Model != fx.Model ||
			abs(r.FaceMatches[0].Distance-want) > 1e-6 || r.FaceMatches[0].Distance > r.FaceMatches[0].Threshold {
			t.Errorf("%s: marks %+v, want one for %s at distance %.4f", pair[0], r.FaceMatches, pair[1], want)
		}
	}
}

func abs(x float64) float64 { return max(x, -x) }

// TestCrossKioskDuplicateSearch: East Asian people registered at two
// kiosks are not flagged; the same person under a second ID number at the
// other kiosk is flagged on both registrations, both accepted, and the
// review page shows both photos. On both stores.
func TestCrossKioskDuplicateSearch(t *testing.T) {
	fx := loadFaces(t)
	testbed.EachStore(t, func(t *testing.T, cfg central.Config) {
		c := testbed.StartCentral(t, cfg)
		k1, k2 := enrol(t, c), enrol(t, c)
		registerEveryone(t, c.Server(), fx, k1, k2)

		// Person 0 (registered at k1) comes to k2 with another ID number.
		dup := faceReg(fx, k2, "second-identity", 900, 0, 1)
		accepted(t, k2.pushRegs(dup))
		first := testbed.RegID("person-0")
		checkPair(t, c.Server(), fx, first, dup.ID, 0)
		// Delivering it again changes nothing.
		if res := k2.pushRegs(dup); res[0].Status != wire.StatusDuplicate {
			t.Fatalf("redelivery: %+v", res)
		}
		checkPair(t, c.Server(), fx, first, dup.ID, 0)

		// A face of a model without calibration is not searched (logged),
		// and the registration is accepted all the same.
		odd := faceReg(fx, k1, "uncalibrated", 901, 0, 1)
		odd.Face.Model = "custom.onnx"
		accepted(t, k1.pushRegs(odd))
		settle(t, c.Server())
		if r := byID(t, c.Server())[odd.ID]; r.FaceSearchPending || len(r.FaceMatches) != 0 {
			t.Errorf("uncalibrated model: pending %v marks %+v", r.FaceSearchPending, r.FaceMatches)
		}

		resp, err := http.Get(c.URL + "/review")
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, pair := range [][2]string{{first, dup.ID}, {dup.ID, first}} {
			if !strings.Contains(string(page), `/admin/registrations/`+pair[1]+`/photo" alt="matched photo"`) {
				t.Errorf("review page lacks %s's matched photo", pair[0])
			}
		}
		if n := strings.Count(string(page), "data-face-match"); n != 2 {
			t.Errorf("review page shows %d cross-kiosk marks, want 2", n)
		}
		if st, err := c.Server().FaceIndex(); err != nil || !st.Ready || st.Faces != len(fx.People)+1 {
			t.Errorf("face index %+v (%v), want %d faces", st, err, len(fx.People)+1)
		}
	})
}

// TestDuplicateSearchWhileIndexLoads: registrations delivered while the
// node's index is still loading are accepted at once, shown as "search
// pending", and searched and marked once it is loaded.
func TestDuplicateSearchWhileIndexLoads(t *testing.T) {
	fx := loadFaces(t)
	testbed.EachStore(t, func(t *testing.T, cfg central.Config) {
		gate := make(chan struct{})
		c := testbed.StartCentral(t, cfg, central.WithFaceLoadGate(gate))
		k1, k2 := enrol(t, c), enrol(t, c)
		a, b := faceReg(fx, k1, "loading-a", 300, 1, 0), faceReg(fx, k2, "loading-b", 301, 1, 1)
		other := faceReg(fx, k2, "loading-c", 302, 2, 0)
		accepted(t, k1.pushRegs(a))
		accepted(t, k2.pushRegs(b, other))
		for id, r := range byID(t, c.Server()) {
			if !r.FaceSearchPending || len(r.FaceMatches) != 0 {
				t.Errorf("%s while loading: pending %v marks %+v", id, r.FaceSearchPending, r.FaceMatches)
			}
		}
		close(gate)
		checkPair(t, c.Server(), fx, a.ID, b.ID, 1)
		if r := byID(t, c.Server())[other.ID]; r.FaceSearchPending || len(r.FaceMatches) != 0 {
			t.Errorf("another person after loading: pending %v marks %+v", r.FaceSearchPending, r.FaceMatches)
		}
	})
}

// TestCrossKioskDuplicateTwoNodes: two nodes on one PostgreSQL; a face
// ingested by node A is found by node B's search (its index catches up
// from the store), and the marks are the same seen from either node.
func TestCrossKioskDuplicateTwoNodes(t *testing.T) {
	fx := loadFaces(t)
	cfg := central.DefaultConfig()
	testbed.UseStore(t, &cfg, storetest.Postgres)
	a := testbed.StartCentral(t, cfg)
	b := testbed.StartCentral(t, cfg)
	onA, onB := enrol(t, a), enrol(t, b)
	registerEveryone(t, a.Server(), fx, onA, onB)
	dup := faceReg(fx, onB, "two-nodes-dup", 901, 3, 1)
	accepted(t, onB.pushRegs(dup))
	for _, n := range []*testbed.Central{a, b} {
		checkPair(t, n.Server(), fx, testbed.RegID("person-3"), dup.ID, 3)
	}
	// And the other way round: node A finds what node B ingested.
	dup2 := faceReg(fx, onA, "two-nodes-dup2", 902, 4, 1)
	accepted(t, onA.pushRegs(dup2))
	checkPair(t, b.Server(), fx, testbed.RegID("person-4"), dup2.ID, 4)
	// Each node's index holds the faces both ingested.
	for _, n := range []*testbed.Central{a, b} {
		if st, err := n.Server().FaceIndex(); err != nil || st.Faces != len(fx.People)+2 {
			t.Errorf("node %s: face index %+v (%v), want %d faces", n.URL, st, err, len(fx.People)+2)
		}
	}
}
