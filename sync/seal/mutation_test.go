package seal

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestSealEmptyDocument: a sealed empty document is exactly Overhead bytes
// long and opens, with Open and OpenAppend alike (the length checks refuse
// only what is shorter than the overhead).
func TestSealEmptyDocument(t *testing.T) {
	kp, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := Seal(nil, &kp.Public)
	if err != nil {
		t.Fatal(err)
	}
	if len(sealed) != Overhead {
		t.Fatalf("sealed empty document: %d bytes, want %d", len(sealed), Overhead)
	}
	if got, err := kp.Open(sealed); err != nil || len(got) != 0 {
		t.Errorf("Open: %q, %v; want an empty document", got, err)
	}
	if got, err := kp.OpenAppend([]byte("prefix:"), sealed); err != nil || !bytes.Equal(got, []byte("prefix:")) {
		t.Errorf("OpenAppend: %q, %v; want the prefix alone", got, err)
	}
	if _, err := kp.Open(sealed[:Overhead-1]); err != ErrOpen {
		t.Errorf("one byte short: %v, want ErrOpen", err)
	}
	if _, err := kp.OpenAppend(nil, sealed[:Overhead-1]); err != ErrOpen {
		t.Errorf("OpenAppend one byte short: %v, want ErrOpen", err)
	}
	// The Opener (the central's hot path) alike.
	o, err := kp.Opener()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := o.OpenAppend([]byte("prefix:"), sealed); err != nil || !bytes.Equal(got, []byte("prefix:")) {
		t.Errorf("Opener.OpenAppend: %q, %v; want the prefix alone", got, err)
	}
	if _, err := o.OpenAppend(nil, sealed[:Overhead-1]); err != ErrOpen {
		t.Errorf("Opener.OpenAppend one byte short: %v, want ErrOpen", err)
	}
}

// TestWriteKeyFileWriteFails: when writing the new key fails (here the
// file size limit, as a full disk would), WriteKeyFile reports it and
// leaves no key file: a key cut short must never become the store's key.
func TestWriteKeyFileWriteFails(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data.key")
	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Skipf("getrlimit: %v", err)
	}
	lim := old
	lim.Cur = 10 // bytes: the key's 65 do not fit
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		t.Skipf("setrlimit: %v", err)
	}
	err := WriteKeyFile(path, bytes.Repeat([]byte{7}, DataKeySize))
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatalf("restore the file size limit: %v", err)
	}
	if err == nil {
		b, _ := os.ReadFile(path)
		t.Fatalf("WriteKeyFile past the file size limit succeeded; the key file holds %q", b)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a key file exists after the failed write: %v", err)
	}
	if ents, _ := os.ReadDir(filepath.Dir(path)); len(ents) != 0 {
		t.Errorf("the key directory holds %d entries after the failed write, want none", len(ents))
	}
}
