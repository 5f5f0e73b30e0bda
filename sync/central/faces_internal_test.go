package central

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"slices"
	"testing"
	"time"

	"examkiosk/device/face/calib"
	"examkiosk/sync/central/faceindex"
	"examkiosk/sync/central/store"
	"examkiosk/sync/wire"
)

func TestFaceRecordEncoding(t *testing.T) {
	r := faceRecord{RegID: "0193b2c4-7e1f-7000-8000-000000000009", IDNumber: "11010519491231002X", Model: calib.MobileFaceNet,
		Vec: []float32{0.5, -0.25, float32(math.SmallestNonzeroFloat32), 1}, Code: faceindex.Code{Q: []int8{-127, 3, 0, 127}, Inv: 0.01, Norm: 1}}
	var got faceRecord
	if err := got.unmarshal(r.marshal(), false); err != nil || got.RegID != r.RegID || got.IDNumber != r.IDNumber || got.Model != r.Model ||
		len(got.Vec) != len(r.Vec) || got.Vec[2] != r.Vec[2] || !slices.Equal(got.Code.Q, r.Code.Q) || got.Code.Inv != 0.01 || got.Code.Norm != 1 {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	var light faceRecord
	if err := light.unmarshal(r.marshal(), true); err != nil || light.Model != r.Model || !slices.Equal(light.Code.Q, r.Code.Q) || light.Vec != nil {
		t.Fatalf("code only: %+v %v", light, err)
	}
	b := r.marshal()
	for _, bad := range [][]byte{nil, {2}, b[:len(b)-1], b[:10], append(bytes.Clone(b), 0)} {
		if err := new(faceRecord).unmarshal(bad, false); err == nil {
			t.Errorf("%x: accepted", bad)
		}
	}
}

// TestFacesSealedAndRotated: a stored face is sealed at rest (its vector
// is not in the store in the clear) and a data key rotation re-seals it,
// so the index loads it under the new key.
func TestFacesSealedAndRotated(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	s := quietOpen(t, cfg)
	vec := make([]float32, 192)
	for i := range vec {
		vec[i] = float32(i%7) / 10
	}
	rec := regRecord{Registration: Registration{ID: "0193b2c4-7e1f-7000-8000-00000000000a", IDNumber: "11010519491231002X", Status: StatusUnderReview}}
	err := s.db.Update(func(tx store.Tx) error {
		if err := s.faces.CheckAndMark(tx, &rec, &wire.FaceDescriptor{Model: calib.MobileFaceNet, Kind: calib.KindMobileFaceNet, Vec: vec}); err != nil {
			return err
		}
		return s.storeReg(tx, rec)
	})
	if err != nil {
		t.Fatal(err)
	}
	if !rec.FaceSearchPending {
		t.Error("a stored face is not marked pending")
	}
	clear := binary.LittleEndian.AppendUint32(nil, math.Float32bits(vec[1]))
	clear = binary.LittleEndian.AppendUint32(clear, math.Float32bits(vec[2]))
	s.db.View(func(tx store.Tx) error {
		return tx.Bucket(bFaces).ForEach(func(k, v []byte) error {
			if bytes.Contains(v, clear) || bytes.Contains(v, []byte(rec.IDNumber)) {
				t.Error("a face record is stored in the clear")
			}
			return nil
		})
	})
	s.Close()
	if _, err := RotateDataKey(cfg); err != nil {
		t.Fatal(err)
	}
	s = quietOpen(t, cfg)
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.SettleFaceSearch(ctx); err != nil {
		t.Fatal(err)
	}
	if st, err := s.FaceIndex(); err != nil || st.Faces != 1 {
		t.Fatalf("after rotation: %+v %v", st, err)
	}
}

// TestPendingClaims: a node leaves alone the pending faces another node
// has claimed, and takes them over once the claim has lapsed.
func TestPendingClaims(t *testing.T) {
	s := openFacesStopped(t)
	vec := make([]float32, 192)
	vec[0] = 1
	rec := regRecord{Registration: Registration{ID: "0193b2c4-7e1f-7000-8000-00000000000b", IDNumber: "11010519491231002X", Status: StatusUnderReview}}
	claimed := func(until time.Time) {
		t.Helper()
		err := s.db.Update(func(tx store.Tx) error {
			return tx.Bucket(bFacePending).ForEach(func(k, _ []byte) error {
				return tx.Bucket(bFacePending).Put(k, binary.BigEndian.AppendUint64([]byte("othernod"), uint64(until.UnixNano())))
			})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	pending := func() int {
		n := 0
		s.db.View(func(tx store.Tx) (err error) { n, err = tx.Bucket(bFacePending).Count(); return err })
		return n
	}
	err := s.db.Update(func(tx store.Tx) error {
		if err := s.faces.CheckAndMark(tx, &rec, &wire.FaceDescriptor{Model: calib.MobileFaceNet, Kind: calib.KindMobileFaceNet, Vec: vec}); err != nil {
			return err
		}
		return s.storeReg(tx, rec)
	})
	if err != nil {
		t.Fatal(err)
	}
	claimed(time.Now().Add(time.Minute))
	if _, err := s.faces.round(); err != nil || pending() != 1 {
		t.Fatalf("a face another node claimed was searched here (%v)", err)
	}
	claimed(time.Now().Add(-time.Second))
	if _, err := s.faces.round(); err != nil || pending() != 0 {
		t.Fatalf("a lapsed claim was not taken over: %d pending (%v)", pending(), err)
	}
	if r, err := s.getReg(rec.ID); err != nil || r.FaceSearchPending {
		t.Fatalf("after the search: %+v %v", r, err)
	}
}

// openFacesStopped opens a central on a fresh data directory, waits for its
// face index and stops the background search, so that the test runs the
// search rounds itself. The server is closed at the end of the test.
func openFacesStopped(t *testing.T) *Server {
	t.Helper()
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	s := quietOpen(t, cfg)
	t.Cleanup(func() { s.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.WaitFaceIndex(ctx); err != nil {
		t.Fatal(err)
	}
	s.faces.stop()
	<-s.faces.exited
	return s
}
