package central

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"image/jpeg"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"examkiosk/sync/seal"
	"examkiosk/sync/wire"
)

// opened is a pushed item after decryption and validation, ready to store.
type opened struct {
	item   wire.SealedItem
	doc    []byte
	value  []byte // hash ‖ doc, as stored
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
	results := make([]wire.Result, len(items))
	err := s.db.Update(func(tx *bolt.Tx) error {
		cat, err := loadCatalog(tx)
		if err != nil {
			return err
		}
		var device wire.Device
		if err := getJSON(tx.Bucket(bDevices), dev, &device); err != nil {
			return fmt.Errorf("device %s: %w", dev, err)
		}
		regs, revs := tx.Bucket(bRegs), tx.Bucket(bRevs)
		for i := range ops {
			op := &ops[i]
			res := wire.Result{ID: op.item.ID, Revision: op.item.Revision}
			results[i] = res
			if op.reason != "" {
				results[i].Status, results[i].Reason = wire.StatusRejected, op.reason
				continue
			}
			rk := revKey(op.item.ID, op.item.Revision)
			if old := revs.Get(rk); old != nil {
				if len(old) >= 32 && bytes.Equal(old[:32], op.hash[:]) {
					results[i].Status = wire.StatusDuplicate
				} else {
					results[i].Status, results[i].Reason = wire.StatusRejected,
						"该版本已以不同内容提交，请以新版本重新提交 / this revision was already delivered with different content; resubmit as a new revision"
				}
				continue
			}
			if reason := validateAgainstCatalog(cat, &op.reg, now); reason != "" {
				results[i].Status, results[i].Reason = wire.StatusRejected, reason
				continue
			}
			var rec regRecord
			err := getJSON(regs, op.item.ID, &rec)
			if err != nil && err != errNotFound {
				return err
			}
			if err == nil && rec.IDNumber != op.reg.IDNumber {
				results[i].Status, results[i].Reason = wire.StatusRejected,
					"报名编号已属于另一考生 / registration id belongs to another candidate"
				continue
			}
			if err := revs.Put(rk, op.value); err != nil {
				return err
			}
			results[i].Status = wire.StatusAccepted
			if err == nil && rec.Revision > op.item.Revision {
				continue // an older revision arriving late is kept as history only
			}
			rec = regRecord{Registration: Registration{
				ID: op.reg.ID, Revision: op.reg.Revision, DeviceID: dev, CentreID: device.CentreID,
				Name: op.reg.Name, IDNumber: op.reg.IDNumber, ExamID: op.reg.ExamID, PositionID: op.reg.PositionID,
				Source: op.reg.IdentitySource, Status: StatusUnderReview, SubmittedAt: op.reg.SubmittedAt,
				ReceivedAt: now, Duplicate: op.reg.Duplicate,
			}, UpdatedAt: now}
			if err := putJSON(regs, rec.ID, rec); err != nil {
				return err
			}
			if err := appendUpdate(tx, dev, wire.Update{RegistrationID: rec.ID, Revision: rec.Revision, Status: StatusUnderReview, At: now}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

// open decrypts and checks one item on its own (no store access).
func (s *Server) open(dev string, it wire.SealedItem) opened {
	op := opened{item: it}
	if it.ID == "" || it.Revision < 1 {
		op.reason = "缺少报名编号或版本号 / item needs an id and a revision ≥ 1"
		return op
	}
	// Open into a buffer with room for the hash in front: that is the
	// stored value (hash ‖ document), without another copy of the photo.
	val := make([]byte, sha256.Size, sha256.Size+max(len(it.Sealed)-seal.Overhead, 0))
	val, err := s.sealKey.OpenAppend(val, it.Sealed)
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
	return op
}

func (s *Server) checkPhoto(p []byte) string {
	if len(p) < 3 || p[0] != 0xFF || p[1] != 0xD8 || p[2] != 0xFF {
		return "照片不是JPEG格式，请重新拍照 / photo is not a JPEG"
	}
	if len(p) < s.cfg.PhotoMinBytes {
		return fmt.Sprintf("照片小于%d字节，请重新拍照 / photo is %d bytes, at least %d required", s.cfg.PhotoMinBytes, len(p), s.cfg.PhotoMinBytes)
	}
	c, err := jpeg.DecodeConfig(bytes.NewReader(p))
	if err != nil {
		return "照片无法读取，请重新拍照 / photo cannot be decoded: " + err.Error()
	}
	if c.Width < s.cfg.PhotoMinWidth || c.Height < s.cfg.PhotoMinHeight {
		return fmt.Sprintf("照片尺寸%d×%d不足%d×%d，请重新拍照 / photo is %d×%d px, at least %d×%d required",
			c.Width, c.Height, s.cfg.PhotoMinWidth, s.cfg.PhotoMinHeight, c.Width, c.Height, s.cfg.PhotoMinWidth, s.cfg.PhotoMinHeight)
	}
	return ""
}

func validateAgainstCatalog(cat *wire.Catalog, reg *wire.Registration, _ time.Time) string {
	for _, e := range cat.Exams {
		if e.ID != reg.ExamID {
			continue
		}
		if !e.RegisterUntil.IsZero() && reg.SubmittedAt.After(e.RegisterUntil) {
			return "报名已截止 / submitted after the registration deadline of " + e.Name
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
