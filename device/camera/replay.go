package camera

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// OpenReplay opens a replay source for path, paced at cfg.FPS and looping
// when cfg.ReplayLoop is set:
//   - a directory: its .jpg, .jpeg and .png files in name order;
//   - an .mjpeg or .mjpg file: the JPEG frames it holds;
//   - any other file: decoded by cfg.FFmpeg into MJPEG at cfg.Width×cfg.Height
//     (aspect kept) and cfg.FPS.
//
// A replay goes through the same Source interface and pipeline as a webcam.
func OpenReplay(ctx context.Context, path string, cfg Config) (Source, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, &Error{State: StateNoDevice, Op: "open replay", Device: path, Err: err}
	}
	r := &replay{path: path, loop: cfg.ReplayLoop, interval: time.Duration(float64(time.Second) / cfg.FPS), timeout: cfg.FrameTimeout}
	r.info = SourceInfo{Device: "replay:" + path, Mode: Mode{Format: FormatMJPEG, FPS: cfg.FPS}}
	ext := strings.ToLower(filepath.Ext(path))
	switch {
	case fi.IsDir():
		err = r.openDir()
	case ext == ".mjpeg" || ext == ".mjpg":
		err = r.openMJPEG()
	default:
		err = r.openFFmpeg(cfg)
	}
	if err != nil {
		r.Close()
		return nil, &Error{State: StateError, Op: "open replay", Device: path, Err: err}
	}
	// Read the first frame now so that the mode is known and a file that
	// holds no frame fails here.
	var f Frame
	for range 10 { // skip a few unusable frames at the start
		if f, err = r.nextCtx(ctx); !errors.Is(err, ErrBadFrame) {
			break
		}
	}
	if err != nil {
		r.Close()
		st := StateError
		if StateOf(err) == StateStalled {
			st = StateStalled
		}
		return nil, &Error{State: st, Op: "read first replay frame", Device: path, Err: err}
	}
	r.pending = &f
	r.info.Mode.Format, r.info.Mode.Width, r.info.Mode.Height = f.Format, f.Width, f.Height
	return r, nil
}

// replay is a Source over files.
type replay struct {
	path     string
	loop     bool
	interval time.Duration
	timeout  time.Duration // ffmpeg: longest wait for a frame
	info     SourceInfo
	due      time.Time // when the next frame is due
	pending  *Frame    // first frame, read by OpenReplay

	files []string      // directory replay
	pos   int           // next file
	file  *os.File      // .mjpeg replay
	mj    *MJPEGReader  // .mjpeg and ffmpeg replay
	cmd   *exec.Cmd     // ffmpeg replay
	stop  func()        // cancels ffmpeg
	errb  limitedWriter // ffmpeg stderr
}

func (r *replay) Info() SourceInfo { return r.info }

func (r *replay) openDir() error {
	ents, err := os.ReadDir(r.path)
	if err != nil {
		return err
	}
	for _, e := range ents {
		switch strings.ToLower(filepath.Ext(e.Name())) {
		case ".jpg", ".jpeg", ".png":
			if !e.IsDir() {
				r.files = append(r.files, filepath.Join(r.path, e.Name()))
			}
		}
	}
	slices.Sort(r.files)
	if len(r.files) == 0 {
		return errors.New("directory holds no .jpg, .jpeg or .png frame")
	}
	r.info.Name = fmt.Sprintf("replay of %d image files", len(r.files))
	return nil
}

func (r *replay) openMJPEG() error {
	f, err := os.Open(r.path)
	if err != nil {
		return err
	}
	r.file, r.mj = f, NewMJPEGReader(f)
	r.info.Name = "replay of an MJPEG file"
	return nil
}

func (r *replay) openFFmpeg(cfg Config) error {
	ctx, cancel := context.WithCancel(context.Background())
	r.stop = cancel
	args := []string{"-hide_banner", "-loglevel", "error", "-nostdin"}
	if cfg.ReplayLoop {
		args = append(args, "-stream_loop", "-1")
	}
	args = append(args, "-i", r.path, "-an",
		"-vf", fmt.Sprintf("fps=%g,scale=w=%d:h=%d:force_original_aspect_ratio=decrease:force_divisible_by=2", cfg.FPS, cfg.Width, cfg.Height),
		"-f", "mjpeg", "-q:v", "3", "pipe:1")
	r.cmd = exec.CommandContext(ctx, cfg.FFmpeg, args...)
	r.errb.n = 4096
	r.cmd.Stderr = &r.errb
	out, err := r.cmd.StdoutPipe()
	if err != nil {
		return err
	}
	// Stopping also closes our end of the pipe, which unblocks a read even
	// if something else still holds the write end.
	r.stop = func() { cancel(); out.Close() }
	r.cmd.WaitDelay = time.Second
	if err := r.cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", cfg.FFmpeg, err)
	}
	r.mj = NewMJPEGReader(out)
	r.info.Name = "replay through ffmpeg"
	return nil
}

// Read returns the next frame when it is due. An unusable frame also takes
// its time slot, so a directory of bad files cannot spin the CPU.
func (r *replay) Read(ctx context.Context) (Frame, error) {
	now := time.Now()
	if r.due.IsZero() || now.Sub(r.due) > r.interval {
		r.due = now // first frame, or fell behind: do not burst to catch up
	}
	if wait := r.due.Sub(now); wait > 0 && !sleep(ctx, wait) {
		return Frame{}, ctx.Err()
	}
	r.due = r.due.Add(r.interval)
	if r.pending != nil {
		f := *r.pending
		r.pending = nil
		return f, nil
	}
	return r.nextCtx(ctx)
}

// nextCtx is next with a bound on the wait for ffmpeg.
func (r *replay) nextCtx(ctx context.Context) (Frame, error) {
	if r.cmd == nil {
		return r.next()
	}
	// ffmpeg may stall (a slow disk, a broken file): kill it when ctx ends
	// or no frame comes within the timeout, which unblocks the pipe read.
	var timedOut atomic.Bool
	stopOnCancel := context.AfterFunc(ctx, r.stop)
	timer := time.AfterFunc(r.timeout, func() { timedOut.Store(true); r.stop() })
	f, err := r.next()
	stopOnCancel()
	timer.Stop()
	switch {
	case err == nil:
		return f, nil
	case ctx.Err() != nil:
		return Frame{}, ctx.Err()
	case timedOut.Load():
		return Frame{}, &Error{State: StateStalled, Op: "read replay frame", Device: r.path, Err: ErrTimeout}
	}
	return Frame{}, err
}

// next reads the next frame from the files, looping at the end.
func (r *replay) next() (Frame, error) {
	for range 2 { // at most one rewind per frame
		var data []byte
		var err error
		switch {
		case r.files != nil:
			if r.pos >= len(r.files) {
				if !r.loop {
					return Frame{}, r.ended()
				}
				r.pos = 0
			}
			name := r.files[r.pos]
			r.pos++
			if data, err = os.ReadFile(name); err != nil {
				return Frame{}, &Error{State: StateError, Op: "read replay frame", Device: name, Err: err}
			}
			if strings.EqualFold(filepath.Ext(name), ".png") {
				return pngFrame(name, data)
			}
			return jpegFrame(name, data)
		default:
			data, err = r.mj.Next()
			if err == io.EOF {
				if r.file == nil || !r.loop { // ffmpeg loops by itself
					return Frame{}, r.ended()
				}
				if _, err := r.file.Seek(0, io.SeekStart); err != nil {
					return Frame{}, &Error{State: StateError, Op: "rewind replay", Device: r.path, Err: err}
				}
				r.mj = NewMJPEGReader(r.file)
				continue
			}
			if err != nil {
				return Frame{}, &Error{State: StateError, Op: "read replay frame", Device: r.path, Err: r.withStderr(err)}
			}
			return jpegFrame(r.path, bytes.Clone(data))
		}
	}
	return Frame{}, &Error{State: StateError, Op: "read replay frame", Device: r.path, Err: errors.New("file holds no frame")}
}

func (r *replay) ended() error {
	return &Error{State: StateEnded, Op: "replay", Device: r.path, Err: r.withStderr(io.EOF)}
}

func (r *replay) withStderr(err error) error {
	if msg := strings.TrimSpace(r.errb.String()); r.cmd != nil && msg != "" {
		return fmt.Errorf("%w (ffmpeg: %s)", err, msg)
	}
	return err
}

func (r *replay) Close() error {
	var err error
	if r.file != nil {
		err = r.file.Close()
	}
	if r.cmd != nil && r.cmd.Process != nil {
		r.stop()
		r.cmd.Wait() // killed on purpose: its exit status says nothing
	} else if r.stop != nil {
		r.stop()
	}
	return err
}

// jpegFrame checks a JPEG frame, completes its Huffman table if needed and
// reads its size.
func jpegFrame(name string, data []byte) (Frame, error) {
	data, _, err := EnsureHuffman(data)
	if err != nil {
		return Frame{}, fmt.Errorf("%s: %v: %w", name, err, ErrBadFrame)
	}
	c, err := jpeg.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return Frame{}, fmt.Errorf("%s: %v: %w", name, err, ErrBadFrame)
	}
	return Frame{Format: FormatMJPEG, Width: c.Width, Height: c.Height, Data: data}, nil
}

// pngFrame decodes a PNG frame to RGBA.
func pngFrame(name string, data []byte) (Frame, error) {
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return Frame{}, fmt.Errorf("%s: %v: %w", name, err, ErrBadFrame)
	}
	b := img.Bounds()
	rgba := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(rgba, rgba.Rect, img, b.Min, draw.Src)
	return Frame{Format: FormatRGBA, Width: b.Dx(), Height: b.Dy(), Data: rgba.Pix}, nil
}

// limitedWriter keeps the first n bytes written to it; it is safe for the
// concurrent use exec makes of a Stderr writer.
type limitedWriter struct {
	mu  sync.Mutex
	buf bytes.Buffer
	n   int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.n > 0 {
		k := min(len(p), l.n)
		l.buf.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}

func (l *limitedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
