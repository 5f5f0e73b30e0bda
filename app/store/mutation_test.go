package store

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"examkiosk/sync/wire"
)

// Tests for mutants of store.go that lived in the real mutation run
// (docs/MUTATION.md).

// reopenAfter opens a store, closes it, lets edit change the file or the
// key, and opens it again.
func reopenAfter(t *testing.T, edit func(cfg Config)) (*Store, error) {
	t.Helper()
	cfg := testConfig(t.TempDir())
	s, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	edit(cfg)
	s, err = Open(cfg)
	if err == nil {
		t.Cleanup(func() { s.Close() })
	}
	return s, err
}

// editDB changes the closed database file directly.
func editDB(t *testing.T, path string, edit func(tx *bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(edit); err != nil {
		t.Fatal(err)
	}
}

// TestReopenRestoresFileMode: a store file others may read (a restore from
// a backup, a copy) is made 0600 again when the store opens.
func TestReopenRestoresFileMode(t *testing.T) {
	var path string
	if _, err := reopenAfter(t, func(cfg Config) {
		path = cfg.Path
		if err := os.Chmod(cfg.Path, 0o644); err != nil {
			t.Fatal(err)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("store file mode after reopening: %v, %v; want 0600", fi.Mode(), err)
	}
}

// TestNewerSchemaRefused: a store written by a newer build (a later schema
// version) is refused, not read with this build's layout.
func TestNewerSchemaRefused(t *testing.T) {
	_, err := reopenAfter(t, func(cfg Config) {
		editDB(t, cfg.Path, func(tx *bolt.Tx) error { return tx.Bucket(bktMeta).Put(keySchema, u64(schemaVersion+1)) })
	})
	if err == nil || !strings.Contains(err.Error(), "schema version") {
		t.Fatalf("open of a newer schema: %v; want refused", err)
	}
}

// TestMissingBucketAdded: a store from an earlier build that lacks a
// bucket added since opens, with the bucket created.
func TestMissingBucketAdded(t *testing.T) {
	var path string
	s, err := reopenAfter(t, func(cfg Config) {
		path = cfg.Path
		editDB(t, cfg.Path, func(tx *bolt.Tx) error { return tx.DeleteBucket(bktAudit) })
	})
	if err != nil {
		t.Fatalf("open of a store without the audit bucket: %v", err)
	}
	if err := s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bktAudit) == nil {
			return errors.New("audit bucket not created")
		}
		return nil
	}); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestLostKeyNotReplaced: the data key of a store that holds data is
// missing: the store refuses to open and makes no new key (a new key
// would hide the loss and could never read the data).
func TestLostKeyNotReplaced(t *testing.T) {
	var keyFile string
	_, err := reopenAfter(t, func(cfg Config) {
		keyFile = cfg.keyFile()
		if err := os.Remove(keyFile); err != nil {
			t.Fatal(err)
		}
	})
	if err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("open without the data key: %v; want it refused as missing", err)
	}
	if _, err := os.Stat(keyFile); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a new key file was made for a store that holds data: %v", err)
	}
}

// TestOpenWritesNothing: opening a complete store with its key writes
// nothing (no write transaction, no fsync at start-up): the file is the
// same byte for byte after an open and a close.
func TestOpenWritesNothing(t *testing.T) {
	var before []byte
	var path string
	s, err := reopenAfter(t, func(cfg Config) {
		path = cfg.Path
		var err error
		if before, err = os.ReadFile(cfg.Path); err != nil {
			t.Fatal(err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Error("opening a complete store changed its file")
	}
}

// TestSettingNameLimit: a setting's name of 100 bytes is stored and read
// back; 101 bytes and an empty name are refused.
func TestSettingNameLimit(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	name := strings.Repeat("n", 100)
	if err := s.PutSetting(ctx, name, []byte("v")); err != nil {
		t.Fatalf("PutSetting with a 100-byte name: %v", err)
	}
	if v, err := s.Setting(ctx, name); err != nil || string(v) != "v" {
		t.Fatalf("Setting with a 100-byte name: %q, %v", v, err)
	}
	for _, bad := range []string{"", name + "n"} {
		if err := s.PutSetting(ctx, bad, []byte("v")); err == nil {
			t.Errorf("PutSetting with a %d-byte name accepted", len(bad))
		}
	}
}

// TestBlobLargestDescriptors: a registration at the limits the form allows
// (a photo just over the notice's 20 KB, max_descriptors descriptors of
// MaxDescriptorLen values from a named model) is laid out and read back.
func TestBlobLargestDescriptors(t *testing.T) {
	ph := bytes.Repeat([]byte{0xab}, 20<<10+1)
	desc := make([][]float32, 8)
	for i := range desc {
		desc[i] = make([]float32, 1024)
		desc[i][i] = float32(i) + 0.5
	}
	var b []byte
	func() {
		defer func() {
			if p := recover(); p != nil {
				t.Fatalf("encodeBlob: panic %v", p)
			}
		}()
		b = encodeBlob(ph, desc)
	}()
	if p, d, err := decodeBlob(encodeBlob(nil, [][]float32{{1, 2}})); err != nil || len(p) != 0 || len(d) != 1 || d[0][1] != 2 {
		t.Fatalf("a blob of descriptors without a photo: %d photo bytes, %v, %v", len(p), d, err)
	}
	gotPh, gotDesc, err := decodeBlob(b)
	if err != nil || !bytes.Equal(gotPh, ph) || len(gotDesc) != 8 || len(gotDesc[7]) != 1024 || gotDesc[7][7] != 7.5 {
		t.Fatalf("decodeBlob: %d photo bytes, %d descriptors, %v", len(gotPh), len(gotDesc), err)
	}
}

// TestPulledCatalogOnlyIfNewer: a pull that carries the catalog version the
// kiosk has already keeps the stored one (a central answering from a stale
// node or cache cannot rewrite a version); a newer version replaces it.
func TestPulledCatalogOnlyIfNewer(t *testing.T) {
	ctx := t.Context()
	s := openTest(t) // catalog version 1
	same := testCatalog(1)
	same.Exams[0].Name = "changed without a new version"
	if err := s.ApplyPull(ctx, wire.Pull{Catalog: &same, Cursor: "c1"}); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Catalog(ctx); err != nil || c.Exams[0].Name != testCatalog(1).Exams[0].Name {
		t.Fatalf("catalog after a pull of the same version: %q, %v; want the stored one kept", c.Exams[0].Name, err)
	}
	newer := testCatalog(2)
	newer.Exams[0].Name = "version 2"
	if err := s.ApplyPull(ctx, wire.Pull{Catalog: &newer, Cursor: "c2"}); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Catalog(ctx); err != nil || c.Version != 2 || c.Exams[0].Name != "version 2" {
		t.Fatalf("catalog after a newer version: %+v, %v", c, err)
	}
}

// TestRepeatedApprovalNewPaymentURL: a repeated approval that only moves
// the payment to another URL (same deadline) is shown with the new URL.
func TestRepeatedApprovalNewPaymentURL(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	r, err := s.Submit(ctx, newReg(t, 3, photo(t, 5<<10, 3)))
	if err != nil {
		t.Fatal(err)
	}
	a := wire.Update{RegistrationID: r.ID, Revision: 1, Status: "approved", PaymentURL: "https://pay.example/a", PayBy: t0.AddDate(0, 0, 3), At: t0}
	if err := s.ApplyPull(ctx, wire.Pull{Updates: []wire.Update{a}, Cursor: "1"}); err != nil {
		t.Fatal(err)
	}
	a.PaymentURL = "https://pay.example/b"
	if err := s.ApplyPull(ctx, wire.Pull{Updates: []wire.Update{a}, Cursor: "2"}); err != nil {
		t.Fatal(err)
	}
	if g, err := s.Get(ctx, r.ID); err != nil || g.PaymentURL != a.PaymentURL {
		t.Errorf("repeated approval with a new payment URL: %q, %v; want %q", g.PaymentURL, err, a.PaymentURL)
	}
}

// TestLateTicketAudited: a ticket that arrives for a registration already
// paid is recorded in the audit log (and the chain still verifies).
func TestLateTicketAudited(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	r, err := s.Submit(ctx, newReg(t, 4, photo(t, 5<<10, 4)))
	if err != nil {
		t.Fatal(err)
	}
	u := func(status string, tk *wire.Ticket) wire.Update {
		return wire.Update{RegistrationID: r.ID, Revision: 1, Status: status, Ticket: tk, At: t0}
	}
	if err := s.ApplyPull(ctx, wire.Pull{Updates: []wire.Update{u("under_review", nil), u("approved", nil), u("paid", nil)}, Cursor: "1"}); err != nil {
		t.Fatal(err)
	}
	tk := &wire.Ticket{Number: "2026010010042", Room: "第 2 考场", Seat: 3, SiteName: "第一中学", EndsAt: t0.AddDate(0, 1, 0)}
	if err := s.ApplyPull(ctx, wire.Pull{Updates: []wire.Update{u("paid", tk)}, Cursor: "2"}); err != nil {
		t.Fatal(err)
	}
	log, err := s.AuditLog(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range log {
		found = found || e.Kind == "ticket" && e.Subject == r.ID && strings.Contains(e.Detail, tk.Number)
	}
	if !found {
		t.Errorf("no audit entry for the ticket %s of %s", tk.Number, r.ID)
	}
	if _, err := s.VerifyAudit(ctx); err != nil {
		t.Error(err)
	}
}

// TestWithdrawAudited: a withdrawal is recorded in the audit log.
func TestWithdrawAudited(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	r, err := s.Submit(ctx, newReg(t, 5, photo(t, 5<<10, 5)))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Withdraw(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	log, err := s.AuditLog(ctx, 100)
	if err != nil || len(log) == 0 || log[0].Kind != "withdraw" || log[0].Subject != r.ID {
		t.Fatalf("newest audit entry after a withdrawal: %+v, %v", log, err)
	}
}

// TestFaceRecordsOnlyWithDescriptors: a registration kept without face
// descriptors is not a face record.
func TestFaceRecordsOnlyWithDescriptors(t *testing.T) {
	ctx := t.Context()
	s := openTest(t)
	with, without := newReg(t, 6, photo(t, 5<<10, 6)), newReg(t, 7, photo(t, 5<<10, 7))
	without.Descriptors, without.DescriptorModel = nil, ""
	w, err := s.Submit(ctx, with)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Submit(ctx, without); err != nil {
		t.Fatal(err)
	}
	recs, err := s.FaceRecords(ctx)
	if err != nil || len(recs) != 1 || recs[0].ID != w.ID {
		t.Fatalf("FaceRecords: %+v, %v; want only %s", recs, err, w.ID)
	}
}

// TestBlobTruncated: blobs that claim more than they hold are refused, not
// read past their end.
func TestBlobTruncated(t *testing.T) {
	for _, bad := range [][]byte{
		{1, 1},                         // one descriptor, no length
		{1, 1, 2, 0, 0, 0, 0, 0, 0, 0}, // a descriptor of 2 values in 7 bytes
	} {
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Errorf("decodeBlob(%x): panic %v", bad, p)
				}
			}()
			if _, _, err := decodeBlob(bad); err == nil {
				t.Errorf("decodeBlob(%x) accepted", bad)
			}
		}()
	}
}

// TestConfigLimitsInclusive: store.retention_days accepts 0 and 3650 and
// store.lock_timeout_seconds 1 and 600; one past is refused, naming the key.
func TestConfigLimitsInclusive(t *testing.T) {
	for _, c := range []struct {
		key       string
		retention int
		lock      int
		ok        bool
	}{
		{"store.retention_days", 0, 10, true},
		{"store.retention_days", 3650, 10, true},
		{"store.retention_days", 3651, 10, false},
		{"store.lock_timeout_seconds", 30, 1, true},
		{"store.lock_timeout_seconds", 30, 600, true},
		{"store.lock_timeout_seconds", 30, 601, false},
	} {
		cfg := DefaultConfig()
		cfg.RetentionDays, cfg.LockTimeoutSeconds = c.retention, c.lock
		err := cfg.Validate()
		if c.ok != (err == nil) || err != nil && !strings.Contains(err.Error(), c.key) {
			t.Errorf("%s (retention %d, lock %d): %v; want ok %v", c.key, c.retention, c.lock, err, c.ok)
		}
	}
}

// TestPurgeExactRetentionAndAudit: a delivered registration keeps its photo
// until exactly retention_days after its delivery (one second before, it
// stays); a purge that removes something is audited, one that removes
// nothing is not.
func TestPurgeExactRetentionAndAudit(t *testing.T) {
	ctx := t.Context()
	s := openTest(t) // delivered at t0, retention 7 days (DefaultConfig)
	r, err := s.Submit(ctx, newReg(t, 8, photo(t, 5<<10, 8)))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ack(ctx, []wire.Result{{ID: r.ID, Revision: 1, Status: wire.StatusAccepted}}); err != nil {
		t.Fatal(err)
	}
	due := t0.AddDate(0, 0, s.cfg.RetentionDays)
	audits := func() int {
		log, err := s.AuditLog(ctx, 1000)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range log {
			if e.Kind == "purge" {
				n++
			}
		}
		return n
	}
	if n, err := s.Purge(ctx, due.Add(-time.Second)); err != nil || n != 0 {
		t.Fatalf("Purge one second before the retention ends: %d, %v; want 0", n, err)
	}
	if a := audits(); a != 0 {
		t.Errorf("%d purge audit entries after a purge that removed nothing; want 0", a)
	}
	if n, err := s.Purge(ctx, due); err != nil || n != 1 {
		t.Fatalf("Purge when the retention ends: %d, %v; want 1", n, err)
	}
	if a := audits(); a != 1 {
		t.Errorf("%d purge audit entries after one purge; want 1", a)
	}
}

// TestDefaultPath: the store lives under $XDG_DATA_HOME/examkiosk, or
// ~/.local/share/examkiosk when XDG_DATA_HOME is unset.
func TestDefaultPath(t *testing.T) {
	t.Setenv("XDG_DATA_HOME", "/srv/data")
	if p := DefaultConfig().Path; p != "/srv/data/examkiosk/kiosk.db" {
		t.Errorf("with XDG_DATA_HOME: %s", p)
	}
	t.Setenv("XDG_DATA_HOME", "")
	t.Setenv("HOME", "/home/kiosk")
	if p := DefaultConfig().Path; p != "/home/kiosk/.local/share/examkiosk/kiosk.db" {
		t.Errorf("without XDG_DATA_HOME: %s", p)
	}
}
