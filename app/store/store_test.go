package store

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"

	bolt "go.etcd.io/bbolt"

	"examkiosk/app/registration"
	"examkiosk/sync/wire"
)

// t0 is the tests' "now"; the catalog is open around it.
var t0 = time.Date(2026, 11, 26, 9, 30, 0, 0, time.UTC)

func testCatalog(version int64) wire.Catalog {
	return wire.Catalog{Version: version, Exams: []wire.Exam{
		{ID: "E1", Name: "2026 年事业单位公开招聘", RegisterFrom: t0.AddDate(0, -1, 0), RegisterUntil: t0.AddDate(1, 0, 0),
			Positions: []wire.Position{{ID: "P1", Name: "文秘"}, {ID: "P2", Name: "会计"}}},
		{ID: "E2", Name: "2026 年教师招聘", RegisterFrom: t0.AddDate(0, -1, 0), RegisterUntil: t0.AddDate(1, 0, 0),
			Positions: []wire.Position{{ID: "T1", Name: "语文"}}},
	}}
}

// photo returns a JPEG of at least size bytes (noise compresses badly).
func photo(tb testing.TB, size int, seed uint64) []byte {
	tb.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	for side := 64; ; side += 16 {
		img := image.NewRGBA(image.Rect(0, 0, side, side*7/5))
		for i := range img.Pix {
			img.Pix[i] = uint8(rng.UintN(256))
		}
		img.Set(0, 0, color.White)
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 60}); err != nil {
			tb.Fatal(err)
		}
		if buf.Len() >= size {
			return buf.Bytes()
		}
	}
}

// idNumber makes a valid ID number from a counter.
func idNumber(n int) string {
	birth := time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, (n/1000)%7000) // unique for n < 7,000,000
	s := fmt.Sprintf("440305%s%03d", birth.Format("20060102"), n%1000)
	c, _ := registration.CheckDigit(s)
	return s + string(c)
}

func newReg(tb testing.TB, n int, ph []byte) registration.Registration {
	desc := make([]float32, registration.DescriptorLen)
	for i := range desc {
		desc[i] = float32(i%13) / 20
	}
	return registration.Registration{
		Name: "欧阳明月", IDNumber: idNumber(n), Phone: fmt.Sprintf("139%08d", n%100000000),
		Education: registration.EducationMaster, Major: "计算机科学与技术", GraduationYear: 2010,
		WorkExperience: "2010–2018 深圳某科技公司 软件工程师", ExamID: "E1", PositionID: "P1",
		Photo: ph, Descriptors: [][]float32{desc}, FaceDistance: 0.28, LivenessPassed: true,
		IdentitySource: registration.SourceSocialSecurityQR, DeviceID: "kiosk-sz-01",
	}
}

func testConfig(dir string) Config {
	cfg := DefaultConfig()
	cfg.Path = filepath.Join(dir, "kiosk.db")
	return cfg
}

// openTest opens a store in a temp dir with the clock at t0 and a catalog.
func openTest(t testing.TB) *Store {
	t.Helper()
	s, err := Open(testConfig(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.now = func() time.Time { return t0 }
	if err := s.PutCatalog(context.Background(), testCatalog(1)); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSubmitGetPending(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	ph := photo(t, 40<<10, 1)
	in := newReg(t, 1, ph)
	in.Name = "  欧阳明月 " // normalized on submit
	got, err := s.Submit(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.ID) != 36 || got.ID[14] != '7' || got.Revision != 1 || got.Status != registration.StatusSubmitted || !got.SubmittedAt.Equal(t0) {
		t.Fatalf("Submit = id %q rev %d status %s at %v", got.ID, got.Revision, got.Status, got.SubmittedAt)
	}
	back, err := s.Get(ctx, got.ID)
	if err != nil {
		t.Fatal(err)
	}
	if back.Name != "欧阳明月" || back.IDNumber != in.IDNumber || !bytes.Equal(back.Photo, ph) || len(back.Descriptors) != 1 || back.Descriptors[0][5] != in.Descriptors[0][5] {
		t.Fatalf("Get = %+v", back.Name)
	}
	items, err := s.Pending(ctx, 10, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 || items[0].ID != got.ID || items[0].Revision != 1 || items[0].Seq == 0 {
		t.Fatalf("Pending = %+v", items)
	}
	if strings.Contains(items[0].CandidateKey, in.IDNumber) || items[0].CandidateKey == "" {
		t.Fatalf("CandidateKey %q reveals or lacks the candidate", items[0].CandidateKey)
	}
	var w wire.Registration
	if err := json.Unmarshal(items[0].Doc, &w); err != nil {
		t.Fatal(err)
	}
	if w.ID != got.ID || w.Name != "欧阳明月" || w.IDNumber != in.IDNumber || !bytes.Equal(w.Photo, ph) || w.DeviceID != "kiosk-sz-01" || w.Education != "master" {
		t.Fatalf("Doc = %+v", w)
	}
	list, err := s.ListByCandidate(ctx, in.IDNumber)
	if err != nil || len(list) != 1 || list[0].ID != got.ID || list[0].Photo != nil {
		t.Fatalf("ListByCandidate = %v, %v", list, err)
	}
	if list, _ := s.ListByCandidate(ctx, idNumber(2)); len(list) != 0 {
		t.Fatalf("ListByCandidate(other) = %v", list)
	}
	if _, err := s.Get(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get(nope) = %v", err)
	}
	st, err := s.Stats(ctx)
	if err != nil || st.Registrations != 1 || st.Queued != 1 || st.Quarantined != 0 || st.DBBytes <= 0 || !st.OldestQueued.Equal(t0) || st.CatalogVersion != 1 {
		t.Fatalf("Stats = %+v, %v", st, err)
	}
}

func TestPendingBounds(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	ph := photo(t, 30<<10, 2)
	var ids []string
	for i := range 5 {
		r, err := s.Submit(ctx, newReg(t, 100+i, ph))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	tests := []struct{ limit, maxBytes, want int }{
		{10, 1 << 30, 5},
		{3, 1 << 30, 3},
		{10, 1, 1}, // always at least one
		{10, 100 << 10, 2},
	}
	for _, tt := range tests {
		items, err := s.Pending(ctx, tt.limit, tt.maxBytes)
		if err != nil {
			t.Fatal(err)
		}
		if len(items) != tt.want {
			t.Errorf("Pending(%d, %d) = %d items; want %d", tt.limit, tt.maxBytes, len(items), tt.want)
		}
		for i, it := range items {
			if it.ID != ids[i] {
				t.Errorf("Pending item %d = %s; want %s (FIFO)", i, it.ID, ids[i])
			}
		}
	}
}

func TestSealedAtRest(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	r := newReg(t, 7, photo(t, 20<<10, 3))
	r.Name, r.Phone, r.Major = "司马相如", "13987654321", "古典文献学独特专业"
	if _, err := s.Submit(ctx, r); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSetting(ctx, "pin", []byte("secret-pin-4711")); err != nil {
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
	for _, needle := range []string{r.Name, r.IDNumber, r.IDNumber[:17], r.Phone, r.Major, "secret-pin-4711", "kiosk-sz-01\",\"name"} {
		if bytes.Contains(data, []byte(needle)) {
			t.Errorf("database file contains %q in the clear", needle)
		}
	}
	for _, p := range []string{path, path + ".key"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %04o; want 0600", p, fi.Mode().Perm())
		}
	}
}

func TestRefusalsWriteNothing(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	ph := photo(t, 20<<10, 4)
	first, err := s.Submit(ctx, newReg(t, 1, ph))
	if err != nil {
		t.Fatal(err)
	}
	before, _ := s.Stats(ctx)
	auditBefore, _ := s.VerifyAudit(ctx)
	tests := []struct {
		name string
		edit func(r *registration.Registration)
		want error
	}{
		{"duplicate same exam", func(r *registration.Registration) { r.PositionID = "P2" }, registration.ErrDuplicate},
		{"bad check digit", func(r *registration.Registration) {
			r.IDNumber = r.IDNumber[:17] + string("0123456789"[(strings.IndexByte("0123456789X", r.IDNumber[17])+1)%10])
		}, &registration.FieldError{Field: "id_number", Code: "id_check_digit"}},
		{"unknown exam", func(r *registration.Registration) { r.ExamID = "E9" }, &registration.FieldError{Code: "unknown_exam"}},
		{"unknown position", func(r *registration.Registration) { r.PositionID = "T1" }, &registration.FieldError{Code: "unknown_position"}},
		{"oversize name", func(r *registration.Registration) { r.Name = strings.Repeat("名", 1000) }, &registration.FieldError{Field: "name", Code: "too_long"}},
		{"invalid utf8", func(r *registration.Registration) { r.Major = "\xc3\x28" }, &registration.FieldError{Code: "invalid_utf8"}},
		{"control chars", func(r *registration.Registration) { r.Major = "a\x1bb" }, &registration.FieldError{Code: "control_chars"}},
		{"oversize photo", func(r *registration.Registration) { r.Photo = make([]byte, 2<<20) }, &registration.FieldError{Field: "photo", Code: "too_long"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newReg(t, 1, ph)
			tt.edit(&r)
			_, err := s.Submit(ctx, r)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Submit = %v; want %v", err, tt.want)
			}
			var ve *registration.ValidationError
			if !errors.As(err, &ve) || !strings.ContainsFunc(ve.Messages("zh-CN")[0], func(r rune) bool { return unicode.Is(unicode.Han, r) }) || ve.Messages("en")[0] == ve.Messages("zh-CN")[0] {
				t.Fatalf("Submit error %v is not a bilingual ValidationError", err)
			}
		})
	}
	after, _ := s.Stats(ctx)
	auditAfter, _ := s.VerifyAudit(ctx)
	if after.Registrations != before.Registrations || after.Queued != before.Queued || auditAfter != auditBefore {
		t.Fatalf("refusals wrote: before %+v/%d after %+v/%d", before, auditBefore, after, auditAfter)
	}
	// Same candidate, other exam: allowed. After withdrawal: allowed again.
	other := newReg(t, 1, ph)
	other.ExamID, other.PositionID = "E2", "T1"
	if _, err := s.Submit(ctx, other); err != nil {
		t.Fatalf("other exam: %v", err)
	}
	if err := s.Withdraw(ctx, first.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Submit(ctx, newReg(t, 1, ph)); err != nil {
		t.Fatalf("after withdrawal: %v", err)
	}
	if q, _, _ := s.Depth(ctx); q != 2 {
		t.Fatalf("queued = %d; want 2 (withdrawn item left the outbox)", q)
	}
}

func TestNoCatalog(t *testing.T) {
	s, err := Open(testConfig(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.Submit(context.Background(), newReg(t, 1, photo(t, 1000, 5)))
	if !errors.Is(err, registration.ErrNoCatalog) {
		t.Fatalf("Submit without catalog = %v", err)
	}
	if _, err := s.Catalog(context.Background()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Catalog = %v", err)
	}
}

func TestAckAndQuarantine(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	ph := photo(t, 10<<10, 6)
	a, _ := s.Submit(ctx, newReg(t, 1, ph))
	b, _ := s.Submit(ctx, newReg(t, 2, ph))
	c, _ := s.Submit(ctx, newReg(t, 3, ph))
	err := s.Ack(ctx, []wire.Result{
		{ID: a.ID, Revision: 1, Status: wire.StatusAccepted},
		{ID: b.ID, Revision: 1, Status: wire.StatusRejected, Reason: "position P1 closed"},
		{ID: c.ID, Revision: 1, Status: wire.StatusDuplicate},
	})
	if err != nil {
		t.Fatal(err)
	}
	if q, qq, _ := s.Depth(ctx); q != 0 || qq != 1 {
		t.Fatalf("Depth = %d, %d; want 0, 1", q, qq)
	}
	if items, _ := s.Pending(ctx, 10, 1<<20); len(items) != 0 {
		t.Fatalf("Pending after ack = %v", items)
	}
	for _, id := range []string{a.ID, c.ID} {
		r, _ := s.Get(ctx, id)
		if r.Status != registration.StatusDelivered || !r.DeliveredAt.Equal(t0) {
			t.Fatalf("%s status %s delivered %v", id, r.Status, r.DeliveredAt)
		}
	}
	rb, _ := s.Get(ctx, b.ID)
	if rb.Status != registration.StatusSubmitted || rb.Quarantine != "position P1 closed" {
		t.Fatalf("quarantined registration = %s %q", rb.Status, rb.Quarantine)
	}
	qs, err := s.Quarantined(ctx, 10)
	if err != nil || len(qs) != 1 || qs[0].ID != b.ID || qs[0].Reason != "position P1 closed" {
		t.Fatalf("Quarantined = %+v, %v", qs, err)
	}
	// Repeated ack: nothing changes. Unknown status: refused, nothing written.
	if err := s.Ack(ctx, []wire.Result{{ID: a.ID, Revision: 1, Status: wire.StatusAccepted}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Ack(ctx, []wire.Result{{ID: b.ID, Revision: 1, Status: wire.StatusDuplicate}, {ID: "x", Status: "maybe"}}); err == nil {
		t.Fatal("Ack with unknown status succeeded")
	}
	if _, qq, _ := s.Depth(ctx); qq != 1 {
		t.Fatal("failed Ack changed the quarantine")
	}
	if err := s.Requeue(ctx, qs[0].Seq); err != nil {
		t.Fatal(err)
	}
	items, _ := s.Pending(ctx, 10, 1<<20)
	if len(items) != 1 || items[0].ID != b.ID || items[0].Seq <= qs[0].Seq {
		t.Fatalf("Pending after requeue = %+v", items)
	}
	if _, err := s.Verify(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestApplyPullLifecycle(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	ph := photo(t, 10<<10, 7)
	r, _ := s.Submit(ctx, newReg(t, 1, ph))
	if cur, _ := s.PullCursor(ctx); cur != "" {
		t.Fatalf("initial cursor %q", cur)
	}
	step := func(cursor string, cat *wire.Catalog, ups ...wire.Update) {
		t.Helper()
		if err := s.ApplyPull(ctx, wire.Pull{Updates: ups, Catalog: cat, Cursor: cursor}); err != nil {
			t.Fatal(err)
		}
		if cur, _ := s.PullCursor(ctx); cur != cursor {
			t.Fatalf("cursor %q; want %q", cur, cursor)
		}
	}
	status := func() registration.Registration {
		t.Helper()
		g, err := s.Get(ctx, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	// Decision overtakes the ack: implies delivery, drops the outbox item.
	step("c1", nil, wire.Update{RegistrationID: r.ID, Revision: 1, Status: "under_review", At: t0})
	if g := status(); g.Status != registration.StatusUnderReview || g.DeliveredAt.IsZero() {
		t.Fatalf("status %s delivered %v", g.Status, g.DeliveredAt)
	}
	if q, _, _ := s.Depth(ctx); q != 0 {
		t.Fatalf("queued %d after implied delivery", q)
	}
	// A late ack is harmless.
	if err := s.Ack(ctx, []wire.Result{{ID: r.ID, Revision: 1, Status: wire.StatusAccepted}}); err != nil {
		t.Fatal(err)
	}
	rej := wire.Update{RegistrationID: r.ID, Revision: 1, Status: "rejected", Reason: "照片不符合要求", At: t0}
	step("c2", nil, rej, rej, wire.Update{RegistrationID: "unknown", Revision: 1, Status: "approved"})
	if g := status(); g.Status != registration.StatusRejected || g.Reason != "照片不符合要求" {
		t.Fatalf("after reject: %s %q", g.Status, g.Reason)
	}
	// Resubmit with another position: revision 2, queued again.
	re := newReg(t, 1, photo(t, 10<<10, 8))
	re.ID, re.PositionID = r.ID, "P2"
	r2, err := s.Resubmit(ctx, re)
	if err != nil {
		t.Fatal(err)
	}
	if r2.Revision != 2 || r2.Status != registration.StatusResubmitted || r2.Reason != "" {
		t.Fatalf("Resubmit = rev %d %s %q", r2.Revision, r2.Status, r2.Reason)
	}
	if _, err := s.Resubmit(ctx, re); !errors.Is(err, registration.ErrBadTransition) {
		t.Fatalf("second Resubmit = %v; want ErrBadTransition", err)
	}
	items, _ := s.Pending(ctx, 10, 1<<20)
	if len(items) != 1 || items[0].Revision != 2 {
		t.Fatalf("Pending = %+v", items)
	}
	// A stale update for revision 1 is skipped; out-of-order ones too.
	step("c3", nil, wire.Update{RegistrationID: r.ID, Revision: 1, Status: "approved", At: t0})
	if g := status(); g.Status != registration.StatusResubmitted {
		t.Fatalf("stale update applied: %s", g.Status)
	}
	if err := s.Ack(ctx, []wire.Result{{ID: r.ID, Revision: 2, Status: wire.StatusAccepted}}); err != nil {
		t.Fatal(err)
	}
	payBy := t0.AddDate(0, 0, 5)
	cat2 := testCatalog(2)
	cat2.Exams[0].Name = "renamed"
	step("c4", &cat2, wire.Update{RegistrationID: r.ID, Revision: 2, Status: "approved", PaymentURL: "https://pay.example/1", PayBy: payBy, At: t0})
	g := status()
	if g.Status != registration.StatusApproved || g.PaymentURL != "https://pay.example/1" || !g.PayBy.Equal(payBy) {
		t.Fatalf("after approve: %+v", g.Status)
	}
	step("c5", nil, wire.Update{RegistrationID: r.ID, Revision: 2, Status: "under_review", At: t0})
	if g := status(); g.Status != registration.StatusApproved {
		t.Fatalf("out-of-order update applied: %s", g.Status)
	}
	old := testCatalog(1)
	step("c6", &old, wire.Update{RegistrationID: r.ID, Revision: 2, Status: "paid", At: t0})
	if g := status(); g.Status != registration.StatusPaid {
		t.Fatalf("after paid: %s", g.Status)
	}
	if c, _ := s.Catalog(ctx); c.Version != 2 || c.Exams[0].Name != "renamed" {
		t.Fatalf("catalog = v%d %q; older catalog must not replace a newer one", c.Version, c.Exams[0].Name)
	}
	rep, err := s.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Registrations != 1 || rep.AuditEntries < 8 {
		t.Fatalf("Verify = %+v", rep)
	}
}

func TestPurge(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	ph := photo(t, 10<<10, 9)
	a, _ := s.Submit(ctx, newReg(t, 1, ph))
	b, _ := s.Submit(ctx, newReg(t, 2, ph))
	if err := s.Ack(ctx, []wire.Result{{ID: a.ID, Revision: 1, Status: wire.StatusAccepted}}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		at   time.Time
		want int
	}{
		{t0.AddDate(0, 0, 6), 0},
		{t0.AddDate(0, 0, 7), 1},
		{t0.AddDate(0, 0, 30), 0}, // already purged; b never delivered
	}
	for _, tt := range tests {
		n, err := s.Purge(ctx, tt.at)
		if err != nil || n != tt.want {
			t.Fatalf("Purge(%v) = %d, %v; want %d", tt.at, n, err, tt.want)
		}
	}
	ga, _ := s.Get(ctx, a.ID)
	gb, _ := s.Get(ctx, b.ID)
	if ga.Photo != nil || ga.Descriptors != nil || ga.PurgedAt.IsZero() || ga.Name == "" || ga.Status != registration.StatusDelivered {
		t.Fatalf("purged receipt = photo %d desc %d purged %v name %q", len(ga.Photo), len(ga.Descriptors), ga.PurgedAt, ga.Name)
	}
	if !bytes.Equal(gb.Photo, ph) {
		t.Fatal("undelivered photo purged")
	}
	if _, err := s.Verify(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestTamperDetected(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	a, _ := s.Submit(ctx, newReg(t, 1, photo(t, 5<<10, 10)))
	b, _ := s.Submit(ctx, newReg(t, 2, photo(t, 5<<10, 11)))
	if _, err := s.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		edit func(tx *bolt.Tx) error
	}{
		{"flip a bit", func(tx *bolt.Tx) error {
			v := append([]byte(nil), tx.Bucket(bktRegs).Get([]byte(a.ID))...)
			v[len(v)/2] ^= 1
			return tx.Bucket(bktRegs).Put([]byte(a.ID), v)
		}},
		{"swap records", func(tx *bolt.Tx) error {
			va := append([]byte(nil), tx.Bucket(bktRegs).Get([]byte(a.ID))...)
			return tx.Bucket(bktRegs).Put([]byte(b.ID), va)
		}},
		{"photo to other bucket", func(tx *bolt.Tx) error {
			v := append([]byte(nil), getBlob(tx, []byte(a.ID))...)
			return tx.Bucket(bktRegs).Put([]byte(a.ID), v)
		}},
		{"edit audit", func(tx *bolt.Tx) error {
			bk := tx.Bucket(bktAudit)
			v := bytes.Replace(bk.Get(u64(2)), []byte(`"submit"`), []byte(`"forged"`), 1)
			return bk.Put(u64(2), v)
		}},
		{"drop audit entry", func(tx *bolt.Tx) error { return tx.Bucket(bktAudit).Delete(u64(2)) }},
		{"drop audit tail", func(tx *bolt.Tx) error {
			k, _ := tx.Bucket(bktAudit).Cursor().Last()
			return tx.Bucket(bktAudit).Delete(k)
		}},
		{"drop photo", func(tx *bolt.Tx) error { return deleteBlob(tx, []byte(a.ID)) }},
		{"drop outbox item", func(tx *bolt.Tx) error { return tx.Bucket(bktOutbox).Delete(u64(1)) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			errStop := errors.New("rollback")
			var verr error
			err := s.db.Update(func(tx *bolt.Tx) error {
				if err := tt.edit(tx); err != nil {
					return err
				}
				// Check inside the same transaction, then roll back.
				_, verr = s.verifyTx(ctx, tx)
				return errStop
			})
			if !errors.Is(err, errStop) {
				t.Fatal(err)
			}
			if verr == nil {
				t.Fatal("tampering not detected")
			}
			t.Log(verr)
		})
	}
}

func TestKeyHandling(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cfg := testConfig(dir)
	s, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.now = func() time.Time { return t0 }
	s.PutCatalog(ctx, testCatalog(1))
	if _, err := s.Submit(ctx, newReg(t, 1, photo(t, 5<<10, 12))); err != nil {
		t.Fatal(err)
	}
	s.Close()
	keyPath := cfg.Path + ".key"
	key, _ := os.ReadFile(keyPath)

	// Held lock: a second Open gives up after the timeout.
	s, _ = Open(cfg)
	cfg2 := cfg
	cfg2.LockTimeoutSeconds = 1
	if _, err := Open(cfg2); err == nil {
		t.Fatal("second Open of a held database succeeded")
	}
	s.Close()

	tests := []struct {
		name  string
		setup func()
		want  string
	}{
		{"key readable by others", func() { os.Chmod(keyPath, 0o644) }, "expected 0600"},
		{"wrong key", func() { os.WriteFile(keyPath, bytes.Repeat([]byte("ab"), 32), 0o600) }, "does not match"},
		{"malformed key", func() { os.WriteFile(keyPath, []byte("xyz"), 0o600) }, "malformed"},
		{"missing key", func() { os.Remove(keyPath) }, "missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			os.Remove(keyPath)
			os.WriteFile(keyPath, key, 0o600)
			tt.setup()
			s, err := Open(cfg)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open = %v; want %q", err, tt.want)
			}
		})
	}
	os.Remove(keyPath)
	os.WriteFile(keyPath, key, 0o600)
	s, err = Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if rep, err := s.Verify(ctx); err != nil || rep.Registrations != 1 {
		t.Fatalf("Verify after reopen = %+v, %v", rep, err)
	}
}

func TestIdentityAndSettings(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	if _, err := s.Identity(ctx); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Identity before put = %v", err)
	}
	_, priv, _ := ed25519.GenerateKey(nil)
	if err := s.PutIdentity(ctx, Identity{DeviceID: "kiosk-01", PrivateKey: priv}); err != nil {
		t.Fatal(err)
	}
	id, err := s.Identity(ctx)
	if err != nil || id.DeviceID != "kiosk-01" || !priv.Equal(id.PrivateKey) {
		t.Fatalf("Identity = %+v, %v", id, err)
	}
	bad := append(ed25519.PrivateKey(nil), priv...)
	bad[40] ^= 1 // public half no longer matches the seed
	if err := s.PutIdentity(ctx, Identity{DeviceID: "kiosk-01", PrivateKey: bad}); err == nil {
		t.Fatal("PutIdentity accepted a corrupt key")
	}
	if err := s.PutSetting(ctx, "pin_hash", []byte("h")); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Setting(ctx, "pin_hash"); err != nil || string(v) != "h" {
		t.Fatalf("Setting = %q, %v", v, err)
	}
	if _, err := s.Setting(ctx, "none"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Setting(none) = %v", err)
	}
	if err := s.Audit(ctx, "staff_login", "", "console"); err != nil {
		t.Fatal(err)
	}
	log, err := s.AuditLog(ctx, 2)
	if err != nil || len(log) != 2 || log[0].Kind != "staff_login" || log[1].Kind != "device_identity" {
		t.Fatalf("AuditLog = %+v, %v", log, err)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(c *Config)
		want string
	}{
		{"default", func(c *Config) {}, ""},
		{"no path", func(c *Config) { c.Path = "" }, "store.path"},
		{"key is db", func(c *Config) { c.KeyFile = c.Path }, "store.key_file"},
		{"negative retention", func(c *Config) { c.RetentionDays = -1 }, "store.retention_days"},
		{"zero lock timeout", func(c *Config) { c.LockTimeoutSeconds = 0 }, "store.lock_timeout_seconds"},
		{"tiny photo limit", func(c *Config) { c.Limits.MaxPhotoBytes = 10 }, "store.limits.max_photo_bytes"},
	}
	for _, tt := range tests {
		c := DefaultConfig()
		tt.edit(&c)
		err := c.Validate()
		if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%s: Validate = %v; want %q", tt.name, err, tt.want)
		}
	}
}

func TestConcurrentSubmit(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	ph := photo(t, 5<<10, 13)
	errs := make(chan error, 8)
	for g := range 8 {
		go func() {
			var err error
			for i := range 5 {
				if _, e := s.Submit(ctx, newReg(t, 5000+g*10+i, ph)); e != nil && err == nil {
					err = e
				}
				if _, _, e := s.Depth(ctx); e != nil && err == nil {
					err = e
				}
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	// Two submissions of one candidate for one exam racing: exactly one wins.
	res := make(chan error, 2)
	for range 2 {
		go func() { _, err := s.Submit(ctx, newReg(t, 9999, ph)); res <- err }()
	}
	e1, e2 := <-res, <-res
	if (e1 == nil) == (e2 == nil) || !errors.Is(errors.Join(e1, e2), registration.ErrDuplicate) {
		t.Fatalf("racing duplicates: %v, %v", e1, e2)
	}
	if rep, err := s.Verify(ctx); err != nil || rep.Registrations != 41 || rep.OutboxItems != 41 {
		t.Fatalf("Verify = %+v, %v", rep, err)
	}
}

func TestBlobEncoding(t *testing.T) {
	desc := [][]float32{{1, -2.5, 3e-7}, {}}
	b := encodeBlob([]byte("jpeg"), desc)
	ph, d, err := decodeBlob(b)
	if err != nil || string(ph) != "jpeg" || len(d) != 2 || d[0][1] != -2.5 || len(d[1]) != 0 {
		t.Fatalf("decodeBlob = %q %v %v", ph, d, err)
	}
	for _, bad := range [][]byte{nil, {2}, {1, 0xff}, {1, 5, 1}, {1, 1, 200, 0, 0}} {
		if _, _, err := decodeBlob(bad); err == nil {
			t.Errorf("decodeBlob(%x) accepted", bad)
		}
	}
}

func FuzzDecodeBlob(f *testing.F) {
	f.Add(encodeBlob([]byte("\xff\xd8\xff"), [][]float32{{1, 2, 3}}))
	f.Add([]byte{1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		ph, d, err := decodeBlob(b)
		if err != nil {
			return
		}
		if again := encodeBlob(ph, d); !bytes.Equal(again, b) && len(b) > 0 && b[0] == 1 {
			// Non-minimal varints decode but re-encode differently; the
			// decoded values must survive a second round trip.
			ph2, d2, err := decodeBlob(again)
			if err != nil || !bytes.Equal(ph2, ph) || len(d2) != len(d) {
				t.Fatalf("round trip of %x failed", b)
			}
		}
	})
}

func TestPurgeEvery(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s := openTest(t)
	a, _ := s.Submit(ctx, newReg(t, 1, photo(t, 5<<10, 14)))
	if err := s.Ack(ctx, []wire.Result{{ID: a.ID, Revision: 1, Status: wire.StatusAccepted}}); err != nil {
		t.Fatal(err)
	}
	s.now = func() time.Time { return t0.AddDate(0, 0, 7) }
	done := make(chan error)
	go func() { done <- s.PurgeEvery(ctx, 10*time.Millisecond) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if g, _ := s.Get(ctx, a.ID); !g.PurgedAt.IsZero() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("PurgeEvery did not purge")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("PurgeEvery = %v", err)
	}
	if err := s.PurgeEvery(context.Background(), 0); err == nil {
		t.Fatal("PurgeEvery(0) accepted")
	}
}

func TestCompactRemovesPurgedPhotos(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	a, _ := s.Submit(ctx, newReg(t, 1, photo(t, 40<<10, 15)))
	b, _ := s.Submit(ctx, newReg(t, 2, photo(t, 40<<10, 16)))
	var sealed []byte
	s.db.View(func(tx *bolt.Tx) error {
		sealed = append([]byte(nil), getBlob(tx, []byte(a.ID))...)
		return nil
	})
	if err := s.Ack(ctx, []wire.Result{{ID: a.ID, Revision: 1, Status: wire.StatusAccepted}}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Purge(ctx, t0.AddDate(0, 0, 7)); n != 1 || err != nil {
		t.Fatalf("Purge = %d, %v", n, err)
	}
	cfg := s.cfg
	s.Close()
	probe := sealed[len(sealed)/2 : len(sealed)/2+64] // a run of the photo's ciphertext
	data, _ := os.ReadFile(cfg.Path)
	if !bytes.Contains(data, probe) {
		t.Log("purged ciphertext already overwritten before Compact")
	}
	before, after, err := Compact(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	data, _ = os.ReadFile(cfg.Path)
	if bytes.Contains(data, probe) {
		t.Fatal("purged photo ciphertext still in the file after Compact")
	}
	if after <= 0 || after > before {
		t.Fatalf("Compact sizes %d → %d", before, after)
	}
	if fi, _ := os.Stat(cfg.Path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("compacted file mode %04o", fi.Mode().Perm())
	}
	s2, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if rep, err := s2.Verify(ctx); err != nil || rep.Registrations != 2 || rep.Photos != 1 || rep.OutboxItems != 1 {
		t.Fatalf("Verify after Compact = %+v, %v", rep, err)
	}
	if g, err := s2.Get(ctx, b.ID); err != nil || len(g.Photo) == 0 {
		t.Fatalf("Get after Compact = %v", err)
	}
	// Sequences survive: the next outbox item and audit entry follow on.
	s2.now = func() time.Time { return t0 }
	if _, err := s2.Submit(ctx, newReg(t, 3, photo(t, 1000, 17))); err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	items, _ := s2.Pending(ctx, 10, 1<<30)
	if len(items) != 2 || items[1].Seq <= items[0].Seq {
		t.Fatalf("Pending after Compact = %+v", items)
	}
}

func TestFaceRecords(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	if recs, err := s.FaceRecords(ctx); err != nil || len(recs) != 0 {
		t.Fatalf("empty store: %v %+v", err, recs)
	}
	ph := photo(t, 10<<10, 3)
	a, _ := s.Submit(ctx, newReg(t, 1, ph))
	b, _ := s.Submit(ctx, newReg(t, 2, ph))
	recs, err := s.FaceRecords(ctx)
	if err != nil || len(recs) != 2 {
		t.Fatalf("got %v %+v, want both registrations", err, recs)
	}
	byID := map[string]FaceRecord{}
	for _, r := range recs {
		byID[r.ID] = r
	}
	if byID[a.ID].IDNumber != idNumber(1) || byID[b.ID].IDNumber != idNumber(2) || len(byID[a.ID].Descriptors[0]) != registration.DescriptorLen {
		t.Fatalf("records: %+v", recs)
	}
	// Purged registrations no longer hold a face.
	if err := s.Ack(ctx, []wire.Result{{ID: a.ID, Revision: 1, Status: wire.StatusAccepted}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Purge(ctx, t0.AddDate(0, 0, 8)); err != nil {
		t.Fatal(err)
	}
	if recs, _ = s.FaceRecords(ctx); len(recs) != 1 || recs[0].ID != b.ID {
		t.Fatalf("after purge: %+v", recs)
	}
}
