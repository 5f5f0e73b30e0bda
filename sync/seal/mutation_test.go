package seal

import (
	"bytes"
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
}
