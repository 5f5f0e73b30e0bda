package central

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"examkiosk/exam"
	"examkiosk/sync/central/store"
	"examkiosk/sync/seal"
	"examkiosk/sync/wire"
)

// opened is a pushed item after decryption and validation, ready to store.
type opened struct {
	item   wire.SealedItem
	doc    []byte
	value  []byte // hash ‖ doc
	sealed []byte // value sealed at rest, as stored
	hash   [32]byte
	reg    wire.Registration
	reason string // non-empty: reject
}

func (s *Server) handlePush(w http.ResponseWriter, r *http.Request, dev string, body []byte) {
	var req wire.PushRequest
	var err error
	if strings.HasPrefix(r.Header.Get("Content-Type"), wire.PushContentType) {
		err = req.UnmarshalBinary(body)
	} else {
		err = decodeJSON(body, &req)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, wire.ErrCodeBadRequest, err.Error())
		return
	}
	if len(req.Items) > s.cfg.MaxBatchItems {
		writeError(w, http.StatusRequestEntityTooLarge, wire.ErrCodeTooLarge,
			fmt.Sprintf("batch has %d items, at most %d allowed", len(req.Items), s.cfg.MaxBatchItems))
		return
	}
	results, err := s.Ingest(dev, req.Items)
	if err != nil {
		s.log.Error("ingest", "device", dev, "items", len(req.Items), "err", err)
		writeError(w, http.StatusInternalServerError, wire.ErrCodeInternal, "batch not stored; retry")
		return
	}
	writeJSON(w, http.StatusOK, wire.PushResponse{Results: results})
}

// Ingest stores a batch from a device in one transaction and answers per
// item: accepted (new revision stored), duplicate (this exact revision was
// stored before; nothing changes) or rejected with a reason. Delivering the
// same items again changes nothing.
//
// Everything that needs no store (unsealing, validation, sealing at rest)
// runs before the transaction, on every core; the transaction is a Batch,
// so the batches of kiosks pushing at the same time share one commit. It
// returns once that commit is durable: the kiosk's acknowledgement never
// precedes it.
func (s *Server) Ingest(dev string, items []wire.SealedItem) ([]wire.Result, error) {
	now := s.now()
	ops := make([]opened, len(items))
	// Opening is CPU-bound (X25519, JSON, JPEG header): use every core.
	var wg sync.WaitGroup
	workers := min(runtime.GOMAXPROCS(0), len(items))
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(items); i += workers {
				ops[i] = s.open(dev, items[i])
			}
		})
	}
	wg.Wait()
	// The sealed revisions (40 KB photos) go to the store ahead of its
	// write lock: ingestOne puts these same slices.
	large := make([][]byte, 0, len(ops))
	for i := range ops {
		if ops[i].reason == "" {
			large = append(large, ops[i].sealed)
		}
	}
	results := make([]wire.Result, len(items))
	// Batch may run this more than once: it sets every result afresh.
	err := s.db.Batch(func(tx store.Tx) error {
		if err := s.prefetchIngest(tx, dev, ops); err != nil {
			return err
		}
		cat, err := loadCatalog(tx)
		if err != nil {
			return err
		}
		var device wire.Device
		if err := getJSON(tx.Bucket(bDevices), dev, &device); err != nil {
			return fmt.Errorf("device %s: %w", dev, err)
		}
		for i := range ops {
			op := &ops[i]
			results[i] = wire.Result{ID: op.item.ID, Revision: op.item.Revision}
			reason := op.reason
			if reason == "" {
				reason, err = s.ingestOne(tx, cat, device, op, now)
				if err != nil {
					return err
				}
			}
			switch reason {
			case "":
				results[i].Status = wire.StatusAccepted
			case duplicate:
				results[i].Status = wire.StatusDuplicate
			default:
				results[i].Status, results[i].Reason = wire.StatusRejected, reason
			}
		}
		return nil
	}, large...)
	if err != nil {
		return nil, err
	}
	return results, nil
}

// prefetchIngest asks the store for the records Ingest reads: the
// catalog, the device, the count of registrations under review, those of
// every valid item and the sequences it advances (a store across a network
// reads them all at the first Get, in one round trip).
func (s *Server) prefetchIngest(tx store.Tx, dev string, ops []opened) error {
	var regs, revs, cands [][]byte
	for i := range ops {
		op := &ops[i]
		if op.reason != "" {
			continue
		}
		regs = append(regs, []byte(op.item.ID))
		revs = append(revs, revKey(op.item.ID, op.item.Revision))
		cands = append(cands, s.keys.blind(op.reg.IDNumber, op.reg.ExamID))
	}
	if len(regs) == 0 {
		return nil
	}
	if err := tx.Bucket(bMeta).Prefetch(kCatalog); err != nil {
		return err
	}
	if err := tx.Bucket(bDevices).Prefetch([]byte(dev)); err != nil {
		return err
	}
	if err := tx.Bucket(bRegCounts).Prefetch([]byte(StatusUnderReview)); err != nil {
		return err
	}
	// The sequences of the faces stored for the search and of the
	// device's update feed.
	if err := tx.Bucket(bFaces).Prefetch(); err != nil {
		return err
	}
	if err := tx.Bucket(bUpdates, []byte(dev)).Prefetch(); err != nil {
		return err
	}
	if err := tx.Bucket(bRegs).Prefetch(regs...); err != nil {
		return err
	}
	if err := tx.Bucket(bRegPos).Prefetch(regs...); err != nil {
		return err
	}
	if err := tx.Bucket(bRevs).Prefetch(revs...); err != nil {
		return err
	}
	return tx.Bucket(bCandidates).Prefetch(cands...)
}

// duplicate is ingestOne's answer for a revision stored before with the
// same content.
const duplicate = "\x00duplicate"

// ingestOne stores one opened item in tx and returns "" (accepted),
// duplicate, or the reason it is refused. An error aborts the batch: only
// store failures return one, never anything an item contains.
func (s *Server) ingestOne(tx store.Tx, cat *wire.Catalog, device wire.Device, op *opened, now time.Time) (string, error) {
	id, rev, reg := op.item.ID, op.item.Revision, &op.reg
	rec, err := s.loadReg(tx, id)
	exists := err == nil
	if err != nil && !errors.Is(err, errNotFound) {
		return "", err
	}
	// A registration belongs to the kiosk (and so the centre) that first
	// delivered it: no other kiosk may revise it.
	if exists && (rec.DeviceID != device.ID || rec.CentreID != device.CentreID) {
		return "报名编号属于其他自助机 / registration " + id + " belongs to another kiosk; submit a new registration", nil
	}
	hash, _, err := s.loadRevision(tx, id, rev)
	switch {
	case err == nil && hash == op.hash:
		return duplicate, nil
	case err == nil:
		return "该版本已以不同内容提交，请以新版本重新提交 / this revision was already delivered with different content; resubmit as a new revision", nil
	case !errors.Is(err, errNotFound):
		return "", err
	}
	if reason := s.validateAgainstCatalog(cat, reg, now); reason != "" {
		return reason, nil
	}
	if exists && rec.IDNumber != reg.IDNumber {
		return "报名编号已属于另一考生 / registration id belongs to another candidate", nil
	}
	// One registration per candidate and exam (an expired one does not count).
	if other := s.candidateReg(tx, reg.IDNumber, reg.ExamID); other != "" && other != id {
		o, err := s.loadReg(tx, other)
		if err != nil && !errors.Is(err, errNotFound) {
			return "", err
		}
		if err == nil && o.Status != StatusExpired {
			return "该考生已报名本次考试，请修改原报名 / the candidate already has registration " + other + " for this exam; revise it instead", nil
		}
	}
	current := !exists || rev > rec.Revision
	if exists && current {
		// The central's status machine decides whether a new revision may
		// replace the current one: never once approved for payment or paid.
		if err := regTransition(rec.Status, StatusUnderReview); err != nil {
			return "报名已" + statusWords[rec.Status] + "，不能再修改 / registration is " + rec.Status + " and can no longer be revised", nil
		}
	}
	if err := s.putSealedRevision(tx, id, rev, op.sealed); err != nil {
		return "", err
	}
	if !current {
		return "", nil // an older revision arriving late is kept as history only
	}
	if exists && rec.ExamID != reg.ExamID && s.candidateReg(tx, rec.IDNumber, rec.ExamID) == id {
		if err := tx.Bucket(bCandidates).Delete(s.keys.blind(rec.IDNumber, rec.ExamID)); err != nil {
			return "", err
		}
	}
	if err := s.setCandidateReg(tx, reg.IDNumber, reg.ExamID, id); err != nil {
		return "", err
	}
	rec = regRecord{Registration: Registration{
		ID: reg.ID, Revision: reg.Revision, DeviceID: device.ID, CentreID: device.CentreID,
		Name: reg.Name, IDNumber: reg.IDNumber, ExamID: reg.ExamID, PositionID: reg.PositionID,
		Source: reg.IdentitySource, Status: StatusUnderReview, SubmittedAt: reg.SubmittedAt,
		ReceivedAt: now, Duplicate: reg.Duplicate,
	}, UpdatedAt: now}
	if err := s.faces.CheckAndMark(tx, &rec, reg.Face); err != nil {
		return "", err
	}
	if err := s.storeReg(tx, rec); err != nil {
		return "", err
	}
	return "", appendUpdate(tx, device.ID, wire.Update{RegistrationID: rec.ID, Revision: rec.Revision, Status: StatusUnderReview, At: now})
}

// open decrypts and checks one item on its own (no store access).
func (s *Server) open(dev string, it wire.SealedItem) opened {
	op := opened{item: it}
	if !validRegID(it.ID) || it.Revision < 1 || it.Revision > maxRevision {
		op.reason = fmt.Sprintf("报名编号或版本号无效 / item needs a UUID id and a revision from 1 to %d", maxRevision)
		return op
	}
	// Open into a buffer with room for the hash in front: that is the
	// stored value (hash ‖ document), without another copy of the photo.
	val := make([]byte, sha256.Size, sha256.Size+max(len(it.Sealed)-seal.Overhead, 0))
	val, err := s.keys.opener.OpenAppend(val, it.Sealed)
	if err != nil {
		op.reason = "无法解密，请检查考点设备注册 / cannot open the sealed document (wrong central key?)"
		return op
	}
	doc := val[sha256.Size:]
	op.hash = sha256.Sum256(doc)
	copy(val, op.hash[:])
	op.doc, op.value = doc, val
	if err := decodeJSON(doc, &op.reg); err != nil {
		op.reason = "报名数据格式错误 / malformed registration document: " + err.Error()
		return op
	}
	reg := &op.reg
	switch {
	case reg.ID != it.ID || reg.Revision != it.Revision:
		op.reason = "报名编号或版本与外层不一致 / document id or revision differs from the item"
	case reg.DeviceID != dev:
		op.reason = "报名数据来自其他设备 / document names another device"
	case strings.TrimSpace(reg.Name) == "":
		op.reason = "姓名为空，请填写姓名 / name is empty"
	case !validIDNumber(reg.IDNumber):
		op.reason = "身份证号码无效，请核对后重新提交 / ID number is not a valid 18-digit resident ID number"
	default:
		op.reason = s.checkPhoto(reg.Photo)
	}
	if op.reason == "" {
		op.sealed = s.sealRevision(it.ID, it.Revision, op.value)
	}
	return op
}

// checkPhoto applies the exam notice's photo rules, the same function the
// kiosk applies before it submits (exam.CheckPhotoFile).
func (s *Server) checkPhoto(p []byte) string {
	if r := exam.CheckPhotoFile(p, 0); r != nil {
		return "photo: " + r.Error()
	}
	return ""
}

// maxRevision bounds a registration's revision number.
const maxRevision = 10000

// validRegID reports whether id is a UUID in its canonical text form, as
// kiosks make them (time-ordered, version 7).
func validRegID(id string) bool {
	if len(id) != 36 {
		return false
	}
	u, err := uuid.Parse(id)
	return err == nil && u.String() == id
}

// validateAgainstCatalog checks the exam, the position and the registration
// period: submitted while registration was open (by the kiosk's clock, which
// signs within the central's skew), and delivered no later than
// late_delivery_grace after the deadline (a kiosk offline for hours still
// delivers what was submitted in time; a backdated document does not get in
// days later).
func (s *Server) validateAgainstCatalog(cat *wire.Catalog, reg *wire.Registration, now time.Time) string {
	for _, e := range cat.Exams {
		if e.ID != reg.ExamID {
			continue
		}
		switch {
		case reg.SubmittedAt.After(now.Add(s.cfg.ClockSkew)):
			return "提交时间晚于中心时间，请校准自助机时钟 / submitted_at is in the future; fix the kiosk clock"
		case !e.RegisterFrom.IsZero() && reg.SubmittedAt.Before(e.RegisterFrom):
			return "报名尚未开始 / submitted before registration for " + e.Name + " opened"
		case !e.RegisterUntil.IsZero() && reg.SubmittedAt.After(e.RegisterUntil):
			return "报名已截止 / submitted after the registration deadline of " + e.Name
		case !e.RegisterUntil.IsZero() && now.After(e.RegisterUntil.Add(s.cfg.LateDeliveryGrace)):
			return "报名已截止，送达过晚 / delivered after the registration deadline of " + e.Name + " and its delivery grace"
		}
		for _, p := range e.Positions {
			if p.ID == reg.PositionID {
				return ""
			}
		}
		return "所报职位不存在，请重新选择职位 / position " + reg.PositionID + " does not exist in exam " + e.ID
	}
	return "所报考试不存在，请重新选择 / exam " + reg.ExamID + " does not exist"
}
