package seal

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func testBox(t *testing.T) *Box {
	t.Helper()
	b, err := NewBox(bytes.Repeat([]byte{7}, DataKeySize))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNewBoxKeySize(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33, 64} {
		if _, err := NewBox(make([]byte, n)); err == nil {
			t.Errorf("NewBox with a %d-byte key succeeded", n)
		}
	}
	if DataKeySize != 32 {
		t.Errorf("DataKeySize %d, want 32 (AES-256)", DataKeySize)
	}
}

// TestBoxRoundTrip: what is sealed for a bucket and key opens there only,
// in the documented format (version 1, 12-byte nonce, ciphertext, 16-byte tag).
func TestBoxRoundTrip(t *testing.T) {
	b := testBox(t)
	long := bytes.Repeat([]byte("k"), 100) // longer than the additional data's spare room
	for _, c := range []struct{ bucket, key, plain []byte }{
		{[]byte("regs"), []byte("r1"), []byte("张三 110101199003076119")},
		{[]byte("regs"), []byte("r1"), nil}, // the shortest sealed value
		{long, []byte("x"), []byte("a")},
		{[]byte("b"), long, []byte("a")},
	} {
		s := b.Seal(c.bucket, c.key, c.plain)
		if len(s) != 1+12+len(c.plain)+16 || s[0] != 1 {
			t.Fatalf("sealed %d bytes of plain into %d bytes, version %d; want 1+12+n+16, version 1", len(c.plain), len(s), s[0])
		}
		got, err := b.Open(c.bucket, c.key, s)
		if err != nil || !bytes.Equal(got, c.plain) {
			t.Fatalf("Open = %q, %v; want %q", got, err, c.plain)
		}
		if bytes.Contains(s, c.plain) && len(c.plain) > 1 {
			t.Fatal("plain text visible in the sealed value")
		}
		if _, err := b.Open(c.bucket, append(append([]byte{}, c.key...), '2'), s); err == nil {
			t.Error("a value moved to another key opened")
		}
		if _, err := b.Open(append(append([]byte{}, c.bucket...), 's'), c.key, s); err == nil {
			t.Error("a value moved to another bucket opened")
		}
	}
	if a, c := b.Seal([]byte("x"), []byte("y"), []byte("same")), b.Seal([]byte("x"), []byte("y"), []byte("same")); bytes.Equal(a, c) {
		t.Error("two seals of the same value are equal: the nonce is not random")
	}
	// The bucket/key boundary is part of the additional data: "ab"/"c" is
	// not "a"/"bc".
	if _, err := b.Open([]byte("a"), []byte("bc"), b.Seal([]byte("ab"), []byte("c"), []byte("v"))); err == nil {
		t.Error("bucket ab, key c opened as bucket a, key bc")
	}
}

func TestBoxRefuses(t *testing.T) {
	b := testBox(t)
	s := b.Seal([]byte("regs"), []byte("r1"), []byte("secret"))
	other, _ := NewBox(bytes.Repeat([]byte{8}, DataKeySize))
	if _, err := other.Open([]byte("regs"), []byte("r1"), s); err == nil || !strings.Contains(err.Error(), "regs/r1: does not verify") {
		t.Errorf("another key: %v", err)
	}
	for i := range s {
		bad := append([]byte{}, s...)
		bad[i] ^= 0x01
		if _, err := b.Open([]byte("regs"), []byte("r1"), bad); err == nil {
			t.Errorf("flipped bit in byte %d: opened", i)
		}
	}
	empty := b.Seal([]byte("regs"), []byte("r1"), nil)
	if _, err := b.Open([]byte("regs"), []byte("r1"), empty[:len(empty)-1]); err == nil || !strings.Contains(err.Error(), "malformed") {
		t.Errorf("one byte short of the shortest value: %v, want malformed", err)
	}
	v2 := append([]byte{}, s...)
	v2[0] = 2
	if _, err := b.Open([]byte("regs"), []byte("r1"), v2); err == nil || !strings.Contains(err.Error(), "malformed") {
		t.Errorf("version 2: %v, want malformed", err)
	}
	// Keys are printed as they are when printable, in hex otherwise.
	for _, c := range []struct{ key, shown string }{
		{"\x20~", "\x20~"}, {"a\x1f", "611f"}, {"a\x7f", "617f"}, {"\x00", "00"},
	} {
		_, err := b.Open([]byte("bk"), []byte(c.key), []byte{1})
		if err == nil || !strings.HasPrefix(err.Error(), "bk/"+c.shown+":") {
			t.Errorf("key %q: error %v, want it shown as %q", c.key, err, c.shown)
		}
	}
}

func TestLoadKeyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keys", "data.key")
	if _, err := LoadKeyFile(path, false); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("missing key without create: %v", err)
	}
	key, err := LoadKeyFile(path, true)
	if err != nil || len(key) != DataKeySize || bytes.Equal(key, make([]byte, DataKeySize)) {
		t.Fatalf("created key %x, %v", key, err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, %v; want 0600", fi.Mode(), err)
	}
	if di, err := os.Stat(filepath.Dir(path)); err != nil || di.Mode().Perm() != 0o700 {
		t.Fatalf("key directory mode %v, %v; want 0700", di.Mode(), err)
	}
	if b, _ := os.ReadFile(path); string(b) != hex.EncodeToString(key)+"\n" {
		t.Fatalf("key file holds %q", b)
	}
	again, err := LoadKeyFile(path, true)
	if err != nil || !bytes.Equal(again, key) {
		t.Fatalf("loading again: %x, %v; want the same key", again, err)
	}
	if ents, _ := os.ReadDir(filepath.Dir(path)); len(ents) != 1 {
		t.Errorf("key directory holds %d entries, want the key alone", len(ents))
	}
	if err := WriteKeyFile(path, make([]byte, DataKeySize)); err == nil {
		t.Error("WriteKeyFile replaced an existing key")
	}
	if again, _ := LoadKeyFile(path, false); !bytes.Equal(again, key) {
		t.Error("the key changed")
	}

	for _, c := range []struct {
		mode os.FileMode
		ok   bool
	}{{0o600, true}, {0o400, true}, {0o640, false}, {0o610, false}, {0o604, false}, {0o601, false}} {
		os.Chmod(path, c.mode)
		_, err := LoadKeyFile(path, false)
		if c.ok != (err == nil) || err != nil && !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("mode %04o: %v, want ok %v", c.mode, err, c.ok)
		}
	}
	os.Chmod(path, 0o600)

	for name, text := range map[string]string{
		"short":    strings.Repeat("ab", 31),
		"long":     strings.Repeat("ab", 33),
		"not hex":  strings.Repeat("zz", 32),
		"empty":    "",
		"trailing": hex.EncodeToString(key) + " x",
	} {
		p := filepath.Join(dir, name+".key")
		os.WriteFile(p, []byte(text), 0o600)
		if _, err := LoadKeyFile(p, false); err == nil || !strings.Contains(err.Error(), "malformed") {
			t.Errorf("%s key file: %v, want malformed", name, err)
		}
	}
	spaced := filepath.Join(dir, "spaced.key")
	os.WriteFile(spaced, []byte("  "+hex.EncodeToString(key)+"\r\n\n"), 0o600)
	if k, err := LoadKeyFile(spaced, false); err != nil || !bytes.Equal(k, key) {
		t.Errorf("a key with spaces around: %x, %v", k, err)
	}
	// A path that cannot be a file: an error, and no key made.
	under := filepath.Join(spaced, "data.key")
	if _, err := LoadKeyFile(under, true); err == nil || !strings.Contains(err.Error(), under) {
		t.Errorf("key under a file: %v", err)
	}
	if err := WriteKeyFile(filepath.Join(spaced, "x", "data.key"), key); err == nil {
		t.Error("WriteKeyFile under a file succeeded")
	}
}
