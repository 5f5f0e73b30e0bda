package wire

import (
	"encoding/binary"
	"slices"
	"testing"
)

// TestPushHeaderLengthJustPastBody: a header length that overshoots the
// body by a few bytes (a truncated upload, a crafted body) is refused with
// an error, not a slice-bounds panic in the central's handler.
func TestPushHeaderLengthJustPastBody(t *testing.T) {
	good, err := PushRequest{Items: []SealedItem{{ID: "a", Revision: 1, Sealed: []byte("xyz")}}}.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	for over := 1; over <= 8; over++ {
		data := slices.Clip(slices.Clone(good)) // no spare capacity to read into
		binary.BigEndian.PutUint32(data[4:], uint32(len(data)-8+over))
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("header length %d past the body: panic %v", over, r)
				}
			}()
			var p PushRequest
			if err := p.UnmarshalBinary(data); err == nil {
				t.Errorf("header length %d past the body: accepted", over)
			}
		}()
	}
}

// TestPushHeaderFillsBody: a batch whose header is the whole rest of the
// body (no sealed bytes: every item empty) is valid and decodes.
func TestPushHeaderFillsBody(t *testing.T) {
	in := PushRequest{Items: []SealedItem{{ID: "a", Revision: 1, Sealed: []byte{}}}}
	data, err := in.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if n := binary.BigEndian.Uint32(data[4:8]); int(n) != len(data)-8 {
		t.Fatalf("header length %d, body %d: want the header to fill it", n, len(data)-8)
	}
	var out PushRequest
	if err := out.UnmarshalBinary(data); err != nil || len(out.Items) != 1 || out.Items[0].ID != "a" {
		t.Fatalf("got %+v, %v", out, err)
	}
}
