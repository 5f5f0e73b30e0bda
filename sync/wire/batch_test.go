package wire

import (
	"bytes"
	"encoding/binary"
	"reflect"
	"testing"
)

func TestPushBinaryRoundTrip(t *testing.T) {
	in := PushRequest{Items: []SealedItem{
		{ID: "a", Revision: 1, CandidateKey: "k1", Sealed: []byte{0, 1, 2, 255}},
		{ID: "b", Revision: 2, Sealed: []byte{}},
		{ID: "c", Revision: 1, CandidateKey: "k1", Sealed: bytes.Repeat([]byte{7}, 1000)},
	}}
	data, err := in.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var out PushRequest
	if err := out.UnmarshalBinary(data); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in, out) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", out, in)
	}
	var empty PushRequest
	if data, _ := (PushRequest{}).MarshalBinary(); empty.UnmarshalBinary(data) != nil || len(empty.Items) != 0 {
		t.Fatal("empty batch does not round-trip")
	}
}

func TestPushBinaryMalformed(t *testing.T) {
	good, _ := PushRequest{Items: []SealedItem{{ID: "a", Revision: 1, Sealed: []byte("xyz")}}}.MarshalBinary()
	hugeHeader := bytes.Clone(good)
	binary.BigEndian.PutUint32(hugeHeader[4:], 1<<31)
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"json", []byte(`{"items":[]}`)},
		{"bad magic", append([]byte("EKP2"), good[4:]...)},
		{"header too long", hugeHeader},
		{"truncated blob", good[:len(good)-1]},
		{"trailing bytes", append(bytes.Clone(good), 'x')},
		{"bad header json", append(append([]byte("EKP1"), 0, 0, 0, 2), '{', '[')},
		{"unknown header field", append(append([]byte("EKP1"), 0, 0, 0, 25), `{"items":[],"admin":true}`...)},
		{"two header values", append(append([]byte("EKP1"), 0, 0, 0, 4), `{}{}`...)},
	}
	for _, tt := range tests {
		var p PushRequest
		if err := p.UnmarshalBinary(tt.data); err == nil {
			t.Errorf("%s: accepted", tt.name)
		}
	}
}

func FuzzPushBinary(f *testing.F) {
	good, _ := PushRequest{Items: []SealedItem{{ID: "a", Revision: 1, Sealed: []byte("xyz")}, {ID: "b", Revision: 3}}}.MarshalBinary()
	f.Add(good)
	f.Add([]byte("EKP1\x00\x00\x00\x02{}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var p PushRequest
		if p.UnmarshalBinary(data) != nil {
			return
		}
		again, err := p.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		var q PushRequest
		if err := q.UnmarshalBinary(again); err != nil || len(q.Items) != len(p.Items) {
			t.Fatalf("re-encoded batch does not decode: %v", err)
		}
	})
}
