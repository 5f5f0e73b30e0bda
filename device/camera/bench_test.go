package camera

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the CPU time (user + system) this process has used.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPreview measures the whole preview path at the camera rate, one
// op per frame shown: source → capture goroutine → Preview → HTTP on
// 127.0.0.1 → client multipart parser. Run it in real time, e.g.
//
//	go test -run '^$' -bench Preview -benchtime 150x ./device/camera
//
// Metrics: fps received; latency from capture (the time in the frame comment)
// to the last byte received, median and 95th percentile; decode-ms, the
// client-side JPEG decode with image/jpeg as a stand-in for the browser's;
// cpu-%core, the process CPU time over wall time (the capture, the server
// and this client together; face analysis excluded); cpu-ms/frame.
func BenchmarkPreview(b *testing.B) {
	b.Run("mjpeg-clip-15fps", func(b *testing.B) {
		cfg := replayConfig(15, true)
		var open Opener
		clip := filepath.Join(facesDir(b), "live", "cap13_blink_turn", "cap13_blink_turn.mjpeg")
		open = replayOpener(clip, cfg)
		benchPreview(b, open, cfg)
	})
	b.Run("yuyv-640x480-15fps", func(b *testing.B) {
		// A real picture (clip frame 62) as a YUYV camera would send it, so
		// that the JPEG encode costs what it would with a live face.
		data, err := os.ReadFile(filepath.Join(facesDir(b), "live", "cap13_blink_turn", "frames", "000062.jpg"))
		if err != nil {
			b.Skip(err)
		}
		img, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		cfg := testConfig()
		benchPreview(b, yuyvDataOpener(toYUYV(img), 640, 480, 15), cfg)
	})
}

func benchPreview(b *testing.B, open Opener, cfg Config) {
	_, _, srv := startPreview(b, open, cfg)
	resp, err := http.Get(srv.StreamURL())
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	_, params, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	mr := multipart.NewReader(resp.Body, params["boundary"])
	next := func() ([]byte, time.Duration) {
		part, err := mr.NextPart()
		if err != nil {
			b.Fatal(err)
		}
		data, err := io.ReadAll(part)
		if err != nil {
			b.Fatal(err)
		}
		_, captured, ok := FrameComment(data)
		if !ok {
			b.Fatal("frame without comment")
		}
		return data, time.Since(captured)
	}
	for range 3 { // warm up: first frames, connection
		next()
	}
	lat := make([]time.Duration, 0, b.N)
	var decode time.Duration
	var decoded int
	b.ResetTimer()
	cpu0, wall0 := cpuTime(b), time.Now()
	var last []byte
	for range b.N {
		data, l := next()
		lat = append(lat, l)
		last = data
	}
	cpu, wall := cpuTime(b)-cpu0, time.Since(wall0)
	b.StopTimer()
	for range 5 {
		t0 := time.Now()
		if _, err := jpeg.Decode(bytes.NewReader(last)); err != nil {
			b.Fatal(err)
		}
		decode += time.Since(t0)
		decoded++
	}
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/wall.Seconds(), "fps")
	b.ReportMetric(ms(lat[len(lat)/2]), "lat-p50-ms")
	b.ReportMetric(ms(lat[len(lat)*95/100]), "lat-p95-ms")
	b.ReportMetric(ms(decode/time.Duration(decoded)), "decode-ms")
	b.ReportMetric(100*cpu.Seconds()/wall.Seconds(), "cpu-%core")
	b.ReportMetric(ms(cpu/time.Duration(b.N)), "cpu-ms/frame")
	b.ReportMetric(float64(len(last))/1024, "KiB/frame")
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// BenchmarkFrameJPEGFromYUYV is the per-frame encode a YUYV camera costs
// the preview (MJPEG cameras pass through).
func BenchmarkFrameJPEGFromYUYV(b *testing.B) {
	f := Frame{Format: FormatYUYV, Width: 640, Height: 480, Data: make([]byte, 640*480*2)}
	for i := range f.Data {
		f.Data[i] = byte(i * 7)
	}
	for b.Loop() {
		if _, err := f.JPEG(80); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCaptureHandoff is the capture goroutine's cost to publish a
// frame with two consumers waiting.
func BenchmarkCaptureHandoff(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := &Camera{notify: make(chan struct{}), watchers: map[chan Status]struct{}{}, consumers: map[*Consumer]struct{}{}}
	for range 2 {
		k := c.NewConsumer("w")
		go func() {
			for ctx.Err() == nil {
				k.Next(ctx)
			}
		}()
	}
	f := Frame{Format: FormatMJPEG, Data: make([]byte, 40000)}
	for b.Loop() {
		c.publish(f)
	}
}

// toYUYV converts a picture to packed YUYV with the BT.601 limited-range
// matrix, averaging the chroma of each pixel pair.
func toYUYV(img image.Image) []byte {
	b := img.Bounds()
	out := make([]byte, 0, b.Dx()*b.Dy()*2)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x+1 < b.Max.X; x += 2 {
			var ys [2]float64
			var u, v float64
			for i := range 2 {
				r, g, bl, _ := img.At(x+i, y).RGBA()
				R, G, B := float64(r>>8), float64(g>>8), float64(bl>>8)
				ys[i] = 16 + 0.257*R + 0.504*G + 0.098*B
				u += (128 - 0.148*R - 0.291*G + 0.439*B) / 2
				v += (128 + 0.439*R - 0.368*G - 0.071*B) / 2
			}
			out = append(out, byte(ys[0]+0.5), byte(u+0.5), byte(ys[1]+0.5), byte(v+0.5))
		}
	}
	return out
}
