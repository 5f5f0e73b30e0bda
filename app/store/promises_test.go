package store

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"testing"

	bolt "go.etcd.io/bbolt"

	"examkiosk/app/registration"
	"examkiosk/sync/wire"
)

// TestPhotoAndDescriptorsSealedAtRest: the file holds neither the photo's
// JPEG bytes nor the face descriptor's floats, in any encoding a careless
// write would use (raw little- or big-endian float32, JSON text).
func TestPhotoAndDescriptorsSealedAtRest(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	ph := photo(t, 25<<10, 42)
	r := newReg(t, 9, ph)
	for i := range r.Descriptors[0] {
		r.Descriptors[0][i] = 0.0123456 + float32(i)/1000 // distinctive values
	}
	if _, err := s.Submit(ctx, r); err != nil {
		t.Fatal(err)
	}
	path := s.Path()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Any 32-byte run of the JPEG: its header, middle and end.
	for _, off := range []int{0, len(ph) / 3, len(ph) / 2, len(ph) - 32} {
		if bytes.Contains(data, ph[off:off+32]) {
			t.Fatalf("database file holds the photo's bytes %d..%d in the clear", off, off+32)
		}
	}
	d := r.Descriptors[0]
	var le, be []byte
	for _, f := range d[:8] {
		le = binary.LittleEndian.AppendUint32(le, math.Float32bits(f))
		be = binary.BigEndian.AppendUint32(be, math.Float32bits(f))
	}
	js, _ := json.Marshal(d[:4])
	txt := strconv.FormatFloat(float64(d[3]), 'g', -1, 32)
	for name, needle := range map[string][]byte{"little-endian": le, "big-endian": be, "JSON": js[1 : len(js)-1], "text": []byte(txt)} {
		if bytes.Contains(data, needle) {
			t.Errorf("database file holds the face descriptor (%s) in the clear", name)
		}
	}
}

// TestAuditForgeryDetected forges entries as someone with the file but not
// the data key would: a MAC under an empty key, under a zero key, under a
// guessed key, or the whole chain rewritten under such a key. Each must fail
// VerifyAudit; a MAC computed with the wrong key (or none) would let them
// pass.
func TestAuditForgeryDetected(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	if _, err := s.Submit(ctx, newReg(t, 1, photo(t, 5<<10, 1))); err != nil {
		t.Fatal(err)
	}
	if err := s.Audit(ctx, "staff_login", "", "pin ok"); err != nil {
		t.Fatal(err)
	}
	if n, err := s.VerifyAudit(ctx); err != nil || n < 3 {
		t.Fatalf("VerifyAudit = %d, %v before forging", n, err)
	}
	mac := func(key []byte, e AuditEntry) string {
		e.MAC = ""
		b, _ := json.Marshal(e)
		m := hmac.New(sha256.New, key)
		m.Write(b)
		return hex.EncodeToString(m.Sum(nil))
	}
	keys := map[string][]byte{
		"empty key":  nil,
		"zero key":   make([]byte, 32),
		"guessed":    []byte("examkiosk store audit v1"),
		"index key":  s.seal.indexKey,
		"sha of nil": func() []byte { h := sha256.Sum256(nil); return h[:] }(),
	}
	for name, key := range keys {
		// Append a forged entry after the last one.
		t.Run("append/"+name, func(t *testing.T) {
			forgeAndVerify(t, s, func(tx *bolt.Tx) error {
				b := tx.Bucket(bktAudit)
				_, v := b.Cursor().Last()
				var last AuditEntry
				if err := json.Unmarshal(v, &last); err != nil {
					return err
				}
				e := AuditEntry{Seq: last.Seq + 1, At: last.At, Kind: "purge", Detail: "forged", Prev: last.MAC}
				e.MAC = mac(key, e)
				if err := b.SetSequence(e.Seq); err != nil {
					return err
				}
				j, _ := json.Marshal(e)
				return b.Put(u64(e.Seq), j)
			})
		})
		// Rewrite every entry, chaining the forged MACs.
		t.Run("rewrite/"+name, func(t *testing.T) {
			forgeAndVerify(t, s, func(tx *bolt.Tx) error {
				b := tx.Bucket(bktAudit)
				prev := ""
				var all []AuditEntry
				if err := b.ForEach(func(k, v []byte) error {
					var e AuditEntry
					if err := json.Unmarshal(v, &e); err != nil {
						return err
					}
					all = append(all, e)
					return nil
				}); err != nil {
					return err
				}
				for _, e := range all {
					if e.Kind == "staff_login" {
						e.Detail = "pin failed" // the edit the forger wants
					}
					e.Prev = prev
					e.MAC = mac(key, e)
					prev = e.MAC
					j, _ := json.Marshal(e)
					if err := b.Put(u64(e.Seq), j); err != nil {
						return err
					}
				}
				return nil
			})
		})
	}
	// The real key passes the same forging code: the forger is not broken.
	t.Run("control/real key", func(t *testing.T) {
		err := s.db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket(bktAudit)
			_, v := b.Cursor().Last()
			var last AuditEntry
			if err := json.Unmarshal(v, &last); err != nil {
				return err
			}
			e := AuditEntry{Seq: last.Seq + 1, At: last.At, Kind: "purge", Prev: last.MAC}
			e.MAC = mac(s.seal.auditKey, e)
			b.SetSequence(e.Seq)
			j, _ := json.Marshal(e)
			b.Put(u64(e.Seq), j)
			if _, err := s.verifyAudit(tx); err != nil {
				t.Fatalf("entry with the real key refused: %v", err)
			}
			return errRollback
		})
		if !errors.Is(err, errRollback) {
			t.Fatal(err)
		}
	})
}

var errRollback = errors.New("rollback")

// forgeAndVerify applies edit and runs the audit check in one transaction
// that is then rolled back; the check must refuse.
func forgeAndVerify(t *testing.T, s *Store, edit func(tx *bolt.Tx) error) {
	t.Helper()
	var verr error
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := edit(tx); err != nil {
			return err
		}
		_, verr = s.verifyAudit(tx)
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatal(err)
	}
	if verr == nil {
		t.Fatal("forged audit entry not detected")
	}
}

// TestOneRegistrationPerExamAfterDelivery: the duplicate check holds in every
// status after delivery, not only while the first registration is queued,
// and it survives the photo purge. Only withdrawn or expired registrations
// free the candidate to register again.
func TestOneRegistrationPerExamAfterDelivery(t *testing.T) {
	ctx := context.Background()
	paths := map[registration.Status][]registration.Status{
		registration.StatusDelivered:   nil,
		registration.StatusUnderReview: {registration.StatusUnderReview},
		registration.StatusApproved:    {registration.StatusApproved},
		registration.StatusRejected:    {registration.StatusRejected},
		registration.StatusPaid:        {registration.StatusApproved, registration.StatusPaid},
		registration.StatusExpired:     {registration.StatusExpired},
	}
	for final, steps := range paths {
		t.Run(string(final), func(t *testing.T) {
			s := openTest(t)
			ph := photo(t, 5<<10, 3)
			first, err := s.Submit(ctx, newReg(t, 1, ph))
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Ack(ctx, []wire.Result{{ID: first.ID, Revision: 1, Status: wire.StatusAccepted}}); err != nil {
				t.Fatal(err)
			}
			for i, st := range steps {
				u := wire.Update{RegistrationID: first.ID, Revision: 1, Status: string(st), At: t0, Reason: "照片不符合要求"}
				if err := s.ApplyPull(ctx, wire.Pull{Updates: []wire.Update{u}, Cursor: fmt.Sprint(i + 1)}); err != nil {
					t.Fatal(err)
				}
			}
			if g, err := s.Get(ctx, first.ID); err != nil || g.Status != final {
				t.Fatalf("first registration: %s, %v; want %s", g.Status, err, final)
			}
			if _, err := s.Purge(ctx, t0.AddDate(0, 0, 30)); err != nil {
				t.Fatal(err)
			}
			again := newReg(t, 1, ph)
			again.PositionID = "P2"
			_, err = s.Submit(ctx, again)
			if final == registration.StatusExpired {
				if err != nil {
					t.Fatalf("after expiry the candidate may register again: %v", err)
				}
				return
			}
			if !errors.Is(err, registration.ErrDuplicate) {
				t.Fatalf("second registration for the same exam while the first is %s: %v; want ErrDuplicate", final, err)
			}
			other := newReg(t, 1, ph)
			other.ExamID, other.PositionID = "E2", "T1"
			if _, err := s.Submit(ctx, other); err != nil {
				t.Fatalf("the same candidate for another exam: %v", err)
			}
		})
	}
}
