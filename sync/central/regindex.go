package central

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"examkiosk/sync/central/store"
)

// The registrations' secondary index, kept by storeReg in the transaction
// that writes the record, in every store alike. It holds no personal data
// (a status, a time and a registration id), so it is not sealed:
//
//   - bRegIndex: status ‖ 0 ‖ received_at (8 bytes, big-endian Unix ns) ‖
//     id → empty. A status's keys in queue order (oldest first): the review
//     queue reads its first page without touching the other registrations.
//   - bRegPos: id → that registration's key in bRegIndex (so that a change
//     of status moves it without unsealing the old record).
//   - bRegCounts: status → how many registrations have it (8 bytes).
//
// A store written before the index gets it at open, once (kRegIndex in
// meta holds regIndexVersion); nothing at a later start scans the
// registrations.
var (
	bRegIndex  = []byte("reg_index")
	bRegPos    = []byte("reg_pos")
	bRegCounts = []byte("reg_counts")
	kRegIndex  = []byte("reg_index_version")
)

// regIndexVersion is the layout of the index; a store holding another
// version rebuilds it at open.
const regIndexVersion = "1"

func regIndexKey(status string, received time.Time, id string) []byte {
	k := make([]byte, 0, len(status)+9+len(id))
	k = append(k, status...)
	k = append(k, 0)
	k = binary.BigEndian.AppendUint64(k, uint64(received.UnixNano()))
	return append(k, id...)
}

// splitRegIndexKey returns the status and id of an index key.
func splitRegIndexKey(k []byte) (status, id string, ok bool) {
	i := bytes.IndexByte(k, 0)
	if i < 0 || len(k) < i+9 {
		return "", "", false
	}
	return string(k[:i]), string(k[i+9:]), true
}

// indexReg files rec under its status and time, moving it from where it
// was filed before.
func indexReg(tx store.Tx, rec regRecord) error {
	pos := tx.Bucket(bRegPos)
	key := regIndexKey(rec.Status, rec.ReceivedAt, rec.ID)
	old := pos.Get([]byte(rec.ID))
	if bytes.Equal(old, key) {
		return nil
	}
	idx := tx.Bucket(bRegIndex)
	if old != nil {
		oldStatus, _, _ := splitRegIndexKey(old)
		if err := idx.Delete(bytes.Clone(old)); err != nil {
			return err
		}
		if err := addRegCount(tx, oldStatus, -1); err != nil {
			return err
		}
	}
	if err := idx.Put(key, nil); err != nil {
		return err
	}
	if err := pos.Put([]byte(rec.ID), key); err != nil {
		return err
	}
	return addRegCount(tx, rec.Status, 1)
}

func addRegCount(tx store.Tx, status string, d int64) error {
	b := tx.Bucket(bRegCounts)
	var n int64
	if v := b.Get([]byte(status)); len(v) == 8 {
		n = int64(binary.BigEndian.Uint64(v))
	}
	return b.Put([]byte(status), binary.BigEndian.AppendUint64(nil, uint64(max(n+d, 0))))
}

// RegistrationCount returns how many registrations have a status, from
// the index's counters (no scan).
func (s *Server) RegistrationCount(status string) (int, error) {
	n := 0
	err := s.db.View(func(tx store.Tx) error { n = regCount(tx, status); return nil })
	return n, err
}

func regCount(tx store.Tx, status string) int {
	if v := tx.Bucket(bRegCounts).Get([]byte(status)); len(v) == 8 {
		return int(binary.BigEndian.Uint64(v))
	}
	return 0
}

// RegistrationsPage returns up to limit registrations with a status in
// queue order (oldest received first), starting after the cursor after
// ("" for the first page), and the cursor of the next page ("" at the
// end). It reads the index and the records of the page only. Status ""
// pages through every registration in id order (kiosks make time-ordered
// ids).
func (s *Server) RegistrationsPage(status, after string, limit int) ([]Registration, string, error) {
	var out []Registration
	next := ""
	err := s.db.View(func(tx store.Tx) (err error) {
		out, next, err = s.regsPage(tx, status, after, limit)
		return err
	})
	return out, next, err
}

// errBadCursor is a page cursor that is not one RegistrationsPage gave.
var errBadCursor = errors.New("bad page cursor")

// regsPage is RegistrationsPage in a transaction.
func (s *Server) regsPage(tx store.Tx, status, after string, limit int) ([]Registration, string, error) {
	if status == "" {
		return s.allRegsPage(tx, after, limit)
	}
	prefix := append([]byte(status), 0)
	from := prefix
	if after != "" {
		k, err := hex.DecodeString(after)
		if err != nil || !bytes.HasPrefix(k, prefix) {
			return nil, "", fmt.Errorf("page cursor %q is not one of status %q: %w", after, status, errBadCursor)
		}
		from = append(k, 0) // the first key after k
	}
	next := ""
	var ids [][]byte
	var last []byte
	if err := tx.Bucket(bRegIndex).Scan(from, false, func(k, _ []byte) error {
		if !bytes.HasPrefix(k, prefix) {
			return store.ErrStop
		}
		if len(ids) == limit {
			next = hex.EncodeToString(last)
			return store.ErrStop
		}
		_, id, ok := splitRegIndexKey(k)
		if !ok {
			return fmt.Errorf("registration index key %x malformed", k)
		}
		ids = append(ids, []byte(id))
		last = bytes.Clone(k)
		return nil
	}); err != nil {
		return nil, "", err
	}
	if err := tx.Bucket(bRegs).Prefetch(ids...); err != nil {
		return nil, "", err
	}
	out := make([]Registration, 0, len(ids))
	for _, id := range ids {
		rec, err := s.loadReg(tx, string(id))
		if err != nil {
			return nil, "", fmt.Errorf("registration %s in the index: %w", id, err)
		}
		out = append(out, toRegistration(rec))
	}
	return out, next, nil
}

// allRegsPage is a page of every registration in id order; the cursor is
// the last id of the page.
func (s *Server) allRegsPage(tx store.Tx, after string, limit int) ([]Registration, string, error) {
	from := []byte{}
	if after != "" {
		from = append([]byte(after), 0) // the first id after it
	}
	var out []Registration
	next := ""
	err := tx.Bucket(bRegs).Scan(from, false, func(k, v []byte) error {
		if len(out) == limit {
			next = out[len(out)-1].ID
			return store.ErrStop
		}
		rec, err := openReg(s.keys.box, k, v)
		if err != nil {
			return err
		}
		out = append(out, toRegistration(rec))
		return nil
	})
	return out, next, err
}

// ensureRegIndex builds the index of a store written without it (or with
// another layout): one scan of the registrations, once.
func ensureRegIndex(tx store.Tx, k *keys) (bool, error) {
	meta := tx.Bucket(bMeta)
	if string(meta.Get(kRegIndex)) == regIndexVersion {
		return false, nil
	}
	for _, name := range [][]byte{bRegIndex, bRegPos, bRegCounts} {
		if err := tx.DeleteBucket(name); err != nil {
			return false, err
		}
	}
	type entry struct {
		id, status string
		at         time.Time
	}
	var all []entry // a scan must not run while the store changes
	if err := eachRegWith(tx, k.box, func(rec regRecord) error {
		all = append(all, entry{rec.ID, rec.Status, rec.ReceivedAt})
		return nil
	}); err != nil {
		return false, fmt.Errorf("index registrations: %w", err)
	}
	for _, e := range all {
		rec := regRecord{Registration: Registration{ID: e.id, Status: e.status, ReceivedAt: e.at}}
		if err := indexReg(tx, rec); err != nil {
			return false, fmt.Errorf("index registrations: %w", err)
		}
	}
	return true, meta.Put(kRegIndex, []byte(regIndexVersion))
}
