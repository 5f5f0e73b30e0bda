package seal

import (
	"bytes"
	"errors"
	"testing"
)

func TestSealOpen(t *testing.T) {
	kp, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	other, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	doc := []byte(`{"id":"r1","name":"张三"}`)
	sealed, err := Seal(doc, &kp.Public)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("张三")) {
		t.Fatal("sealed document contains plaintext")
	}
	again, _ := Seal(doc, &kp.Public)
	if bytes.Equal(sealed, again) {
		t.Fatal("two seals of the same document are equal; want an ephemeral key each time")
	}
	tampered := bytes.Clone(sealed)
	tampered[len(tampered)-1] ^= 1
	tests := []struct {
		name    string
		kp      *KeyPair
		in      []byte
		want    []byte
		wantErr error
	}{
		{"right key", &kp, sealed, doc, nil},
		{"wrong key", &other, sealed, nil, ErrOpen},
		{"tampered", &kp, tampered, nil, ErrOpen},
		{"short", &kp, sealed[:10], nil, ErrOpen},
		{"empty", &kp, nil, nil, ErrOpen},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.kp.Open(tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Open error = %v, want %v", err, tt.wantErr)
			}
			if !bytes.Equal(got, tt.want) {
				t.Fatalf("Open = %q, want %q", got, tt.want)
			}
			// An Opener answers the same, appending to what out holds.
			o, err := tt.kp.Opener()
			if err != nil {
				t.Fatal(err)
			}
			got, err = o.OpenAppend([]byte("prefix:"), tt.in)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Opener error = %v, want %v", err, tt.wantErr)
			}
			if tt.want != nil && string(got) != "prefix:"+string(tt.want) {
				t.Fatalf("Opener = %q, want prefix:%q", got, tt.want)
			}
		})
	}
	// A low-order ephemeral key (all zeros) opens nothing.
	zero := bytes.Clone(sealed)
	clear(zero[:KeySize])
	if o, _ := kp.Opener(); o != nil {
		if _, err := o.OpenAppend(nil, zero); !errors.Is(err, ErrOpen) {
			t.Fatalf("zero ephemeral key: %v, want ErrOpen", err)
		}
	}
}

func BenchmarkOpen40KB(b *testing.B) {
	kp, _ := GenerateKey()
	sealed, _ := Seal(bytes.Repeat([]byte{'x'}, 40<<10), &kp.Public)
	o, _ := kp.Opener()
	b.Run("KeyPair", func(b *testing.B) {
		for b.Loop() {
			if _, err := kp.Open(sealed); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Opener", func(b *testing.B) {
		for b.Loop() {
			if _, err := o.OpenAppend(nil, sealed); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestPublicKey(t *testing.T) {
	if _, err := PublicKey(make([]byte, 31)); err == nil {
		t.Fatal("31-byte key accepted")
	}
	if _, err := PublicKey(make([]byte, 32)); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkSeal40KB(b *testing.B) {
	kp, _ := GenerateKey()
	doc := bytes.Repeat([]byte{'x'}, 40<<10)
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if _, err := Seal(doc, &kp.Public); err != nil {
			b.Fatal(err)
		}
	}
}
