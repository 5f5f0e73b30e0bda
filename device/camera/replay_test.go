package camera

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

func replayConfig(fps float64, loop bool) Config {
	c := DefaultConfig()
	c.FPS, c.ReplayLoop = fps, loop
	return c
}

// readN reads n frames from a source.
func readN(t *testing.T, src Source, n int) []Frame {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out []Frame
	for range n {
		f, err := src.Read(ctx)
		if err != nil {
			t.Fatalf("frame %d: %v", len(out)+1, err)
		}
		out = append(out, f)
	}
	return out
}

func TestReplayDirectoryLoopsInNameOrder(t *testing.T) {
	dir := t.TempDir()
	// Two JPEGs (one without Huffman tables, as a webcam would write it),
	// one PNG, one file to ignore.
	os.WriteFile(filepath.Join(dir, "001.jpg"), encodeJPEG(t, testImage(40, 30, 1)), 0o644)
	os.WriteFile(filepath.Join(dir, "002.JPEG"), stripDHT(t, encodeJPEG(t, testImage(40, 30, 2))), 0o644)
	var pb bytes.Buffer
	png.Encode(&pb, testImage(40, 30, 3))
	os.WriteFile(filepath.Join(dir, "003.png"), pb.Bytes(), 0o644)
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a frame"), 0o644)

	src, err := OpenReplay(context.Background(), dir, replayConfig(50, true))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if m := src.Info().Mode; m.Width != 40 || m.Height != 30 || m.FPS != 50 {
		t.Errorf("mode %v", m)
	}
	start := time.Now()
	frames := readN(t, src, 7)
	elapsed := time.Since(start)
	wantFormats := []PixelFormat{FormatMJPEG, FormatMJPEG, FormatRGBA, FormatMJPEG, FormatMJPEG, FormatRGBA, FormatMJPEG}
	for i, f := range frames {
		if f.Format != wantFormats[i] {
			t.Errorf("frame %d format %s, want %s", i, f.Format, wantFormats[i])
		}
		img, err := f.Image()
		if err != nil {
			t.Errorf("frame %d: %v", i, err)
			continue
		}
		if img.Bounds().Dx() != 40 {
			t.Errorf("frame %d: %v", i, img.Bounds())
		}
	}
	if !bytes.Equal(frames[0].Data, frames[3].Data) {
		t.Error("replay did not loop back to the first file")
	}
	// 7 frames at 50 fps: 6 intervals of 20 ms.
	if elapsed < 100*time.Millisecond || elapsed > 2*time.Second {
		t.Errorf("7 frames at 50 fps took %v", elapsed)
	}
}

func TestReplayWithoutLoopEnds(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.jpg"), encodeJPEG(t, testImage(16, 16, 0)), 0o644)
	src, err := OpenReplay(context.Background(), dir, replayConfig(60, false))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	readN(t, src, 1)
	if _, err := src.Read(context.Background()); StateOf(err) != StateEnded {
		t.Errorf("read past the end: %v (%s), want ended", err, StateOf(err))
	}
}

func TestReplayOpenErrors(t *testing.T) {
	empty := t.TempDir()
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "a.jpg"), []byte("not a jpeg"), 0o644)
	notMJPEG := filepath.Join(t.TempDir(), "x.mjpeg")
	os.WriteFile(notMJPEG, []byte("nothing here"), 0o644)
	tests := []struct {
		name, path string
		want       State
	}{
		{"missing", filepath.Join(empty, "nope.mjpeg"), StateNoDevice},
		{"empty dir", empty, StateError},
		{"only corrupt frames", bad, StateError},
		{"mjpeg without frames", notMJPEG, StateError},
	}
	for _, tt := range tests {
		_, err := OpenReplay(context.Background(), tt.path, replayConfig(15, true))
		if StateOf(err) != tt.want {
			t.Errorf("%s: %v (%s), want %s", tt.name, err, StateOf(err), tt.want)
		}
	}
}

func TestReplayMJPEGClip(t *testing.T) {
	clip := filepath.Join(facesDir(t), "live", "cap13_blink_turn", "cap13_blink_turn.mjpeg")
	src, err := OpenReplay(context.Background(), clip, replayConfig(60, true))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	frames := readN(t, src, 152) // 150 frames, then loops
	for _, i := range []int{0, 61, 149, 150} {
		if frames[i].Width != 640 || frames[i].Height != 480 {
			t.Errorf("frame %d is %dx%d", i+1, frames[i].Width, frames[i].Height)
		}
	}
	if !bytes.Equal(frames[0].Data, frames[150].Data) || bytes.Equal(frames[0].Data, frames[1].Data) {
		t.Error("clip did not loop after 150 frames")
	}
	img, err := frames[61].Image()
	if err != nil || img.Bounds().Dx() != 640 {
		t.Errorf("frame 62 decode: %v", err)
	}
	// The frames directory replays the same pictures.
	dsrc, err := OpenReplay(context.Background(), filepath.Join(filepath.Dir(clip), "frames"), replayConfig(60, true))
	if err != nil {
		t.Fatal(err)
	}
	defer dsrc.Close()
	d := readN(t, dsrc, 2)
	if !bytes.Equal(d[1].Data, frames[1].Data) {
		t.Error("frames/000002.jpg differs from the clip's second frame")
	}
}

func TestReplayThroughFFmpeg(t *testing.T) {
	ff, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("ffmpeg not installed (apt install ffmpeg)")
	}
	// A 1 s MPEG-4 clip at 400x300, 25 fps, like the demo source.
	clip := filepath.Join(t.TempDir(), "clip.avi")
	out, err := exec.Command(ff, "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=400x300:rate=25",
		"-t", "1", "-c:v", "mpeg4", clip).CombinedOutput()
	if err != nil {
		t.Fatalf("make clip: %v: %s", err, out)
	}
	cfg := replayConfig(30, true)
	src, err := OpenReplay(context.Background(), clip, cfg)
	if err != nil {
		t.Fatal(err)
	}
	frames := readN(t, src, 40) // more than the clip holds at 30 fps: loops
	if err := src.Close(); err != nil {
		t.Error(err)
	}
	if m := src.Info().Mode; m.Width != 640 || m.Height != 480 {
		t.Errorf("mode %v, want scaled to 640x480", m)
	}
	for i, f := range frames {
		if _, err := f.Image(); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
	}

	cfg.ReplayLoop = false
	src, err = OpenReplay(context.Background(), clip, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	n := 1
	for ; n < 100; n++ {
		if _, err = src.Read(context.Background()); err != nil {
			break
		}
	}
	if StateOf(err) != StateEnded || n < 25 || n > 35 {
		t.Errorf("unlooped 1 s clip at 30 fps: %d frames then %v", n, err)
	}

	cfg.FFmpeg = "/nonexistent/ffmpeg"
	if _, err := OpenReplay(context.Background(), clip, cfg); err == nil || errors.Is(err, ErrBadFrame) {
		t.Errorf("missing ffmpeg binary: %v", err)
	}
}

// The replay drives the whole camera: Open with a replay spec reaches ok.
func TestOpenReplaySpec(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.jpg"), encodeJPEG(t, testImage(32, 32, 0)), 0o644)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cam, err := Open(ctx, "replay:"+dir, replayConfig(30, true))
	if err != nil {
		t.Fatal(err)
	}
	defer cam.Close()
	s := waitState(t, cam.Watch(ctx), StateOK)
	if s.Device != "replay:"+dir || s.Mode.Width != 32 {
		t.Errorf("status %+v", s)
	}
	if _, err := Open(ctx, "bogus", DefaultConfig()); err == nil {
		t.Error("Open accepted a bad spec")
	}
}

// A stalled ffmpeg makes reads time out (state stalled) instead of hanging,
// and cancelling the context ends a read at once.
func TestReplayFFmpegStall(t *testing.T) {
	dir := t.TempDir()
	frame := filepath.Join(dir, "f.jpg")
	os.WriteFile(frame, encodeJPEG(t, testImage(32, 24, 0)), 0o644)
	silent := filepath.Join(dir, "silent-ffmpeg")
	os.WriteFile(silent, []byte("#!/bin/sh\nexec sleep 30\n"), 0o755)
	oneFrame := filepath.Join(dir, "one-frame-ffmpeg")
	os.WriteFile(oneFrame, []byte("#!/bin/sh\ncat "+frame+"\nexec sleep 30\n"), 0o755)
	clip := filepath.Join(dir, "clip.mp4")
	os.WriteFile(clip, []byte("not really"), 0o644)

	cfg := replayConfig(30, true)
	cfg.FrameTimeout = 300 * time.Millisecond
	cfg.FFmpeg = silent
	start := time.Now()
	_, err := OpenReplay(context.Background(), clip, cfg)
	if StateOf(err) != StateStalled || time.Since(start) > 3*time.Second {
		t.Errorf("silent ffmpeg: %v (%s) after %v, want stalled after the timeout", err, StateOf(err), time.Since(start))
	}

	cfg.FFmpeg = oneFrame
	src, err := OpenReplay(context.Background(), clip, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	readN(t, src, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, err = src.Read(ctx)
	if err == nil || time.Since(start) > 250*time.Millisecond {
		t.Errorf("read with a 100ms context: %v after %v", err, time.Since(start))
	}
}
