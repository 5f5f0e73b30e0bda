package central

import (
	"encoding/binary"
	"testing"
	"time"

	"examkiosk/device/face/calib"
	"examkiosk/sync/central/store"
	"examkiosk/sync/wire"
)

// A revision brings a new face: the registration shows "search pending"
// until that face is searched, not until the search of the previous
// revision's face (still pending when the revision came) ends.
func TestFaceSearchPendingUntilTheCurrentRevisionsFace(t *testing.T) {
	s := openFacesStopped(t)
	const id = "0193b2c4-7e1f-7000-8000-00000000000c"
	for rev := 1; rev <= 2; rev++ {
		vec := make([]float32, 192)
		vec[rev] = 1
		rec := regRecord{Registration: Registration{ID: id, Revision: rev, IDNumber: "11010519491231002X", Status: StatusUnderReview}}
		err := s.db.Update(func(tx store.Tx) error {
			if err := s.faces.CheckAndMark(tx, &rec, &wire.FaceDescriptor{Model: calib.MobileFaceNet, Kind: calib.KindMobileFaceNet, Vec: vec}); err != nil {
				return err
			}
			return s.storeReg(tx, rec)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var seqs []uint64 // the pending faces, revision 1's then 2's
	if err := s.db.View(func(tx store.Tx) error {
		return tx.Bucket(bFacePending).ForEach(func(k, _ []byte) error {
			seqs = append(seqs, binary.BigEndian.Uint64(k))
			return nil
		})
	}); err != nil || len(seqs) != 2 {
		t.Fatalf("pending faces %v (%v), want 2", seqs, err)
	}
	// Another node holds the second face: this node searches the first.
	claim := func(until time.Time) {
		t.Helper()
		if err := s.db.Update(func(tx store.Tx) error {
			return tx.Bucket(bFacePending).Put(seqKey(seqs[1]), binary.BigEndian.AppendUint64([]byte("othernod"), uint64(until.UnixNano())))
		}); err != nil {
			t.Fatal(err)
		}
	}
	claim(time.Now().Add(time.Minute))
	if _, err := s.faces.round(); err != nil {
		t.Fatal(err)
	}
	if r, err := s.getReg(id); err != nil || r.Revision != 2 || !r.FaceSearchPending {
		t.Fatalf("revision 2's face is not searched yet, the registration says pending=%v (%v)", r.FaceSearchPending, err)
	}
	claim(time.Now().Add(-time.Second))
	if _, err := s.faces.round(); err != nil {
		t.Fatal(err)
	}
	if r, err := s.getReg(id); err != nil || r.FaceSearchPending {
		t.Fatalf("after the search of revision 2's face: pending=%v (%v)", r.FaceSearchPending, err)
	}
}
