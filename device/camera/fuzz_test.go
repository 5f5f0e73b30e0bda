package camera

import (
	"bytes"
	"image/jpeg"
	"io"
	"testing"
	"time"
)

// Frames come from USB devices and files: the parsers must never panic or
// loop, whatever the bytes.
//
//	go test -run '^$' -fuzz FuzzEnsureHuffman -fuzztime 1m ./device/camera
func FuzzEnsureHuffman(f *testing.F) {
	full := encodeJPEG(f, testImage(16, 16, 0))
	f.Add(full)
	f.Add(stripDHT(f, full))
	f.Add([]byte{0xff, 0xd8, 0xff, 0xda})
	f.Fuzz(func(t *testing.T, data []byte) {
		out, inserted, err := EnsureHuffman(data)
		if err != nil {
			return
		}
		if inserted != (len(out) == len(data)+len(stdDHT)) {
			t.Fatalf("inserted %v but %d → %d bytes", inserted, len(data), len(out))
		}
		if !inserted && !bytes.Equal(out, data) {
			t.Fatal("changed a frame that had its tables")
		}
		jpeg.DecodeConfig(bytes.NewReader(out)) // must not panic
	})
}

// go test -run '^$' -fuzz FuzzMJPEGReader -fuzztime 1m ./device/camera
func FuzzMJPEGReader(f *testing.F) {
	a, b := encodeJPEG(f, testImage(8, 8, 1)), encodeJPEG(f, testImage(8, 8, 2))
	f.Add(append(append([]byte{}, a...), b...))
	f.Add(append([]byte("junk"), a[:len(a)/2]...))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewMJPEGReader(bytes.NewReader(data))
		total := 0
		for range len(data) + 1 {
			frame, err := r.Next()
			if err == io.EOF || err != nil {
				return
			}
			if len(frame) < 4 || frame[0] != 0xff || frame[1] != 0xd8 || frame[len(frame)-2] != 0xff || frame[len(frame)-1] != 0xd9 {
				t.Fatalf("frame % x… is not SOI…EOI", frame[:min(len(frame), 8)])
			}
			if total += len(frame); total > len(data) {
				t.Fatalf("frames hold %d bytes, the stream %d", total, len(data))
			}
		}
		t.Fatal("more frames than bytes")
	})
}

// go test -run '^$' -fuzz FuzzFrameComment -fuzztime 30s ./device/camera
func FuzzFrameComment(f *testing.F) {
	f.Add(uint64(1), int64(1764190000123456))
	f.Fuzz(func(t *testing.T, seq uint64, us int64) {
		com := appendFrameComment([]byte{0xff, 0xd8}, Frame{Seq: seq, Time: time.UnixMicro(us)})
		gotSeq, gotTime, ok := FrameComment(com)
		if !ok || gotSeq != seq || gotTime.UnixMicro() != us {
			t.Fatalf("round trip %d %d → %d %d %v", seq, us, gotSeq, gotTime.UnixMicro(), ok)
		}
	})
}
