package central

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"examkiosk/device/face/calib"
	"examkiosk/sync/central/faceindex"
	"examkiosk/sync/central/store"
	"examkiosk/sync/wire"
)

// storeFace stores rec with a MobileFaceNet face of vec in one
// transaction, as ingest does: the face waits for its search.
func storeFace(t *testing.T, s *Server, rec *regRecord, vec []float32) {
	t.Helper()
	err := s.db.Update(func(tx store.Tx) error {
		if err := s.faces.CheckAndMark(tx, rec, &wire.FaceDescriptor{Model: calib.MobileFaceNet, Kind: calib.KindMobileFaceNet, Vec: vec}); err != nil {
			return err
		}
		return s.storeReg(tx, *rec)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// openSearcher opens a central on a fresh data directory with opts, waits for its face index and, unless
// keep, stops its searcher (the test runs the rounds itself, and reads a
// log the searcher no longer writes). The server is closed at the end of
// the test.
func openSearcher(t *testing.T, keep bool, opts ...Option) *Server {
	t.Helper()
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	s, err := Open(cfg, append([]Option{WithLogger(slog.New(slog.DiscardHandler))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.WaitFaceIndex(ctx); err != nil {
		t.Fatal(err)
	}
	if !keep {
		stopSearcher(s)
	}
	return s
}

// stopSearcher stops s's searcher and waits until it has returned.
func stopSearcher(s *Server) {
	s.faces.stop()
	<-s.faces.exited
}

// claimElsewhere makes every pending face claimed by another node until
// the given time.
func claimElsewhere(t *testing.T, s *Server, until time.Time) {
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

// TestFaceRecordErrorsSayWhy: a stored face record that does not decode
// is named for what is wrong with it in the log an operator reads (face
// N: face record: …): a record of another version (a store written by a
// newer central) says "unknown version", a record cut short anywhere
// before its vector says "truncated", one whose vector is cut or too long
// says "vector size". Every cut of a real record is refused.
func TestFaceRecordErrorsSayWhy(t *testing.T) {
	vec := make([]float32, 192)
	for i := range vec {
		vec[i] = float32(i%5) / 7
	}
	code, err := faceindex.Quantise(calib.MobileFaceNet, vec)
	if err != nil {
		t.Fatal(err)
	}
	r := faceRecord{Model: calib.MobileFaceNet, Code: code, RegID: "0193b2c4-7e1f-7000-8000-00000000000c", IDNumber: "11010519491231002X", Vec: vec}
	b := r.marshal()
	// Where the vector's count starts: before its 192 values, a varint of
	// two bytes; the ID number ends there.
	vecAt := len(b) - 4*len(vec) - 2
	if string(b[vecAt-len(r.IDNumber):vecAt]) != r.IDNumber || b[vecAt] != 192|0x80 {
		t.Fatalf("record layout is not the one this test reads: %x", b[vecAt-20:vecAt+2])
	}
	for n := range len(b) {
		want := "truncated"
		switch {
		case n == 0:
			want = "unknown version"
		case n >= vecAt:
			want = "vector size"
		}
		err := new(faceRecord).unmarshal(b[:n], false)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("record cut to %d of %d bytes: %v, want %q", n, len(b), err, want)
		}
	}
	if err := new(faceRecord).unmarshal(append(b, 0, 0, 0, 0), false); err == nil || !strings.Contains(err.Error(), "vector size") {
		t.Errorf("a vector longer than its count: %v", err)
	}
	for _, v := range []byte{0, 2, 255} {
		other := append([]byte{v}, b[1:]...)
		if err := new(faceRecord).unmarshal(other, false); err == nil || !strings.Contains(err.Error(), "unknown version") {
			t.Errorf("version %d: %v", v, err)
		}
	}
}

// TestFaceRecordCodeOnlyReadsThePrefix: loading the index decodes only
// each record's model and code (the faces of a national season are
// millions): the code-only decoding of a record needs nothing past the
// code, and gives the code the full decoding gives.
func TestFaceRecordCodeOnlyReadsThePrefix(t *testing.T) {
	vec := make([]float32, 192)
	for i := range vec {
		vec[i] = float32(i%3) / 5
	}
	code, err := faceindex.Quantise(calib.MobileFaceNet, vec)
	if err != nil {
		t.Fatal(err)
	}
	r := faceRecord{Model: calib.MobileFaceNet, Code: code, RegID: "0193b2c4-7e1f-7000-8000-00000000000d", IDNumber: "11010519491231002X", Vec: vec}
	b := r.marshal()
	codeEnd := 1 + 1 + len(r.Model) + 2 + len(code.Q) + 8 // version, model, code (192: a 2-byte count)
	var full, light faceRecord
	if err := full.unmarshal(b, false); err != nil {
		t.Fatal(err)
	}
	if err := light.unmarshal(b[:codeEnd], true); err != nil || light.Model != r.Model || !slices.Equal(light.Code.Q, full.Code.Q) ||
		light.Code.Inv != full.Code.Inv || light.Code.Norm != full.Code.Norm {
		t.Fatalf("code only, from the record's first %d bytes: %+v %v", codeEnd, light.Code, err)
	}
	if err := new(faceRecord).unmarshal(b[:codeEnd-1], true); err == nil {
		t.Error("a code cut short was decoded")
	}
}

// TestFaceOfAnotherKindNotSearched: a descriptor that names a model but
// says it is of another kind (its distances mean something else) is not
// searched (logged; the registration is not "search pending" and no face
// is stored), so it can neither flag nor clear anyone.
func TestFaceOfAnotherKindNotSearched(t *testing.T) {
	s := openFacesStopped(t)
	vec := make([]float32, 192)
	vec[3] = 1
	for _, kind := range []string{calib.KindDlib, "", calib.KindMobileFaceNet} {
		rec := regRecord{Registration: Registration{ID: "0193b2c4-7e1f-7000-8000-0000000000" + fmt.Sprintf("%02x", len(kind)), IDNumber: "11010519491231002X", Status: StatusUnderReview}}
		err := s.db.Update(func(tx store.Tx) error {
			return s.faces.CheckAndMark(tx, &rec, &wire.FaceDescriptor{Model: calib.MobileFaceNet, Kind: kind, Vec: vec})
		})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		s.db.View(func(tx store.Tx) (err error) { n, err = tx.Bucket(bFaces).Count(); return err })
		want := kind == calib.KindMobileFaceNet
		if rec.FaceSearchPending != want || (n == 1) != want {
			t.Errorf("kind %q of %s: pending %v, %d faces stored, want searched %v", kind, calib.MobileFaceNet, rec.FaceSearchPending, n, want)
		}
	}
}

// TestFaceLeftOutOfIndexIsLogged: a stored face the index refuses (a code
// of the wrong size: a store fault) is named in the log, the only sign an
// operator has that it is never compared; the faces the index takes are
// not reported, and both are read past (the index goes on with the next).
func TestFaceLeftOutOfIndexIsLogged(t *testing.T) {
	var logs bytes.Buffer
	s := openSearcher(t, false, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	vec := make([]float32, 192)
	vec[7] = 1
	good, err := faceindex.Quantise(calib.MobileFaceNet, vec)
	if err != nil {
		t.Fatal(err)
	}
	bad := faceindex.Code{Q: make([]int8, 10), Inv: 1, Norm: 1}
	err = s.db.Update(func(tx store.Tx) error {
		for i, c := range []faceindex.Code{good, bad, good} {
			r := faceRecord{Seq: uint64(i + 1), Model: calib.MobileFaceNet, Code: c, RegID: fmt.Sprintf("0193b2c4-7e1f-7000-8000-0000000001%02d", i), IDNumber: "11010519491231002X", Vec: vec}
			if err := s.faces.put(tx, r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	st, err := s.FaceIndex()
	if err != nil || st.Faces != 2 {
		t.Fatalf("index after reading three faces, one refused: %+v %v", st, err)
	}
	out := logs.String()
	if n := strings.Count(out, "face left out of the index"); n != 1 || !strings.Contains(out, "face=2 ") {
		t.Fatalf("%d faces reported left out, want face 2 only:\n%s", n, out)
	}
}

// TestDuplicateMarkIsTheClosestRevision: a registration whose revisions
// carry two faces is marked once per match, at the distance of its closer
// face (what the reviewer compares with the threshold), on both sides.
func TestDuplicateMarkIsTheClosestRevision(t *testing.T) {
	s := openFacesStopped(t)
	unit := func(tilt float64) []float32 {
		v := make([]float32, 192)
		v[0], v[1] = float32(math.Cos(tilt)), float32(math.Sin(tilt))
		return v
	}
	a := regRecord{Registration: Registration{ID: "0193b2c4-7e1f-7000-8000-0000000002a0", IDNumber: "11010519491231002X", Status: StatusUnderReview}}
	b := regRecord{Registration: Registration{ID: "0193b2c4-7e1f-7000-8000-0000000002b0", IDNumber: "110105194912310029", Status: StatusUnderReview}}
	probe, far, near := unit(0), unit(0.30), unit(0.15)
	for _, step := range []struct {
		rec *regRecord
		vec []float32
	}{{&a, far}, {&a, near}, {&b, probe}} {
		storeFace(t, s, step.rec, step.vec)
	}
	for more := true; more; {
		var err error
		if more, err = s.faces.round(); err != nil {
			t.Fatal(err)
		}
	}
	m, _ := calib.Lookup(calib.MobileFaceNet)
	k, _ := calib.LookupKind(m.Kind)
	want := k.Distance(probe, near)
	if want >= k.Distance(probe, far) {
		t.Fatal("the test's faces are not nearer and farther")
	}
	for _, pair := range [][2]regRecord{{a, b}, {b, a}} {
		r, err := s.getReg(pair[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.FaceMatches) != 1 || r.FaceMatches[0].RegistrationID != pair[1].ID || math.Abs(r.FaceMatches[0].Distance-want) > 1e-9 {
			t.Errorf("%s: marks %+v, want one for %s at %.4f (the closer face)", r.ID, r.FaceMatches, pair[1].ID, want)
		}
	}
}

// TestFaceSearcherWorksAlone: a node's own searcher takes a stored face
// and searches it without anyone asking (no SettleFaceSearch), and a
// searcher that works logs no error: an operator alerting on errors is
// not paged by a healthy central.
func TestFaceSearcherWorksAlone(t *testing.T) {
	var logs bytes.Buffer
	s := openSearcher(t, true, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	vec := make([]float32, 192)
	vec[9] = 1
	rec := regRecord{Registration: Registration{ID: "0193b2c4-7e1f-7000-8000-0000000004a0", IDNumber: "11010519491231002X", Status: StatusUnderReview}}
	storeFace(t, s, &rec, vec)
	for {
		r, err := s.getReg(rec.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !r.FaceSearchPending {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatal("the node's searcher did not search the stored face")
		case <-time.After(10 * time.Millisecond):
		}
	}
	time.Sleep(50 * time.Millisecond) // what the round logs after its commit
	stopSearcher(s)                   // the log is read once the searcher is done writing it
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Fatalf("errors logged by a searcher that works:\n%s", logs.String())
	}
}

// TestIndexLoadSkipsBadFaces: at start, a stored face the index refuses
// (a code of the wrong size) or that does not open (a damaged record)
// keeps only itself out of the index: the faces around it, in the same
// load batch, are loaded, and the fault is logged as an error naming it.
func TestIndexLoadSkipsBadFaces(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	vec := make([]float32, 192)
	vec[11] = 1
	good, err := faceindex.Quantise(calib.MobileFaceNet, vec)
	if err != nil {
		t.Fatal(err)
	}
	bad := faceindex.Code{Q: make([]int8, 10), Inv: 1, Norm: 1}
	// load stores the records in one transaction, restarts the central and
	// returns what its index holds once loaded and what it logged.
	load := func(put func(s *Server, tx store.Tx) error) (FaceIndexStats, uint64, string) {
		t.Helper()
		s := quietOpen(t, cfg)
		if err := s.db.Update(func(tx store.Tx) error { return put(s, tx) }); err != nil {
			t.Fatal(err)
		}
		s.Close()
		var logs bytes.Buffer
		s, err := Open(cfg, WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.WaitFaceIndex(ctx); err != nil {
			t.Fatal(err)
		}
		s.faces.stop()
		<-s.faces.exited // the log is read once the searcher is done writing it
		s.faces.mu.Lock()
		next := s.faces.next
		s.faces.mu.Unlock()
		st, err := s.FaceIndex()
		if err != nil {
			t.Fatal(err)
		}
		return st, next, logs.String()
	}
	st, next, logs := load(func(s *Server, tx store.Tx) error {
		for i, c := range []faceindex.Code{good, bad, good, good} {
			r := faceRecord{Seq: uint64(i + 1), Model: calib.MobileFaceNet, Code: c, RegID: fmt.Sprintf("0193b2c4-7e1f-7000-8000-0000000005%02d", i), IDNumber: "11010519491231002X", Vec: vec}
			if err := s.faces.put(tx, r); err != nil {
				return err
			}
		}
		return nil
	})
	if !st.Ready || st.Faces != 3 || strings.Count(logs, "a stored face was left out") != 1 || !strings.Contains(logs, "code has 10 values") {
		t.Fatalf("index after loading four faces, one refused: %+v, want 3 faces and the refusal logged:\n%s", st, logs)
	}
	// The index goes on after the last face: a new one is read in once.
	if next != 5 {
		t.Errorf("after loading faces 1 to 4 the index reads on from %d, want 5", next)
	}
	st, _, logs = load(func(_ *Server, tx store.Tx) error {
		return tx.Bucket(bFaces).Put(seqKey(5), []byte("not a sealed record"))
	})
	if st.Faces != 3 || strings.Count(logs, "a stored face was left out") != 1 || !strings.Contains(logs, "level=ERROR") {
		t.Fatalf("index after a damaged record: %+v, want 3 faces and the fault logged:\n%s", st, logs)
	}
}

// TestSearchRoundsOfSixtyFour: a node searches the pending faces in rounds
// of searchRound, each saying whether more wait, until none does; every
// face is searched once, and a node takes its own claims back (a round it
// claimed but did not finish).
func TestSearchRoundsOfSixtyFour(t *testing.T) {
	s := openFacesStopped(t)
	const n = searchRound + 6
	var recs []regRecord
	err := s.db.Update(func(tx store.Tx) error {
		for i := range n {
			vec := make([]float32, 192)
			vec[i] = 1
			rec := regRecord{Registration: Registration{ID: fmt.Sprintf("0193b2c4-7e1f-7000-8000-000000006%03d", i), IDNumber: fmt.Sprintf("1101051949123%04dX", i), Status: StatusUnderReview}}
			if err := s.faces.CheckAndMark(tx, &rec, &wire.FaceDescriptor{Model: calib.MobileFaceNet, Kind: calib.KindMobileFaceNet, Vec: vec}); err != nil {
				return err
			}
			if err := s.storeReg(tx, rec); err != nil {
				return err
			}
			recs = append(recs, rec)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A round this node claimed and did not finish: its claims are its own.
	seqs, more, err := s.faces.claim()
	if err != nil || len(seqs) != searchRound || !more {
		t.Fatalf("claim: %d faces, more %v (%v), want %d and more", len(seqs), more, err, searchRound)
	}
	more, err = s.faces.round()
	if err != nil || !more {
		t.Fatalf("first round: more %v (%v), want more: %d faces wait", more, err, n)
	}
	pending := func() int {
		c := 0
		s.db.View(func(tx store.Tx) (err error) { c, err = tx.Bucket(bFacePending).Count(); return err })
		return c
	}
	if p := pending(); p != n-searchRound {
		t.Fatalf("after the first round %d pending, want %d", p, n-searchRound)
	}
	if more, err = s.faces.round(); err != nil || more || pending() != 0 {
		t.Fatalf("second round: more %v, %d pending (%v)", more, pending(), err)
	}
	if more, err = s.faces.round(); err != nil || more {
		t.Fatalf("a round with nothing pending: more %v (%v)", more, err)
	}
	for _, rec := range recs {
		if r, err := s.getReg(rec.ID); err != nil || r.FaceSearchPending {
			t.Fatalf("%s: pending %v (%v)", rec.ID, r.FaceSearchPending, err)
		}
	}
}

// TestClaimHoldsThirtySeconds: the pending faces a node claimed (every
// face of its round) are left to it by the other nodes for claimFor
// (30 s), up to and at its last instant, and taken over just after (the
// node stopped mid-round).
func TestClaimHoldsThirtySeconds(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	set := func(t time.Time) { mu.Lock(); now = t; mu.Unlock() }
	s := openSearcher(t, false, WithClock(clock))
	for i := range 2 {
		vec := make([]float32, 192)
		vec[5+i] = 1
		rec := regRecord{Registration: Registration{ID: fmt.Sprintf("0193b2c4-7e1f-7000-8000-0000000007a%d", i), IDNumber: fmt.Sprintf("11010519491231%03dX", i), Status: StatusUnderReview}}
		storeFace(t, s, &rec, vec)
	}
	t0 := clock()
	if seqs, _, err := s.faces.claim(); err != nil || len(seqs) != 2 {
		t.Fatalf("first claim: %v (%v), want both faces", seqs, err)
	}
	s.faces.node = [8]byte{'o', 't', 'h', 'e', 'r'} // another node from now on
	for _, at := range []time.Duration{0, 29 * time.Second, claimFor} {
		set(t0.Add(at))
		if seqs, _, err := s.faces.claim(); err != nil || len(seqs) != 0 {
			t.Fatalf("%s after the claim another node took %v (%v)", at, seqs, err)
		}
	}
	set(t0.Add(claimFor + time.Nanosecond))
	if seqs, _, err := s.faces.claim(); err != nil || len(seqs) != 2 {
		t.Fatalf("just after the claim lapsed: %v (%v), want it taken over", seqs, err)
	}
}

// TestSettleWaitsForEveryFace: SettleFaceSearch (tools, tests) returns
// only when no face waits for its search: a face another node claimed
// keeps it waiting until its deadline, which it reports with the count;
// once the claim lapses the face is searched here and it returns.
func TestSettleWaitsForEveryFace(t *testing.T) {
	s := openFacesStopped(t)
	vec := make([]float32, 192)
	vec[2] = 1
	rec := regRecord{Registration: Registration{ID: "0193b2c4-7e1f-7000-8000-0000000008a0", IDNumber: "11010519491231002X", Status: StatusUnderReview}}
	storeFace(t, s, &rec, vec)
	claimElsewhere(t, s, time.Now().Add(time.Minute))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := s.SettleFaceSearch(ctx); err == nil || !strings.Contains(err.Error(), "1 faces still wait") || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("settle with a face claimed elsewhere: %v, want the count and the deadline", err)
	}
	claimElsewhere(t, s, time.Now().Add(-time.Second))
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.SettleFaceSearch(ctx); err != nil {
		t.Fatal(err)
	}
	if r, err := s.getReg(rec.ID); err != nil || r.FaceSearchPending {
		t.Fatalf("after settling: pending %v (%v)", r.FaceSearchPending, err)
	}
}
