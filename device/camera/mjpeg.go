package camera

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// JPEG markers used here.
const (
	markerSOI = 0xd8
	markerEOI = 0xd9
	markerSOS = 0xda
	markerDHT = 0xc4
)

// maxJPEGSize bounds a single frame read from a stream, so that a corrupt
// stream cannot make the reader grow without limit.
const maxJPEGSize = 16 << 20

// stdDHT is a DHT segment with the standard Huffman tables of ITU T.81
// Annex K.3, which Motion-JPEG (AVI1) frames leave out and expect the
// decoder to assume.
var stdDHT = buildStdDHT()

func buildStdDHT() []byte {
	tables := []struct {
		class   byte // 0x00 DC luminance, 0x10 AC luminance, 0x01 DC chroma, 0x11 AC chroma
		counts  [16]byte
		symbols []byte
	}{
		{0x00, [16]byte{0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0}, []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
		{0x10, [16]byte{0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 125}, []byte{
			0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07,
			0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0,
			0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28,
			0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
			0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
			0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
			0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
			0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5,
			0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2,
			0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
			0xf9, 0xfa,
		}},
		{0x01, [16]byte{0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0}, []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
		{0x11, [16]byte{0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 119}, []byte{
			0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71,
			0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0,
			0x15, 0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18, 0x19, 0x1a, 0x26,
			0x27, 0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48,
			0x49, 0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68,
			0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
			0x88, 0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5,
			0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3,
			0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda,
			0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8,
			0xf9, 0xfa,
		}},
	}
	body := []byte{}
	for _, t := range tables {
		body = append(body, t.class)
		body = append(body, t.counts[:]...)
		body = append(body, t.symbols...)
	}
	n := len(body) + 2
	return append([]byte{0xff, markerDHT, byte(n >> 8), byte(n)}, body...)
}

// EnsureHuffman returns a JPEG that carries Huffman tables: data itself
// when it has a DHT segment before its first scan, otherwise a copy with the
// standard tables inserted just before the scan (the Motion-JPEG convention
// many UVC webcams follow). It reports whether it inserted the tables.
func EnsureHuffman(data []byte) ([]byte, bool, error) {
	if len(data) < 4 || data[0] != 0xff || data[1] != markerSOI {
		return nil, false, errors.New("mjpeg: frame does not start with a JPEG SOI marker")
	}
	i := 2
	for {
		if i+1 >= len(data) {
			return nil, false, errors.New("mjpeg: frame ends before its first scan")
		}
		if data[i] != 0xff {
			return nil, false, fmt.Errorf("mjpeg: want a marker at byte %d, found 0x%02x", i, data[i])
		}
		m := data[i+1]
		switch {
		case m == 0xff: // fill byte
			i++
			continue
		case m == markerDHT:
			return data, false, nil
		case m == markerSOS:
			out := make([]byte, 0, len(data)+len(stdDHT))
			out = append(out, data[:i]...)
			out = append(out, stdDHT...)
			out = append(out, data[i:]...)
			return out, true, nil
		case m == 0x01 || (m >= 0xd0 && m <= 0xd7): // no length
			i += 2
			continue
		}
		if i+3 >= len(data) {
			return nil, false, errors.New("mjpeg: truncated segment header")
		}
		i += 2 + (int(data[i+2])<<8 | int(data[i+3]))
	}
}

// MJPEGReader splits a Motion-JPEG byte stream (concatenated JPEG images,
// as in an .mjpeg file or ffmpeg's "-f mjpeg" output) into single JPEGs.
// It follows the segment structure, so bytes that look like an EOI marker
// inside metadata (e.g. an EXIF thumbnail) do not end a frame early.
type MJPEGReader struct {
	r   *bufio.Reader
	buf bytes.Buffer
}

// NewMJPEGReader returns a reader of the JPEG frames in r.
func NewMJPEGReader(r io.Reader) *MJPEGReader {
	return &MJPEGReader{r: bufio.NewReaderSize(r, 64<<10)}
}

// Next returns the next frame. The slice is valid until the next call.
// It returns io.EOF at a clean end of the stream and io.ErrUnexpectedEOF
// when the stream ends inside a frame.
func (m *MJPEGReader) Next() ([]byte, error) {
	m.buf.Reset()
	// Find SOI, skipping anything between frames.
	prev := byte(0)
	for {
		b, err := m.r.ReadByte()
		if err != nil {
			return nil, err // io.EOF between frames is a clean end
		}
		if prev == 0xff && b == markerSOI {
			break
		}
		prev = b
	}
	m.buf.Write([]byte{0xff, markerSOI})
	inScan := false
	for {
		if m.buf.Len() > maxJPEGSize {
			return nil, fmt.Errorf("mjpeg: frame larger than %d bytes", maxJPEGSize)
		}
		if inScan {
			// Entropy-coded data: copy up to the next 0xff quickly.
			chunk, err := m.r.ReadSlice(0xff)
			m.buf.Write(chunk)
			if err == bufio.ErrBufferFull {
				continue
			}
			if err != nil {
				return nil, unexpected(err)
			}
			b, err := m.r.ReadByte()
			if err != nil {
				return nil, unexpected(err)
			}
			switch {
			case b == 0x00 || (b >= 0xd0 && b <= 0xd7): // stuffing or restart marker
				m.buf.WriteByte(b)
				continue
			case b == 0xff: // fill byte: the marker comes next
				m.r.UnreadByte()
				continue
			case b == markerEOI:
				m.buf.WriteByte(b)
				return m.buf.Bytes(), nil
			}
			// Another segment (progressive JPEGs have several scans).
			m.buf.WriteByte(b)
			inScan = false
			if err := m.segment(b); err != nil {
				return nil, err
			}
			inScan = b == markerSOS
			continue
		}
		b, err := m.r.ReadByte()
		if err != nil {
			return nil, unexpected(err)
		}
		if b != 0xff {
			return nil, fmt.Errorf("mjpeg: want a marker, found 0x%02x", b)
		}
		for b == 0xff {
			if b, err = m.r.ReadByte(); err != nil {
				return nil, unexpected(err)
			}
		}
		m.buf.Write([]byte{0xff, b})
		switch {
		case b == markerEOI:
			return m.buf.Bytes(), nil
		case b == 0x01 || (b >= 0xd0 && b <= 0xd7):
			continue
		}
		if err := m.segment(b); err != nil {
			return nil, err
		}
		inScan = b == markerSOS
	}
}

// segment copies the length and payload of a segment whose marker has been
// written already.
func (m *MJPEGReader) segment(marker byte) error {
	var l [2]byte
	if _, err := io.ReadFull(m.r, l[:]); err != nil {
		return unexpected(err)
	}
	n := int(l[0])<<8 | int(l[1])
	if n < 2 {
		return fmt.Errorf("mjpeg: segment 0x%02x has bad length %d", marker, n)
	}
	m.buf.Write(l[:])
	if _, err := io.CopyN(&m.buf, m.r, int64(n-2)); err != nil {
		return unexpected(err)
	}
	return nil
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
