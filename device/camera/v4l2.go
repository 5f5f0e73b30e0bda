package camera

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/jpeg"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/blackjack/webcam"
)

// v4l2Device is the part of *webcam.Webcam the camera uses: the lowest
// boundary, faked in tests because no webcam exists on the build machine.
type v4l2Device interface {
	GetName() (string, error)
	GetSupportedFormats() map[webcam.PixelFormat]string
	GetSupportedFrameSizes(webcam.PixelFormat) []webcam.FrameSize
	GetSupportedFramerates(webcam.PixelFormat, uint32, uint32) []webcam.FrameRate
	SetImageFormat(webcam.PixelFormat, uint32, uint32) (webcam.PixelFormat, uint32, uint32, error)
	SetFramerate(float32) error
	SetBufferCount(uint32) error
	StartStreaming() error
	WaitForFrame(timeout uint32) error
	GetFrame() ([]byte, uint32, error)
	ReleaseFrame(uint32) error
	Close() error
}

// v4l2Backend opens devices and lists them; tests replace its functions.
type v4l2Backend struct {
	open   func(path string) (v4l2Device, error)
	list   func() ([]string, error) // device node paths
	exists func(path string) bool
	driver func(path string) string
}

func realBackend() v4l2Backend {
	return v4l2Backend{
		open: func(path string) (v4l2Device, error) {
			w, err := webcam.Open(path)
			if err != nil {
				return nil, err
			}
			return w, nil
		},
		list: func() ([]string, error) {
			paths, err := filepath.Glob("/dev/video*")
			if err != nil {
				return nil, fmt.Errorf("list video devices: %w", err)
			}
			slices.SortFunc(paths, func(a, b string) int { return videoIndex(a) - videoIndex(b) })
			return paths, nil
		},
		exists: func(path string) bool { _, err := os.Stat(path); return err == nil },
		driver: func(path string) string {
			l, err := os.Readlink(filepath.Join("/sys/class/video4linux", filepath.Base(path), "device/driver"))
			if err != nil {
				return ""
			}
			return filepath.Base(l)
		},
	}
}

func videoIndex(p string) int {
	n, err := strconv.Atoi(strings.TrimPrefix(filepath.Base(p), "video"))
	if err != nil {
		return 1 << 30
	}
	return n
}

// DeviceInfo describes one V4L2 device node.
type DeviceInfo struct {
	Path       string       `json:"path"`
	Name       string       `json:"name,omitempty"`
	Driver     string       `json:"driver,omitempty"`
	CanCapture bool         `json:"can_capture"`
	State      State        `json:"state"`           // ok, or why it cannot be used
	Error      string       `json:"error,omitempty"` // the underlying error
	Formats    []FormatCaps `json:"formats,omitempty"`
}

// ListDevices lists the /dev/video* nodes with their names, drivers and the
// formats, frame sizes and rates they can capture. Nodes that are not
// capture devices (UVC metadata nodes, for example) are listed with
// CanCapture false.
func ListDevices(ctx context.Context) ([]DeviceInfo, error) {
	return realBackend().listDevices(ctx)
}

func (b v4l2Backend) listDevices(ctx context.Context) ([]DeviceInfo, error) {
	paths, err := b.list()
	if err != nil {
		return nil, err
	}
	var out []DeviceInfo
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		d := DeviceInfo{Path: p, Driver: b.driver(p), State: StateOK}
		dev, err := b.open(p)
		if err != nil {
			d.State, d.Error = StateOf(err), err.Error()
			out = append(out, d)
			continue
		}
		d.CanCapture = true
		d.Name, _ = dev.GetName()
		d.Formats = capsOf(dev)
		dev.Close()
		out = append(out, d)
	}
	return out, nil
}

// capsOf enumerates the formats, sizes and rates of an open device, in a
// stable order.
func capsOf(dev v4l2Device) []FormatCaps {
	var caps []FormatCaps
	for pf, desc := range dev.GetSupportedFormats() {
		fc := FormatCaps{Format: PixelFormat(pf), Description: desc}
		for _, fs := range dev.GetSupportedFrameSizes(pf) {
			sc := SizeCaps{Size: SizeRange{
				MinWidth: int(fs.MinWidth), MaxWidth: int(fs.MaxWidth), StepWidth: int(fs.StepWidth),
				MinHeight: int(fs.MinHeight), MaxHeight: int(fs.MaxHeight), StepHeight: int(fs.StepHeight),
			}}
			for _, fr := range dev.GetSupportedFramerates(pf, fs.MaxWidth, fs.MaxHeight) {
				sc.Rates = append(sc.Rates, ratesOf(fr)...)
			}
			slices.Sort(sc.Rates)
			sc.Rates = slices.Compact(sc.Rates)
			fc.Sizes = append(fc.Sizes, sc)
		}
		caps = append(caps, fc)
	}
	slices.SortFunc(caps, func(a, b FormatCaps) int { return strings.Compare(a.Format.String(), b.Format.String()) })
	return caps
}

// ratesOf turns a frame interval (seconds per frame) into frame rates: one
// for a discrete interval, the two ends for a stepwise range.
func ratesOf(fr webcam.FrameRate) []float64 {
	fps := func(num, den uint32) float64 {
		if num == 0 {
			return 0
		}
		return float64(int(float64(den)/float64(num)*100+0.5)) / 100
	}
	if fr.StepNumerator == 0 && fr.StepDenominator == 0 {
		return []float64{fps(fr.MinNumerator, fr.MinDenominator)}
	}
	return []float64{fps(fr.MaxNumerator, fr.MinDenominator), fps(fr.MinNumerator, fr.MaxDenominator)}
}

// openSpec opens the device a spec names, or for "auto" the first device
// that can capture in an acceptable format.
func (b v4l2Backend) openSpec(ctx context.Context, sp Spec, cfg Config) (Source, error) {
	if sp.Kind == SpecDevice {
		return b.openDevice(sp.Path, cfg)
	}
	paths, err := b.list()
	if err != nil {
		return nil, &Error{State: StateError, Op: "discover", Device: "auto", Err: err}
	}
	var first error
	for _, p := range paths {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		src, err := b.openDevice(p, cfg)
		if err == nil {
			return src, nil
		}
		// Remember the most useful failure: a busy or unplugged camera says
		// more than a metadata node that cannot capture.
		if first == nil || (StateOf(first) == StateNotCapture && StateOf(err) != StateNotCapture) {
			first = err
		}
	}
	if first == nil {
		first = &Error{State: StateNoDevice, Op: "discover", Device: "auto", Err: errors.New("no /dev/video* device")}
	}
	return nil, first
}

// openDevice opens one device node, negotiates the mode and starts
// streaming.
func (b v4l2Backend) openDevice(path string, cfg Config) (src Source, err error) {
	fail := func(op string, err error) error {
		st := StateOf(err)
		if st == StateNoDevice && b.exists(path) {
			st = StateError
		}
		return &Error{State: st, Op: op, Device: path, Err: err}
	}
	dev, err := b.open(path)
	if err != nil {
		return nil, fail("open", err)
	}
	defer func() {
		if err != nil {
			dev.Close()
		}
	}()
	name, _ := dev.GetName()
	mode, err := Negotiate(capsOf(dev), cfg)
	if err != nil {
		return nil, &Error{State: StateUnsupported, Op: "negotiate", Device: path, Err: err}
	}
	// Note: webcam v0.6.1 returns the requested size, not the one the driver
	// set, so frames are measured as they arrive (see read).
	pf, _, _, err := dev.SetImageFormat(webcam.PixelFormat(mode.Format), uint32(mode.Width), uint32(mode.Height))
	if err != nil {
		return nil, fail("set format "+mode.String(), err)
	}
	if PixelFormat(pf) != mode.Format {
		return nil, &Error{State: StateUnsupported, Op: "set format", Device: path,
			Err: fmt.Errorf("driver chose %s instead of %s", PixelFormat(pf), mode.Format)}
	}
	if err := dev.SetFramerate(float32(mode.FPS)); err != nil {
		mode.FPS = 0 // the driver keeps its own rate; Stats.FPS shows it
	}
	if err := dev.SetBufferCount(4); err != nil {
		return nil, fail("set buffer count", err)
	}
	if err := dev.StartStreaming(); err != nil {
		return nil, fail("start streaming", err)
	}
	return &v4l2Source{b: b, dev: dev, path: path, info: SourceInfo{Device: path, Name: name, Mode: mode}, timeout: cfg.FrameTimeout}, nil
}

// v4l2Source streams from an open device.
type v4l2Source struct {
	b       v4l2Backend
	dev     v4l2Device
	path    string
	info    SourceInfo
	timeout time.Duration
}

func (s *v4l2Source) Info() SourceInfo { return s.info }

func (s *v4l2Source) Close() error {
	if err := s.dev.Close(); err != nil {
		return fmt.Errorf("close %s: %w", s.path, err)
	}
	return nil
}

// Read waits for a frame in slices of one second (the poll granularity of
// webcam v0.6.1) so that ctx is honoured, copies it out of the driver's
// buffer and gives the buffer back at once.
func (s *v4l2Source) Read(ctx context.Context) (Frame, error) {
	deadline := time.Now().Add(s.timeout)
	for {
		if err := ctx.Err(); err != nil {
			return Frame{}, err
		}
		err := s.dev.WaitForFrame(1)
		var to *webcam.Timeout
		if errors.As(err, &to) {
			if time.Now().After(deadline) {
				return Frame{}, &Error{State: StateStalled, Op: "wait for frame", Device: s.path, Err: ErrTimeout}
			}
			continue
		}
		if err != nil {
			return Frame{}, s.fail("wait for frame", err)
		}
		buf, idx, err := s.dev.GetFrame()
		if errors.Is(err, syscall.EAGAIN) {
			continue
		}
		if err != nil {
			return Frame{}, s.fail("dequeue frame", err)
		}
		f, ferr := s.frame(buf)
		if err := s.dev.ReleaseFrame(idx); err != nil {
			return Frame{}, s.fail("release frame", err)
		}
		if ferr != nil {
			return Frame{}, ferr
		}
		return f, nil
	}
}

// fail classifies a read error; a device node that has vanished means the
// camera was unplugged whatever errno the driver chose.
func (s *v4l2Source) fail(op string, err error) error {
	st := StateOf(err)
	if !s.b.exists(s.path) {
		st = StateDisconnected
	}
	return &Error{State: st, Op: op, Device: s.path, Err: err}
}

// frame copies a driver buffer into a Frame, completing MJPEG frames with
// the standard Huffman table when the camera left it out.
func (s *v4l2Source) frame(buf []byte) (Frame, error) {
	m := s.info.Mode
	f := Frame{Format: m.Format, Width: m.Width, Height: m.Height}
	if len(buf) == 0 {
		return Frame{}, fmt.Errorf("%s: empty buffer: %w", s.path, ErrBadFrame)
	}
	if m.Format.isJPEG() {
		data, inserted, err := EnsureHuffman(buf)
		if err != nil {
			return Frame{}, fmt.Errorf("%s: %v: %w", s.path, err, ErrBadFrame)
		}
		if !inserted {
			data = bytes.Clone(buf)
		}
		jc, err := jpeg.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			return Frame{}, fmt.Errorf("%s: %v: %w", s.path, err, ErrBadFrame)
		}
		f.Format, f.Width, f.Height, f.Data = FormatMJPEG, jc.Width, jc.Height, data
		return f, nil
	}
	if len(buf) < m.Width*m.Height*2 {
		return Frame{}, fmt.Errorf("%s: YUYV buffer of %d bytes is short for %dx%d: %w", s.path, len(buf), m.Width, m.Height, ErrBadFrame)
	}
	f.Data = bytes.Clone(buf[:m.Width*m.Height*2])
	return f, nil
}
