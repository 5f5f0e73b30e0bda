package wire

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
)

// PushContentType is the media type of the binary push body (see
// PushRequest.MarshalBinary). The central also accepts application/json.
const PushContentType = "application/vnd.examkiosk.push"

// pushMagic starts a binary push body; the digit is the format version.
var pushMagic = [4]byte{'E', 'K', 'P', '1'}

// pushHeader is the JSON header of a binary push body: the items without
// their sealed documents, which follow in order with the given sizes.
type pushHeader struct {
	Items []pushHeaderItem `json:"items"`
}

type pushHeaderItem struct {
	ID           string `json:"id"`
	Revision     int    `json:"revision"`
	CandidateKey string `json:"candidate_key,omitempty"`
	Size         int    `json:"size"`
}

// MarshalBinary encodes the request as "EKP1", a 4-byte big-endian header
// length, a JSON header listing each item's id, revision, candidate key and
// sealed size, and then the sealed documents back to back. Sealed documents
// are binary and make up almost all of a push: framing them raw instead of
// base64 inside JSON saves a third of the bytes and most of the central's
// JSON work.
func (p PushRequest) MarshalBinary() ([]byte, error) {
	h := pushHeader{Items: make([]pushHeaderItem, len(p.Items))}
	total := 0
	for i, it := range p.Items {
		h.Items[i] = pushHeaderItem{ID: it.ID, Revision: it.Revision, CandidateKey: it.CandidateKey, Size: len(it.Sealed)}
		total += len(it.Sealed)
	}
	hj, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("encode push header: %w", err)
	}
	out := make([]byte, 0, 8+len(hj)+total)
	out = append(out, pushMagic[:]...)
	out = binary.BigEndian.AppendUint32(out, uint32(len(hj)))
	out = append(out, hj...)
	for _, it := range p.Items {
		out = append(out, it.Sealed...)
	}
	return out, nil
}

// UnmarshalBinary decodes a body made by MarshalBinary. The items' Sealed
// slices point into data.
func (p *PushRequest) UnmarshalBinary(data []byte) error {
	if len(data) < 8 || [4]byte(data[:4]) != pushMagic {
		return errors.New("push body: not an EKP1 batch")
	}
	n := binary.BigEndian.Uint32(data[4:8])
	if uint64(n) > uint64(len(data)-8) {
		return fmt.Errorf("push body: header length %d exceeds the body", n)
	}
	var h pushHeader
	d := json.NewDecoder(bytes.NewReader(data[8 : 8+n]))
	d.DisallowUnknownFields() // a field this version does not know is refused, not ignored
	if err := d.Decode(&h); err != nil {
		return fmt.Errorf("push body: header: %w", err)
	}
	if d.More() {
		return errors.New("push body: data after the header")
	}
	rest := data[8+n:]
	items := make([]SealedItem, len(h.Items))
	for i, it := range h.Items {
		if it.Size < 0 || it.Size > len(rest) {
			return fmt.Errorf("push body: item %d size %d exceeds the remaining %d bytes", i, it.Size, len(rest))
		}
		items[i] = SealedItem{ID: it.ID, Revision: it.Revision, CandidateKey: it.CandidateKey, Sealed: rest[:it.Size:it.Size]}
		rest = rest[it.Size:]
	}
	if len(rest) != 0 {
		return fmt.Errorf("push body: %d bytes after the last item", len(rest))
	}
	p.Items = items
	return nil
}
