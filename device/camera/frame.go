package camera

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"time"
)

// PixelFormat is a V4L2 pixel format code (a FOURCC).
type PixelFormat uint32

// Pixel formats the camera understands. RGBA is not a V4L2 format: replay
// sources use it for decoded PNG frames.
const (
	FormatMJPEG PixelFormat = 'M' | 'J'<<8 | 'P'<<16 | 'G'<<24
	FormatJPEG  PixelFormat = 'J' | 'P'<<8 | 'E'<<16 | 'G'<<24 // some drivers label MJPEG so
	FormatYUYV  PixelFormat = 'Y' | 'U'<<8 | 'Y'<<16 | 'V'<<24
	FormatRGBA  PixelFormat = 'R' | 'G'<<8 | 'B'<<16 | 'A'<<24
)

// String returns the FOURCC, e.g. "MJPG".
func (f PixelFormat) String() string {
	b := []byte{byte(f), byte(f >> 8), byte(f >> 16), byte(f >> 24)}
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			b[i] = '?'
		}
	}
	return string(b)
}

// MarshalText encodes the format as its FOURCC.
func (f PixelFormat) MarshalText() ([]byte, error) { return []byte(f.String()), nil }

// UnmarshalText decodes a FOURCC written by MarshalText.
func (f *PixelFormat) UnmarshalText(b []byte) error {
	v, err := ParsePixelFormat(string(b))
	if err != nil {
		return err
	}
	*f = v
	return nil
}

// ParsePixelFormat reads a FOURCC such as "MJPG" or "YUYV".
func ParsePixelFormat(s string) (PixelFormat, error) {
	if len(s) != 4 {
		return 0, fmt.Errorf("pixel format %q: want a four-character code", s)
	}
	return PixelFormat(uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24), nil
}

// isJPEG reports whether frames in format f are JPEG images.
func (f PixelFormat) isJPEG() bool { return f == FormatMJPEG || f == FormatJPEG }

// Mode is the negotiated capture mode.
type Mode struct {
	Format PixelFormat `json:"format"`
	Width  int         `json:"width"`
	Height int         `json:"height"`
	FPS    float64     `json:"fps"`
}

func (m Mode) String() string {
	return fmt.Sprintf("%s %dx%d@%gfps", m.Format, m.Width, m.Height, m.FPS)
}

// Frame is one captured picture. Frames are immutable once published: every
// consumer may read Data concurrently and must not modify it.
type Frame struct {
	Seq    uint64      // 1, 2, … per Camera, increasing across reconnects
	Time   time.Time   // when the capture goroutine received it
	Format PixelFormat // FormatMJPEG (a complete JPEG), FormatYUYV or FormatRGBA
	Width  int
	Height int
	Data   []byte
}

// Image decodes the frame. JPEG frames decode with image/jpeg (the missing
// Huffman table was inserted at capture), YUYV and RGBA frames become an
// *image.RGBA.
func (f Frame) Image() (image.Image, error) {
	switch {
	case f.Format.isJPEG():
		img, err := jpeg.Decode(bytes.NewReader(f.Data))
		if err != nil {
			return nil, fmt.Errorf("decode frame %d: %w", f.Seq, err)
		}
		return img, nil
	case f.Format == FormatYUYV:
		img := image.NewRGBA(image.Rect(0, 0, f.Width, f.Height))
		if err := YUYVToRGBA(img.Pix, f.Data, f.Width, f.Height); err != nil {
			return nil, fmt.Errorf("decode frame %d: %w", f.Seq, err)
		}
		return img, nil
	case f.Format == FormatRGBA:
		if len(f.Data) != f.Width*f.Height*4 {
			return nil, fmt.Errorf("decode frame %d: RGBA data is %d bytes, want %d", f.Seq, len(f.Data), f.Width*f.Height*4)
		}
		return &image.RGBA{Pix: f.Data, Stride: f.Width * 4, Rect: image.Rect(0, 0, f.Width, f.Height)}, nil
	}
	return nil, fmt.Errorf("decode frame %d: unsupported pixel format %s", f.Seq, f.Format)
}

// JPEG returns the frame as JPEG bytes: the data itself for MJPEG frames,
// an encoding at the given quality otherwise.
func (f Frame) JPEG(quality int) ([]byte, error) {
	if f.Format.isJPEG() {
		return f.Data, nil
	}
	img, err := f.Image()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	buf.Grow(f.Width * f.Height / 8)
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: quality}); err != nil {
		return nil, fmt.Errorf("encode frame %d: %w", f.Seq, err)
	}
	return buf.Bytes(), nil
}
