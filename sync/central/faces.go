package central

import (
	"bytes"
	"cmp"
	"context"
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
// number of the faces bucket, and searched among the faces of every other
// ID number made by the same recognition model, at the model's 1:N
// threshold for the number of faces held (calib: the kiosk's numbers). A
// match marks both registrations "duplicate suspected" for the reviewers
// (Registration.FaceMatches); nothing is refused.
//
// Each node searches an in-memory index (faceindex) that it loads from the
// store in the background at start. Writers are serialised across every
// node of a store, so inside the ingest transaction the node first reads
// the faces committed since its last look (by any node) into the index:
// a search always sees every face committed before it. Faces written by
// the running transaction are searched from a short list and reach the
// index only once committed. While the index is still loading, a face is
// stored with a "search pending" entry and the registration shows it; when
// the load ends the node searches the pending faces and marks what they
// match (any node may do it; the entries live in the store).
var (
	bFaces       = []byte("faces")         // sequence → sealed face record
	bFacePending = []byte("faces_pending") // sequence of faces not yet searched
)

// faceRecord is a registration's face as stored.
type faceRecord struct {
	Seq      uint64
	RegID    string
	IDNumber string
	Model    string
	Vec      []float32
}

const faceRecordVersion = 1

func (r faceRecord) marshal() []byte {
	b := make([]byte, 0, 1+3*binary.MaxVarintLen64+len(r.RegID)+len(r.IDNumber)+len(r.Model)+4*len(r.Vec))
	b = append(b, faceRecordVersion)
	for _, s := range []string{r.RegID, r.IDNumber, r.Model} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.AppendUvarint(b, uint64(len(r.Vec)))
	for _, v := range r.Vec {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

func (r *faceRecord) unmarshal(b []byte) error {
	if len(b) < 1 || b[0] != faceRecordVersion {
		return errors.New("face record: unknown version")
	}
	b = b[1:]
	next := func() (uint64, error) {
		n, k := binary.Uvarint(b)
		if k <= 0 {
			return 0, errors.New("face record: truncated")
		}
		b = b[k:]
		return n, nil
	}
	for _, s := range []*string{&r.RegID, &r.IDNumber, &r.Model} {
		n, err := next()
		if err != nil || n > uint64(len(b)) {
			return errors.New("face record: truncated")
		}
		*s, b = string(b[:n]), b[n:]
	}
	n, err := next()
	if err != nil || n*4 != uint64(len(b)) {
		return errors.New("face record: vector size")
	}
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
	loaded chan struct{} // closed when the index is loaded and pending faces searched
	gate   chan struct{} // tests: the load waits for it when set

	mu      sync.Mutex
	next    uint64   // first sequence not yet read into idx
	tx      store.Tx // the write transaction whose faces are in txFaces
	txFirst uint64   // its first face's sequence
	txFaces []faceRecord
	stats   FaceIndexStats
}

// FaceIndexStats describes a node's face index.
type FaceIndexStats struct {
	Ready    bool          `json:"ready"`
	Faces    int           `json:"faces"` // all models
	Bytes    int           `json:"bytes"`
	LoadTime time.Duration `json:"load_time"`
}

func newFaceSearch(s *Server) *faceSearch {
	return &faceSearch{s: s, idx: faceindex.New(0), target: calib.DefaultTargetFAR, loaded: make(chan struct{})}
}

// person is a keyed hash of an ID number: faces of one person are never
// each other's duplicates.
func (f *faceSearch) person(idNumber string) uint64 {
	return binary.BigEndian.Uint64(f.s.keys.blind(idNumber, "\x00face"))
}

func (f *faceSearch) put(tx store.Tx, r faceRecord) error {
	k := seqKey(r.Seq)
	return tx.Bucket(bFaces).Put(k, f.s.keys.box.Seal(bFaces, k, r.marshal()))
}

func (f *faceSearch) open(k, v []byte) (faceRecord, error) {
	var r faceRecord
	if len(k) != 8 {
		return r, fmt.Errorf("face record key %x: want 8 bytes", k)
	}
	plain, err := f.s.keys.box.Open(bFaces, k, v)
	if err != nil {
		return r, err
	}
	if err := r.unmarshal(plain); err != nil {
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
	return f.open(k, v)
}

// searchable says why a descriptor cannot be searched ("" when it can): a
// model without calibration has no 1:N threshold.
func searchable(d *wire.FaceDescriptor) error {
	m, ok := calib.Lookup(d.Model)
	if !ok {
		return fmt.Errorf("recognition model %q has no calibration", d.Model)
	}
	if d.Kind != m.Kind || len(d.Vec) != m.Size {
		return fmt.Errorf("descriptor of %s is %q with %d values, want %q with %d", d.Model, d.Kind, len(d.Vec), m.Kind, m.Size)
	}
	for _, v := range d.Vec {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("descriptor of %s has a value that is not a finite number", d.Model)
		}
	}
	return nil
}

// CheckAndMark stores the face of rec (the registration's current
// revision, about to be stored by the caller in tx) and searches it among
// the faces of other ID numbers: a match is recorded on rec and on the
// matched registration. A face that cannot be searched is logged and left
// out; only store failures return an error.
func (f *faceSearch) CheckAndMark(tx store.Tx, rec *regRecord, d *wire.FaceDescriptor) error {
	if d == nil {
		return nil
	}
	if err := searchable(d); err != nil {
		f.s.log.Warn("face not searched for duplicates", "registration", rec.ID, "err", err)
		return nil
	}
	seq, err := tx.Bucket(bFaces).NextSequence()
	if err != nil {
		return err
	}
	r := faceRecord{Seq: seq, RegID: rec.ID, IDNumber: rec.IDNumber, Model: d.Model, Vec: d.Vec}
	if err := f.put(tx, r); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.tx != tx {
		f.tx, f.txFirst, f.txFaces = tx, seq, nil
	}
	if !f.ready.Load() {
		rec.FaceSearchPending = true
		f.txFaces = append(f.txFaces, r)
		return tx.Bucket(bFacePending).Put(seqKey(seq), []byte{})
	}
	if err := f.catchUp(tx); err != nil {
		return err
	}
	err = f.searchAndMark(tx, rec, r)
	f.txFaces = append(f.txFaces, r)
	return err
}

// catchUp reads the faces committed since the last look into the index:
// those before the running transaction's first face. f.mu is held.
func (f *faceSearch) catchUp(tx store.Tx) error {
	limit := uint64(math.MaxUint64)
	if f.tx == tx && f.txFirst > 0 {
		limit = f.txFirst // sequences start at 1
	}
	return tx.Bucket(bFaces).Scan(seqKey(f.next), false, func(k, v []byte) error {
		if len(k) == 8 && binary.BigEndian.Uint64(k) >= limit {
			return store.ErrStop
		}
		r, err := f.open(k, v)
		if err != nil {
			return err
		}
		if err := f.idx.Add(r.Model, faceindex.Ref{Seq: r.Seq, Person: f.person(r.IDNumber)}, r.Vec); err != nil {
			f.s.log.Warn("face left out of the index", "face", r.Seq, "err", err)
		}
		f.next = r.Seq + 1
		return nil
	})
}

// searchAndMark searches face r of registration rec and marks both sides
// of every match. f.mu is held and the index is current.
func (f *faceSearch) searchAndMark(tx store.Tx, rec *regRecord, r faceRecord) error {
	m, _ := calib.Lookup(r.Model)
	k, _ := calib.LookupKind(m.Kind)
	n := f.idx.Len(r.Model)
	for _, o := range f.txFaces {
		if o.Model == r.Model {
			n++
		}
	}
	th := m.SearchThreshold(f.target, n)
	hits, err := f.idx.Search(r.Model, r.Vec, th, f.person(r.IDNumber))
	if err != nil {
		return err
	}
	best := map[string]wire.DuplicateSuspect{}
	consider := func(o faceRecord) {
		if o.RegID == rec.ID || o.IDNumber == rec.IDNumber || o.Model != r.Model {
			return
		}
		// The decision is on the exact distance of the stored vectors.
		d := k.Distance(r.Vec, o.Vec)
		if cur, ok := best[o.RegID]; d <= th && (!ok || d < cur.Distance) {
			best[o.RegID] = wire.DuplicateSuspect{RegistrationID: o.RegID, Distance: d, Threshold: th, Model: r.Model}
		}
	}
	for _, h := range hits {
		o, err := f.get(tx, h.Seq)
		if err != nil {
			return err
		}
		consider(o)
	}
	for _, o := range f.txFaces {
		if o.Seq != r.Seq {
			consider(o)
		}
	}
	matches := make([]wire.DuplicateSuspect, 0, len(best))
	for _, m := range best {
		matches = append(matches, m)
	}
	slices.SortFunc(matches, func(a, b wire.DuplicateSuspect) int {
		if c := cmpFloat(a.Distance, b.Distance); c != 0 {
			return c
		}
		return bytes.Compare([]byte(a.RegistrationID), []byte(b.RegistrationID))
	})
	for _, mt := range matches {
		other, err := f.s.loadReg(tx, mt.RegistrationID)
		if errors.Is(err, errNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		rec.FaceMatches = slices.DeleteFunc(rec.FaceMatches, func(x wire.DuplicateSuspect) bool { return x.RegistrationID == mt.RegistrationID })
		rec.FaceMatches = append(rec.FaceMatches, mt)
		back := mt
		back.RegistrationID = rec.ID
		other.FaceMatches = slices.DeleteFunc(other.FaceMatches, func(x wire.DuplicateSuspect) bool { return x.RegistrationID == rec.ID })
		other.FaceMatches = append(other.FaceMatches, back)
		if err := f.s.storeReg(tx, other); err != nil {
			return err
		}
		f.s.log.Warn("duplicate suspected across kiosks: the same face under another ID number",
			"registration", rec.ID, "matched", other.ID, "distance", mt.Distance, "threshold", th, "model", r.Model, "searched", n)
		if err := f.s.audit(tx, auditEntry{Actor: "central", Action: "face_duplicate_suspected", Target: rec.ID,
			Detail: fmt.Sprintf("matches %s: distance %.3f <= %.3f (%s, %d faces)", other.ID, mt.Distance, th, r.Model, n)}); err != nil {
			return err
		}
	}
	return nil
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

// run loads the index and then searches the faces left pending while it
// loaded. It returns when both are done or the store is closed.
func (f *faceSearch) run() {
	if f.gate != nil {
		<-f.gate
	}
	start := time.Now()
	next, err := f.load()
	for err != nil {
		if errors.Is(err, store.ErrClosed) {
			return
		}
		f.s.log.Error("load the face index: duplicate searches stay pending; retrying in 5 s", "err", err)
		time.Sleep(5 * time.Second)
		next, err = f.load()
	}
	f.mu.Lock()
	f.next = max(f.next, next)
	f.stats.LoadTime = time.Since(start)
	f.ready.Store(true)
	f.mu.Unlock()
	f.s.log.Info("face index loaded", "faces", f.idx.Len(calib.MobileFaceNet)+f.idx.Len(calib.Dlib),
		"bytes", f.idx.Bytes(), "took", time.Since(start).Round(time.Millisecond))
	for {
		more, err := f.resolvePending(500)
		if err != nil {
			if !errors.Is(err, store.ErrClosed) {
				f.s.log.Error("search pending faces", "err", err)
			}
			return
		}
		if !more {
			break
		}
	}
	close(f.loaded)
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
				vecs := make(map[string][][]float32, 1)
				for _, kv := range b {
					r, err := f.open(kv.k, kv.v)
					if err != nil {
						failMu.Lock()
						failed = cmp.Or(failed, err)
						failMu.Unlock()
						continue
					}
					refs[r.Model] = append(refs[r.Model], faceindex.Ref{Seq: r.Seq, Person: f.person(r.IDNumber)})
					vecs[r.Model] = append(vecs[r.Model], r.Vec)
				}
				for model := range refs {
					if err := f.idx.AddMany(model, refs[model], vecs[model]); err != nil {
						// One refused vector: add the rest one by one.
						for i := range refs[model] {
							if err := f.idx.Add(model, refs[model][i], vecs[model][i]); err != nil {
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

// resolvePending searches up to limit faces stored while the index was
// loading and marks their matches; more reports whether some remain.
func (f *faceSearch) resolvePending(limit int) (more bool, err error) {
	err = f.s.db.Update(func(tx store.Tx) error {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.tx, f.txFirst, f.txFaces = tx, 0, nil
		if err := f.catchUp(tx); err != nil {
			return err
		}
		var seqs []uint64
		more = false
		if err := tx.Bucket(bFacePending).ForEach(func(k, _ []byte) error {
			if len(seqs) == limit {
				more = true
				return store.ErrStop
			}
			if len(k) == 8 {
				seqs = append(seqs, binary.BigEndian.Uint64(k))
			}
			return nil
		}); err != nil && !errors.Is(err, store.ErrStop) {
			return err
		}
		for _, seq := range seqs {
			if err := tx.Bucket(bFacePending).Delete(seqKey(seq)); err != nil {
				return err
			}
			r, err := f.get(tx, seq)
			if err != nil {
				return err
			}
			rec, err := f.s.loadReg(tx, r.RegID)
			if errors.Is(err, errNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if err := f.searchAndMark(tx, &rec, r); err != nil {
				return err
			}
			rec.FaceSearchPending = false
			if err := f.s.storeReg(tx, rec); err != nil {
				return err
			}
		}
		return nil
	})
	return more, err
}

// WaitFaceIndex waits until this node's face index is loaded and the
// faces stored while it loaded have been searched.
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
