package powercut

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestKeepsOnlySyncedWrites: what was synced survives a cut, what was
// written after the last sync does not, and nothing is written after the
// cut. A torn cut keeps synced data and, of the unsynced sectors, exactly
// those it is told to.
func TestKeepsOnlySyncedWrites(t *testing.T) {
	dir := t.TempDir()
	p, err := Mount(dir)
	if err != nil {
		t.Skipf("no FUSE here (needs /dev/fuse and root): %v", err)
	}
	defer p.Unmount()
	f, err := os.Create(filepath.Join(dir, "f"))
	if err != nil {
		t.Fatal(err)
	}
	synced := bytes.Repeat([]byte("s"), 2*Sector)
	if _, err := f.WriteAt(synced, 0); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(bytes.Repeat([]byte("u"), 2*Sector), Sector); err != nil {
		t.Fatal(err)
	}
	if p.Pending() != 1 {
		t.Fatalf("pending = %d; want 1", p.Pending())
	}
	// Reads see the unsynced write.
	got, _ := os.ReadFile(filepath.Join(dir, "f"))
	if len(got) != 3*Sector || got[Sector] != 'u' {
		t.Fatalf("read %d bytes, byte %d = %q", len(got), Sector, got[Sector])
	}
	var asked []int
	torn := p.CutTorn(func(i int) bool { asked = append(asked, i); return i == 1 })
	kept := p.Cut()
	if !bytes.Equal(kept["f"], synced) {
		t.Errorf("clean cut kept %d bytes %q…; want the %d synced bytes", len(kept["f"]), kept["f"][:1], len(synced))
	}
	// The unsynced write covers sectors 1 and 2; only the second is kept.
	if len(asked) != 2 || len(torn["f"]) != 3*Sector || torn["f"][Sector] != 's' || torn["f"][2*Sector] != 'u' {
		t.Errorf("torn cut: asked %v, kept %d bytes", asked, len(torn["f"]))
	}
	if _, err := f.WriteAt([]byte("late"), 0); err == nil {
		t.Error("a write after the cut succeeded")
	}
	f.Close()
}
