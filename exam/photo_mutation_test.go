package exam

import "testing"

// Boundaries of CheckPhotoFile that TestCheckPhotoFile does not reach: the
// upper size limit is inclusive, the JPEG signature is three bytes, and
// what the refusal reports.
func TestCheckPhotoFileBoundaries(t *testing.T) {
	p := noiseJPEG(t, 300, 420, 30000)
	for _, tt := range []struct {
		name string
		p    []byte
		max  int
		want string
	}{
		{"exactly max bytes", p, len(p), ""},
		{"one byte over max", p, len(p) - 1, PhotoFileLarge},
		{"no upper limit", p, 0, ""},
		{"signature only", []byte{0xFF, 0xD8, 0xFF}, 0, PhotoFileSmall},
		{"two bytes of the signature", []byte{0xFF, 0xD8}, 0, PhotoNotJPEG},
		{"second byte wrong", append([]byte{0xFF, 0xD9, 0xFF}, p[3:]...), 0, PhotoNotJPEG},
		{"third byte wrong", append([]byte{0xFF, 0xD8, 0x00}, p[3:]...), 0, PhotoNotJPEG},
		{"first byte wrong", append([]byte{0x00, 0xD8, 0xFF}, p[3:]...), 0, PhotoNotJPEG},
		{"signature, then no JPEG", append([]byte{0xFF, 0xD8, 0xFF}, make([]byte, 30000)...), 0, PhotoNotJPEG},
	} {
		got := ""
		if r := CheckPhotoFile(tt.p, tt.max); r != nil {
			got = r.Code
		}
		if got != tt.want {
			t.Errorf("%s: CheckPhotoFile = %q, want %q", tt.name, got, tt.want)
		}
	}
	r := CheckPhotoFile(noiseJPEG(t, 299, 419, 30000), 0)
	if r == nil || r.Got != "299×419" || r.Limit != "300×420" || r.Error() != "photo_too_small: 299×419 (limit 300×420)" {
		t.Errorf("299×419: %+v", r)
	}
	r = CheckPhotoFile(noiseJPEG(t, 300, 420, 20000), 0)
	if r == nil || r.Got != "20000" || r.Limit != "20481" {
		t.Errorf("20,000 bytes: %+v, want got 20000, limit 20481", r)
	}
	if PhotoMinBytes != 20481 || PhotoMinWidth != 300 || PhotoMinHeight != 420 {
		t.Errorf("limits %d bytes, %d×%d; the notice says more than 20 KB, at least 300×420", PhotoMinBytes, PhotoMinWidth, PhotoMinHeight)
	}
}
