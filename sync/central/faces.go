package central

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"examkiosk/device/face/calib"
	"examkiosk/sync/central/faceindex"
	"examkiosk/sync/central/store"
	"examkiosk/sync/wire"
)

// The cross-kiosk duplicate search (DESIGN: one face, one identity; the
// central repeats the kiosk's search across all kiosks).
//
// Every ingested registration that carries a face descriptor
// (wire.Registration.Face) has it stored, sealed, under the next sequence
// number of the faces bucket, with a "search pending" entry, in the ingest
// transaction: ingest stays as fast as without faces. Each node's searcher
// then takes the pending faces, searches each among the faces of every
// other ID number made by the same recognition model, at the model's 1:N
// threshold for the number of faces held (calib: the kiosk's numbers), and
// in one write transaction marks both registrations of every match
// "duplicate suspected" for the reviewers (Registration.FaceMatches) and
// clears the entry. Nothing is refused; the review page says "search
// pending" until then (milliseconds to seconds).
//
// The searcher keeps an in-memory index (faceindex), loaded from the store
// in the background at start and brought up to date from a snapshot
// before each round with the faces any node committed since. Two faces of
// one person committed close together are found either way: each is
// searched in a snapshot that holds the other, or the later one's search
// holds the earlier. Nodes share the pending faces: each claims up to a
// round of them at a time (a claim lapses after claimFor, should its node
// stop); the marks are idempotent and each entry is cleared once.
var (
	bFaces       = []byte("faces")         // sequence → sealed face record
	bFacePending = []byte("faces_pending") // sequence of faces not yet searched
)

// faceRecord is a registration's face as stored: the descriptor, and its
// code in the index (so that loading the index decodes only the model and
// the code).
type faceRecord struct {
	Seq      uint64
	Model    string
	Code     faceindex.Code
	RegID    string
	IDNumber string
	Vec      []float32
}

// faceRecordVersion starts a stored face record: version, then model,
// code (values, scale, norm), registration id, ID number and vector.
const faceRecordVersion = 1

func (r faceRecord) marshal() []byte {
	b := make([]byte, 0, 1+5*binary.MaxVarintLen64+len(r.Model)+len(r.Code.Q)+8+len(r.RegID)+len(r.IDNumber)+4*len(r.Vec))
	b = append(b, faceRecordVersion)
	b = binary.AppendUvarint(b, uint64(len(r.Model)))
	b = append(b, r.Model...)
	b = binary.AppendUvarint(b, uint64(len(r.Code.Q)))
	for _, q := range r.Code.Q {
		b = append(b, byte(q))
	}
	b = binary.LittleEndian.AppendUint32(b, math.Float32bits(r.Code.Inv))
	b = binary.LittleEndian.AppendUint32(b, math.Float32bits(r.Code.Norm))
	for _, s := range []string{r.RegID, r.IDNumber} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.AppendUvarint(b, uint64(len(r.Vec)))
	for _, v := range r.Vec {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

// unmarshal decodes a stored face record; with codeOnly, only its model
// and code (what loading the index needs).
func (r *faceRecord) unmarshal(b []byte, codeOnly bool) error {
	if len(b) < 1 || b[0] != faceRecordVersion {
		return errors.New("face record: unknown version")
	}
	b = b[1:]
	bad := errors.New("face record: truncated")
	field := func() ([]byte, error) {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return nil, bad
		}
		f := b[k : k+int(n)]
		b = b[k+int(n):]
		return f, nil
	}
	model, err := field()
	if err != nil {
		return err
	}
	r.Model = string(model)
	q, err := field()
	if err != nil || len(b) < 8 {
		return bad
	}
	r.Code = faceindex.Code{Q: make([]int8, len(q)),
		Inv: math.Float32frombits(binary.LittleEndian.Uint32(b)), Norm: math.Float32frombits(binary.LittleEndian.Uint32(b[4:]))}
	for i, v := range q {
		r.Code.Q[i] = int8(v)
	}
	b = b[8:]
	if codeOnly {
		return nil
	}
	for _, s := range []*string{&r.RegID, &r.IDNumber} {
		f, err := field()
		if err != nil {
			return err
		}
		*s = string(f)
	}
	n, k := binary.Uvarint(b)
	if k <= 0 || n*4 != uint64(len(b)-k) {
		return errors.New("face record: vector size")
	}
	b = b[k:]
	r.Vec = make([]float32, n)
	for i := range r.Vec {
		r.Vec[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return nil
}

func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// faceSearch is a node's duplicate search: its index and what it has read
// of the faces bucket.
type faceSearch struct {
	s      *Server
	idx    *faceindex.Index
	target float64 // overall false-accept rate per search

	ready  atomic.Bool
	loaded chan struct{} // closed when the index is loaded
	gate   chan struct{} // tests: the load waits for it when set
	wake   chan struct{} // a face was stored: search soon
	done   chan struct{} // closed by stop
	exited chan struct{} // closed when run returns
	once   sync.Once

	node  [8]byte    // this node's id in its claims on pending faces
	mu    sync.Mutex // serialises catch-up and rounds
	next  uint64     // first sequence not yet read into idx
	stats FaceIndexStats
}

// FaceIndexStats describes a node's face index.
type FaceIndexStats struct {
	Ready    bool          `json:"ready"`
	Faces    int           `json:"faces"` // all models
	Bytes    int           `json:"bytes"`
	LoadTime time.Duration `json:"load_time"`
}

func newFaceSearch(s *Server) *faceSearch {
	f := &faceSearch{s: s, idx: faceindex.New(0), target: s.cfg.DuplicateTargetFAR,
		loaded: make(chan struct{}), wake: make(chan struct{}, 1), done: make(chan struct{}), exited: make(chan struct{})}
	rand.Read(f.node[:])
	return f
}

func (f *faceSearch) put(tx store.Tx, r faceRecord) error {
	k := seqKey(r.Seq)
	return tx.Bucket(bFaces).Put(k, f.s.keys.box.Seal(bFaces, k, r.marshal()))
}

func (f *faceSearch) open(k, v []byte, codeOnly bool) (faceRecord, error) {
	var r faceRecord
	if len(k) != 8 {
		return r, fmt.Errorf("face record key %x: want 8 bytes", k)
	}
	plain, err := f.s.keys.box.Open(bFaces, k, v)
	if err != nil {
		return r, err
	}
	if err := r.unmarshal(plain, codeOnly); err != nil {
		return r, fmt.Errorf("face %d: %w", binary.BigEndian.Uint64(k), err)
	}
	r.Seq = binary.BigEndian.Uint64(k)
	return r, nil
}

func (f *faceSearch) get(tx store.Tx, seq uint64) (faceRecord, error) {
	k := seqKey(seq)
	v := tx.Bucket(bFaces).Get(k)
	if v == nil {
		return faceRecord{}, fmt.Errorf("face %d: %w", seq, errNotFound)
	}
	return f.open(k, v, false)
}

// CheckAndMark stores the face of rec (the registration's current
// revision, about to be stored by the caller in tx) for the node's
// searcher, which marks rec and the registrations it matches: rec shows
// "search pending" until then. A face that cannot be searched is logged
// and left out; only store failures return an error.
func (f *faceSearch) CheckAndMark(tx store.Tx, rec *regRecord, d *wire.FaceDescriptor) error {
	if d == nil {
		return nil
	}
	code, err := faceindex.Quantise(d.Model, d.Vec)
	if m, _ := calib.Lookup(d.Model); err == nil && d.Kind != m.Kind {
		err = fmt.Errorf("descriptor of %s says kind %q, want %q", d.Model, d.Kind, m.Kind)
	}
	if err != nil {
		f.s.log.Warn("face not searched for duplicates", "registration", rec.ID, "err", err)
		return nil
	}
	seq, err := tx.Bucket(bFaces).NextSequence()
	if err != nil {
		return err
	}
	if err := f.put(tx, faceRecord{Seq: seq, Model: d.Model, Code: code, RegID: rec.ID, IDNumber: rec.IDNumber, Vec: d.Vec}); err != nil {
		return err
	}
	rec.FaceSearchPending, rec.FaceSeq = true, seq
	select {
	case f.wake <- struct{}{}:
	default:
	}
	return tx.Bucket(bFacePending).Put(seqKey(seq), []byte{})
}

// catchUp reads the faces committed since the last look into the index.
// tx is a read snapshot (never a write transaction: its own faces are not
// committed). f.mu is held.
func (f *faceSearch) catchUp(tx store.Tx) error {
	return tx.Bucket(bFaces).Scan(seqKey(f.next), false, func(k, v []byte) error {
		r, err := f.open(k, v, true)
		if err != nil {
			return err
		}
		if err := f.idx.AddCodes(r.Model, []faceindex.Ref{{Seq: r.Seq}}, []faceindex.Code{r.Code}); err != nil {
			f.s.log.Warn("face left out of the index", "face", r.Seq, "err", err)
		}
		f.next = r.Seq + 1
		return nil
	})
}

// found is one searched face and what it matched.
type found struct {
	face    faceRecord
	matches []wire.DuplicateSuspect // closest first
	n       int                     // faces of the model searched
}

// search searches face r among the indexed faces of other people, in the
// snapshot tx (for the exact vectors of the candidates). f.mu is held and
// the index is current for tx.
func (f *faceSearch) search(tx store.Tx, r faceRecord) (found, error) {
	m, _ := calib.Lookup(r.Model)
	k, _ := calib.LookupKind(m.Kind)
	res := found{face: r, n: f.idx.Len(r.Model)}
	th := m.SearchThreshold(f.target, res.n)
	hits, err := f.idx.Search(r.Model, r.Vec, th)
	if err != nil {
		return res, err
	}
	best := map[string]wire.DuplicateSuspect{}
	for _, h := range hits {
		o, err := f.get(tx, h.Seq)
		if err != nil {
			return res, err
		}
		// Faces of one person (ID number) are never each other's duplicates.
		if o.RegID == r.RegID || o.IDNumber == r.IDNumber || o.Model != r.Model {
			continue
		}
		// The decision is on the exact distance of the stored vectors.
		d := k.Distance(r.Vec, o.Vec)
		if cur, ok := best[o.RegID]; d <= th && (!ok || d < cur.Distance) {
			best[o.RegID] = wire.DuplicateSuspect{RegistrationID: o.RegID, Distance: d, Threshold: th, Model: r.Model}
		}
	}
	for _, mt := range best {
		res.matches = append(res.matches, mt)
	}
	slices.SortFunc(res.matches, func(a, b wire.DuplicateSuspect) int {
		return cmp.Or(cmpFloat(a.Distance, b.Distance), cmp.Compare(a.RegistrationID, b.RegistrationID))
	})
	return res, nil
}

// setMark records on rec that it matches m.RegistrationID (replacing an
// earlier mark for the same registration).
func setMark(rec *regRecord, m wire.DuplicateSuspect) {
	rec.FaceMatches = slices.DeleteFunc(rec.FaceMatches, func(x wire.DuplicateSuspect) bool { return x.RegistrationID == m.RegistrationID })
	rec.FaceMatches = append(rec.FaceMatches, m)
}

// mark writes what the search of a pending face found, unless another
// node did first: both sides of every match, and the registration's
// pending flag cleared when the face is its current revision's.
func (f *faceSearch) mark(tx store.Tx, res found) error {
	key := seqKey(res.face.Seq)
	if tx.Bucket(bFacePending).Get(key) == nil {
		return nil // searched by another node
	}
	if err := tx.Bucket(bFacePending).Delete(key); err != nil {
		return err
	}
	rec, err := f.s.loadReg(tx, res.face.RegID)
	if errors.Is(err, errNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, mt := range res.matches {
		other, err := f.s.loadReg(tx, mt.RegistrationID)
		if errors.Is(err, errNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		setMark(&rec, mt)
		back := mt
		back.RegistrationID = rec.ID
		setMark(&other, back)
		if err := f.s.storeReg(tx, other); err != nil {
			return err
		}
		f.s.log.Warn("duplicate suspected across kiosks: the same face under another ID number",
			"registration", rec.ID, "matched", other.ID, "distance", mt.Distance, "threshold", mt.Threshold, "model", mt.Model, "searched", res.n)
		if err := f.s.audit(tx, auditEntry{Actor: "central", Action: "face_duplicate_suspected", Target: rec.ID,
			Detail: fmt.Sprintf("matches %s: distance %.3f <= %.3f (%s, %d faces)", other.ID, mt.Distance, mt.Threshold, mt.Model, res.n)}); err != nil {
			return err
		}
	}
	if rec.FaceSeq == 0 || rec.FaceSeq == res.face.Seq {
		rec.FaceSearchPending = false // (0: stored before FaceSeq, one face per record)
	}
	return f.s.storeReg(tx, rec)
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// searchRound is how many pending faces one round searches: one
// snapshot and one write transaction each.
const searchRound = 64

// run loads the index, then searches pending faces whenever one is stored
// (and every pollFaces, for those other nodes stored), until stop.
func (f *faceSearch) run() {
	defer close(f.exited)
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-f.done:
			return
		}
	}
	start := time.Now()
	next, err := f.load()
	for err != nil {
		if errors.Is(err, store.ErrClosed) {
			return
		}
		f.s.log.Error("load the face index: duplicate searches stay pending; retrying in 5 s", "err", err)
		select {
		case <-time.After(5 * time.Second):
		case <-f.done:
			return
		}
		next, err = f.load()
	}
	f.mu.Lock()
	f.next = max(f.next, next)
	f.stats.LoadTime = time.Since(start)
	f.ready.Store(true)
	f.mu.Unlock()
	f.s.log.Info("face index loaded", "bytes", f.idx.Bytes(), "took", time.Since(start).Round(time.Millisecond))
	close(f.loaded)
	t := time.NewTicker(pollFaces)
	defer t.Stop()
	for {
		for {
			more, err := f.round()
			if err != nil {
				if errors.Is(err, store.ErrClosed) {
					return
				}
				f.s.log.Error("search pending faces", "err", err)
				break
			}
			if !more {
				break
			}
		}
		select {
		case <-f.done:
			return
		case <-f.wake:
		case <-t.C:
		}
	}
}

// pollFaces is how often a node looks for faces other nodes stored.
const pollFaces = 250 * time.Millisecond

// stop ends the searcher (Server.Close); it returns at once (run may
// finish a round or a load first: f.exited closes then).
func (f *faceSearch) stop() { f.once.Do(func() { close(f.done) }) }

// round searches up to searchRound pending faces and marks what they
// match; more reports whether a full round was found (look again).
func (f *faceSearch) round() (more bool, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	seqs, more, err := f.claim()
	if err != nil || len(seqs) == 0 {
		return false, err
	}
	var results []found
	err = f.s.db.View(func(tx store.Tx) error {
		if err := f.catchUp(tx); err != nil {
			return err
		}
		for _, seq := range seqs {
			r, err := f.get(tx, seq)
			if err != nil {
				return err
			}
			res, err := f.search(tx, r)
			if err != nil {
				return err
			}
			results = append(results, res)
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	err = f.s.db.Update(func(tx store.Tx) error {
		for _, res := range results {
			if err := f.mark(tx, res); err != nil {
				return err
			}
		}
		return nil
	})
	return more, err
}

// claimFor is how long a node's claim on pending faces holds: another node
// takes them over after it (the first one stopped mid-round).
const claimFor = 30 * time.Second

// claim takes up to searchRound pending faces that no other node is
// searching, so that nodes share the work; more reports whether others
// wait. A pending entry's value is empty, or the claiming node's id and
// the claim's expiry.
func (f *faceSearch) claim() (seqs []uint64, more bool, err error) {
	now := f.s.now()
	pick := func(tx store.Tx) error {
		seqs, more = seqs[:0], false
		err := tx.Bucket(bFacePending).ForEach(func(k, v []byte) error {
			free := len(v) != 16 || bytes.Equal(v[:8], f.node[:]) || now.UnixNano() > int64(binary.BigEndian.Uint64(v[8:]))
			if !free || len(k) != 8 {
				return nil
			}
			if len(seqs) == searchRound {
				more = true
				return store.ErrStop
			}
			seqs = append(seqs, binary.BigEndian.Uint64(k))
			return nil
		})
		if errors.Is(err, store.ErrStop) {
			return nil
		}
		return err
	}
	// Look first without the write lock: most rounds find nothing.
	if err := f.s.db.View(pick); err != nil || len(seqs) == 0 {
		return nil, false, err
	}
	err = f.s.db.Update(func(tx store.Tx) error {
		if err := pick(tx); err != nil {
			return err
		}
		v := binary.BigEndian.AppendUint64(f.node[:], uint64(now.Add(claimFor).UnixNano()))
		for _, seq := range seqs {
			if err := tx.Bucket(bFacePending).Put(seqKey(seq), v); err != nil {
				return err
			}
		}
		return nil
	})
	return seqs, more, err
}

// load reads every stored face into the index (opening them on every
// core) and returns the sequence after the last.
func (f *faceSearch) load() (uint64, error) {
	type raw struct{ k, v []byte }
	const batch = 1024
	work := make(chan []raw, 4)
	var wg sync.WaitGroup
	var (
		failMu sync.Mutex
		failed error
	)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for b := range work {
				refs := make(map[string][]faceindex.Ref, 1)
				codes := make(map[string][]faceindex.Code, 1)
				for _, kv := range b {
					r, err := f.open(kv.k, kv.v, true)
					if err != nil {
						failMu.Lock()
						failed = cmp.Or(failed, err)
						failMu.Unlock()
						continue
					}
					refs[r.Model] = append(refs[r.Model], faceindex.Ref{Seq: r.Seq})
					codes[r.Model] = append(codes[r.Model], r.Code)
				}
				for model := range refs {
					if err := f.idx.AddCodes(model, refs[model], codes[model]); err != nil {
						// One refused vector: add the rest one by one.
						for i := range refs[model] {
							if err := f.idx.AddCodes(model, refs[model][i:i+1], codes[model][i:i+1]); err != nil {
								failMu.Lock()
								failed = cmp.Or(failed, err)
								failMu.Unlock()
							}
						}
					}
				}
			}
		})
	}
	var next uint64
	cur := make([]raw, 0, batch)
	err := f.s.db.View(func(tx store.Tx) error {
		return tx.Bucket(bFaces).ForEach(func(k, v []byte) error {
			cur = append(cur, raw{bytes.Clone(k), bytes.Clone(v)})
			if len(k) == 8 {
				next = binary.BigEndian.Uint64(k) + 1
			}
			if len(cur) == batch {
				work <- cur
				cur = make([]raw, 0, batch)
			}
			return nil
		})
	})
	work <- cur
	close(work)
	wg.Wait()
	if err != nil {
		return 0, err
	}
	if failed != nil {
		// A record that does not open is a store fault: say so, but search
		// with the rest rather than not at all.
		f.s.log.Error("face index: a stored face was left out", "err", failed)
	}
	return next, nil
}

// SettleFaceSearch waits until this node's face index is loaded and no
// stored face waits for its search (tests, tools).
func (s *Server) SettleFaceSearch(ctx context.Context) error {
	if err := s.WaitFaceIndex(ctx); err != nil {
		return err
	}
	for {
		if _, err := s.faces.round(); err != nil {
			return err
		}
		n := 0
		if err := s.db.View(func(tx store.Tx) (err error) { n, err = tx.Bucket(bFacePending).Count(); return err }); err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d faces still wait for their duplicate search: %w", n, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// WaitFaceIndex waits until this node's face index is loaded.
func (s *Server) WaitFaceIndex(ctx context.Context) error {
	select {
	case <-s.faces.loaded:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("face index not loaded: %w", ctx.Err())
	}
}

// FaceIndex describes this node's face index, after reading into it the
// faces committed since its last search.
func (s *Server) FaceIndex() (FaceIndexStats, error) {
	f := s.faces
	f.mu.Lock()
	var err error
	if f.ready.Load() {
		err = s.db.View(f.catchUp) // a snapshot holds committed faces only
	}
	st := f.stats
	f.mu.Unlock()
	if err != nil {
		return st, fmt.Errorf("face index: %w", err)
	}
	st.Ready = f.ready.Load()
	st.Bytes = f.idx.Bytes()
	for _, id := range calib.Shipped() {
		st.Faces += f.idx.Len(id)
	}
	return st, nil
}
