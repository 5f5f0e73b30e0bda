package central

import (
	"strings"
	"testing"

	"examkiosk/sync/central/store"
)

// TestRegIndexDamagedKey: a key of the registration index cut short (a
// damaged store) makes the page of its status fail with the key named,
// and does not bring the server down; the other statuses' pages still
// read.
func TestRegIndexDamagedKey(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	s := quietOpen(t, cfg)
	defer s.Close()
	err := s.db.Update(func(tx store.Tx) error {
		return tx.Bucket(bRegIndex).Put([]byte(StatusUnderReview+"\x00\x01\x02\x03"), nil)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.RegistrationsPage(StatusUnderReview, "", 10); err == nil || !strings.Contains(err.Error(), "malformed") {
		t.Fatalf("a page over a damaged key: %v, want it named malformed", err)
	}
	if page, next, err := s.RegistrationsPage(StatusApproved, "", 10); err != nil || len(page) != 0 || next != "" {
		t.Fatalf("another status's page: %d, %q, %v", len(page), next, err)
	}
}
