package central

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"examkiosk/sync/central/store"
	"examkiosk/sync/seal"
	"examkiosk/sync/wire"
)

func quietOpen(t *testing.T, cfg Config) *Server {
	t.Helper()
	s, err := Open(cfg, WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A first-version store (sealing key in central.db, registrations in plain
// text) is upgraded in place at open: the key moves to seal.key, records are
// sealed, and the file no longer holds the plain text, freed pages included.
func TestUpgradeFirstVersionStore(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	path := filepath.Join(cfg.DataDir, "central.db")
	kp, _ := seal.GenerateKey()
	id := "0193b2c4-7e1f-7000-8000-000000000001"
	doc, _ := json.Marshal(wire.Registration{ID: id, Revision: 1, Name: "旧版考生乙", IDNumber: "11010519491231002X", Photo: []byte("JPEG-PHOTO-BYTES-0123456789")})
	rec, _ := json.Marshal(regRecord{Registration: Registration{ID: id, Revision: 1, Name: "旧版考生乙", IDNumber: "11010519491231002X", Status: StatusUnderReview}})
	h := sha256.Sum256(doc)
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error {
		m, _ := tx.CreateBucket(bMeta)
		m.Put(kSealKey, append(kp.Public[:], kp.Private[:]...))
		r, _ := tx.CreateBucket(bRegs)
		r.Put([]byte(id), rec)
		v, _ := tx.CreateBucket(bRevs)
		return v.Put(revKey(id, 1), append(h[:], doc...))
	})
	db.Close()

	s := quietOpen(t, cfg)
	if s.SealPublicKey() != kp.Public {
		t.Fatal("the sealing key changed in the upgrade: queued pushes would not open")
	}
	got, err := s.Document(id, 1)
	if err != nil || got.Name != "旧版考生乙" {
		t.Fatalf("document after upgrade: %+v %v", got, err)
	}
	regs, _ := s.Registrations("")
	if len(regs) != 1 || regs[0].IDNumber != "11010519491231002X" {
		t.Fatalf("registrations after upgrade: %+v", regs)
	}
	s.Close()
	raw, _ := os.ReadFile(path)
	for _, secret := range [][]byte{[]byte("旧版考生乙"), []byte("11010519491231002X"), []byte("JPEG-PHOTO-BYTES"), kp.Private[:]} {
		if bytes.Contains(raw, secret) {
			t.Errorf("upgraded central.db still contains %q", secret)
		}
	}
	if k, err := seal.LoadKeyFile(filepath.Join(cfg.DataDir, "keys", "seal.key"), false); err != nil || !bytes.Equal(k, kp.Private[:]) {
		t.Fatalf("seal.key: %v", err)
	}
}

// Rotating the data key re-seals everything; a rotation cut short between
// the re-seal and the key file swap is completed at the next start.
func TestRotateDataKey(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	s := quietOpen(t, cfg)
	id := "0193b2c4-7e1f-7000-8000-000000000002"
	doc, _ := json.Marshal(wire.Registration{ID: id, Revision: 1, Name: "轮换考生", IDNumber: "11010519491231002X", ExamID: "e1"})
	h := sha256.Sum256(doc)
	err := s.db.Update(func(tx store.Tx) error {
		if err := s.storeRevision(tx, id, 1, append(h[:], doc...)); err != nil {
			return err
		}
		if err := s.setCandidateReg(tx, "11010519491231002X", "e1", id); err != nil {
			return err
		}
		return s.storeReg(tx, regRecord{Registration: Registration{ID: id, Revision: 1, Name: "轮换考生", IDNumber: "11010519491231002X", ExamID: "e1", Status: StatusUnderReview}})
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	keyDir := filepath.Join(cfg.DataDir, "keys")
	before, _ := os.ReadFile(filepath.Join(keyDir, "data.key"))
	if n, err := RotateDataKey(cfg); err != nil || n != 2 {
		t.Fatalf("rotate: %d values, %v", n, err)
	}
	after, _ := os.ReadFile(filepath.Join(keyDir, "data.key"))
	old, _ := os.ReadFile(filepath.Join(keyDir, "data.key.old"))
	if bytes.Equal(before, after) || !bytes.Equal(before, old) {
		t.Fatal("data.key not replaced, or the old key not kept as data.key.old")
	}
	check := func(stage string) {
		t.Helper()
		s := quietOpen(t, cfg)
		defer s.Close()
		got, err := s.Document(id, 1)
		if err != nil || got.Name != "轮换考生" {
			t.Fatalf("%s: document %v", stage, err)
		}
		s.db.View(func(tx store.Tx) error {
			if s.candidateReg(tx, "11010519491231002X", "e1") != id {
				t.Fatalf("%s: candidate index lost", stage)
			}
			return nil
		})
	}
	check("after rotation")
	// Cut short: the store re-sealed under the new key, the files not yet
	// swapped.
	os.Rename(filepath.Join(keyDir, "data.key"), filepath.Join(keyDir, "data.key.new"))
	os.Rename(filepath.Join(keyDir, "data.key.old"), filepath.Join(keyDir, "data.key"))
	check("after a rotation cut short")
	// The old key no longer opens the store.
	os.Remove(filepath.Join(keyDir, "data.key"))
	seal.WriteKeyFile(filepath.Join(keyDir, "data.key"), mustHex(t, old))
	if s, err := Open(cfg, WithLogger(slog.New(slog.DiscardHandler))); err == nil {
		s.Close()
		t.Fatal("the store opened with the old data key")
	}
}

func mustHex(t *testing.T, b []byte) []byte {
	t.Helper()
	k, err := seal.LoadKeyFile(writeTemp(t, b), false)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func writeTemp(t *testing.T, b []byte) string {
	p := filepath.Join(t.TempDir(), "k")
	os.WriteFile(p, b, 0o600)
	return p
}

// Candidate accounts (name, ID number, password hash) and login throttles
// (keyed by ID number) are sealed or blinded at rest too, survive a data key
// rotation (throttles start afresh), and a first-version account is
// upgraded.
func TestAccountsAndThrottlesAtRest(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	const idn, name = "11010519491231002X", "账户考生丙"
	// A first-version account: keyed by the ID number, in plain text.
	db, err := bolt.Open(filepath.Join(cfg.DataDir, "central.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	old, _ := json.Marshal(accountRecord{IDNumber: "110101197001010008", Name: "旧账户", Hash: []byte("old-hash")})
	db.Update(func(tx *bolt.Tx) error {
		b, _ := tx.CreateBucket(bAccounts)
		return b.Put([]byte("110101197001010008"), old)
	})
	db.Close()

	s := quietOpen(t, cfg)
	if acc, err := s.getAccount("110101197001010008"); err != nil || acc.Name != "旧账户" {
		t.Fatalf("upgraded account: %+v %v", acc, err)
	}
	if err := s.setAccountPassword(wire.Identity{Name: name, IDNumber: idn, Source: "alipay_qr"}, []byte("argon2-hash-bytes"), "test"); err != nil {
		t.Fatal(err)
	}
	if err := s.throttleFailed(map[string]throttlePolicy{tkID(idn): idThrottle}); err != nil {
		t.Fatal(err)
	}
	st, _ := s.throttleState(tkID(idn))
	if st[0].Failures != 1 {
		t.Fatalf("throttle: %+v", st)
	}
	s.Close()
	raw, _ := os.ReadFile(filepath.Join(cfg.DataDir, "central.db"))
	for _, secret := range []string{idn, name, "argon2-hash-bytes", "110101197001010008", "旧账户"} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("central.db contains %q in the clear", secret)
		}
	}
	if _, err := RotateDataKey(cfg); err != nil {
		t.Fatal(err)
	}
	s = quietOpen(t, cfg)
	defer s.Close()
	if acc, err := s.getAccount(idn); err != nil || acc.Name != name || string(acc.Hash) != "argon2-hash-bytes" {
		t.Fatalf("account after rotation: %+v %v", acc, err)
	}
}
