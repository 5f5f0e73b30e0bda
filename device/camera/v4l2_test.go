package camera

import (
	"bytes"
	"context"
	"errors"
	"image/jpeg"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/blackjack/webcam"
)

// fakeDevice stands in for *webcam.Webcam: the lowest boundary, below which
// only ioctls on a real /dev/video node remain.
type fakeDevice struct {
	mu        sync.Mutex
	hw        *fakeHW
	name      string
	formats   map[webcam.PixelFormat]string
	sizes     map[webcam.PixelFormat][]webcam.FrameSize
	rates     []webcam.FrameRate
	setFmt    webcam.PixelFormat
	setW      uint32
	setH      uint32
	setFPS    float32
	bufs      uint32
	streaming bool
	frame     []byte
	held      bool // a buffer is dequeued and not yet released
	closed    bool
	gen       int
}

// fakeHW is the machine: which device nodes exist and how they behave.
type fakeHW struct {
	mu       sync.Mutex
	nodes    map[string]*fakeDevice // template per path
	gen      int                    // bumps at unplug
	busy     bool
	openErrs map[string]error
	opened   []*fakeDevice
}

func (hw *fakeHW) backend() v4l2Backend {
	return v4l2Backend{
		open: func(path string) (v4l2Device, error) {
			hw.mu.Lock()
			defer hw.mu.Unlock()
			if err := hw.openErrs[path]; err != nil {
				return nil, err
			}
			tpl, ok := hw.nodes[path]
			if !ok {
				return nil, syscall.ENOENT
			}
			d := &fakeDevice{hw: hw, name: tpl.name, formats: tpl.formats, sizes: tpl.sizes, rates: tpl.rates, frame: tpl.frame, gen: hw.gen}
			hw.opened = append(hw.opened, d)
			return d, nil
		},
		list: func() ([]string, error) {
			hw.mu.Lock()
			defer hw.mu.Unlock()
			var out []string
			for _, p := range []string{"/dev/video0", "/dev/video1", "/dev/video2"} {
				if _, ok := hw.nodes[p]; ok {
					out = append(out, p)
				} else if _, ok := hw.openErrs[p]; ok {
					out = append(out, p)
				}
			}
			return out, nil
		},
		exists: func(path string) bool {
			hw.mu.Lock()
			defer hw.mu.Unlock()
			_, ok := hw.nodes[path]
			return ok
		},
		driver: func(string) string { return "uvcvideo" },
	}
}

func (hw *fakeHW) unplug(path string) (tpl *fakeDevice) {
	hw.mu.Lock()
	defer hw.mu.Unlock()
	tpl = hw.nodes[path]
	delete(hw.nodes, path)
	hw.gen++
	return tpl
}

func (hw *fakeHW) plug(path string, d *fakeDevice) {
	hw.mu.Lock()
	defer hw.mu.Unlock()
	hw.nodes[path] = d
}

func (d *fakeDevice) unplugged() bool {
	d.hw.mu.Lock()
	defer d.hw.mu.Unlock()
	return d.hw.gen != d.gen
}

func (d *fakeDevice) GetName() (string, error)                           { return d.name, nil }
func (d *fakeDevice) GetSupportedFormats() map[webcam.PixelFormat]string { return d.formats }
func (d *fakeDevice) GetSupportedFrameSizes(f webcam.PixelFormat) []webcam.FrameSize {
	return d.sizes[f]
}
func (d *fakeDevice) GetSupportedFramerates(webcam.PixelFormat, uint32, uint32) []webcam.FrameRate {
	return d.rates
}
func (d *fakeDevice) SetImageFormat(f webcam.PixelFormat, w, h uint32) (webcam.PixelFormat, uint32, uint32, error) {
	d.hw.mu.Lock()
	busy := d.hw.busy
	d.hw.mu.Unlock()
	if busy {
		return 0, 0, 0, syscall.EBUSY
	}
	d.setFmt, d.setW, d.setH = f, w, h
	return f, w, h, nil
}
func (d *fakeDevice) SetFramerate(fps float32) error { d.setFPS = fps; return nil }
func (d *fakeDevice) SetBufferCount(n uint32) error  { d.bufs = n; return nil }
func (d *fakeDevice) StartStreaming() error          { d.streaming = true; return nil }
func (d *fakeDevice) WaitForFrame(timeout uint32) error {
	if d.unplugged() {
		return nil // poll reports POLLERR at once
	}
	if d.frame == nil {
		time.Sleep(time.Duration(timeout) * time.Second)
		return new(webcam.Timeout)
	}
	time.Sleep(5 * time.Millisecond)
	return nil
}
func (d *fakeDevice) GetFrame() ([]byte, uint32, error) {
	if d.unplugged() {
		return nil, 0, syscall.ENODEV
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.held {
		return nil, 0, errors.New("fake: buffer dequeued twice without release")
	}
	d.held = true
	return d.frame, 3, nil
}
func (d *fakeDevice) ReleaseFrame(idx uint32) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if idx != 3 || !d.held {
		return errors.New("fake: release of a buffer not held")
	}
	d.held = false
	return nil
}
func (d *fakeDevice) Close() error { d.closed = true; return nil }

func uvcDevice(t testing.TB, frame []byte) *fakeDevice {
	return &fakeDevice{
		name:    "USB2.0 HD UVC WebCam",
		formats: map[webcam.PixelFormat]string{webcam.PixelFormat(FormatYUYV): "YUYV 4:2:2", webcam.PixelFormat(FormatMJPEG): "Motion-JPEG"},
		sizes: map[webcam.PixelFormat][]webcam.FrameSize{
			webcam.PixelFormat(FormatMJPEG): {{MinWidth: 1280, MaxWidth: 1280, MinHeight: 720, MaxHeight: 720}, {MinWidth: 640, MaxWidth: 640, MinHeight: 480, MaxHeight: 480}},
			webcam.PixelFormat(FormatYUYV):  {{MinWidth: 640, MaxWidth: 640, MinHeight: 480, MaxHeight: 480}},
		},
		rates: []webcam.FrameRate{{MinNumerator: 1, MinDenominator: 30}, {MinNumerator: 1, MinDenominator: 15}},
		frame: frame,
	}
}

func TestV4L2OpenNegotiatesAndCopiesFrames(t *testing.T) {
	bare := stripDHT(t, encodeJPEG(t, testImage(64, 48, 0)))
	hw := &fakeHW{nodes: map[string]*fakeDevice{"/dev/video0": uvcDevice(t, bare)}}
	cfg := testConfig()
	src, err := hw.backend().openSpec(context.Background(), Spec{Kind: SpecAuto}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	dev := hw.opened[0]
	if PixelFormat(dev.setFmt) != FormatMJPEG || dev.setW != 640 || dev.setH != 480 || dev.setFPS != 15 || dev.bufs != 4 || !dev.streaming {
		t.Errorf("device set to %s %dx%d @%g, %d buffers, streaming %v", PixelFormat(dev.setFmt), dev.setW, dev.setH, dev.setFPS, dev.bufs, dev.streaming)
	}
	info := src.Info()
	if info.Name != "USB2.0 HD UVC WebCam" || info.Mode != (Mode{FormatMJPEG, 640, 480, 15}) {
		t.Errorf("info %+v", info)
	}
	f, err := src.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// The driver buffer is reused after release: the frame must be a copy,
	// completed with the Huffman table and measured from its header.
	if &f.Data[0] == &bare[0] {
		t.Error("frame aliases the driver buffer")
	}
	if _, err := jpeg.Decode(bytes.NewReader(f.Data)); err != nil {
		t.Errorf("frame does not decode: %v", err)
	}
	if f.Width != 64 || f.Height != 48 {
		t.Errorf("frame size %dx%d, want the JPEG's 64x48", f.Width, f.Height)
	}
	if _, err := src.Read(context.Background()); err != nil {
		t.Errorf("second read (buffer released?): %v", err)
	}
	src.Close()
	if !dev.closed {
		t.Error("device not closed")
	}
}

func TestV4L2YUYVFrames(t *testing.T) {
	yuyv := make([]byte, 640*480*2)
	for i := 0; i < len(yuyv); i += 4 {
		yuyv[i], yuyv[i+1], yuyv[i+2], yuyv[i+3] = 81, 90, 81, 240 // red
	}
	d := uvcDevice(t, yuyv)
	delete(d.formats, webcam.PixelFormat(FormatMJPEG))
	hw := &fakeHW{nodes: map[string]*fakeDevice{"/dev/video0": d}}
	src, err := hw.backend().openSpec(context.Background(), Spec{Kind: SpecDevice, Path: "/dev/video0"}, testConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	f, err := src.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	img, err := f.Image()
	if err != nil {
		t.Fatal(err)
	}
	r, g, b, _ := img.At(320, 240).RGBA()
	if r>>8 != 255 || g>>8 != 0 || b>>8 != 0 {
		t.Errorf("centre pixel %d,%d,%d, want red", r>>8, g>>8, b>>8)
	}
	hw.opened[0].frame = yuyv[:1000] // short buffer: one bad frame, not a failure
	if _, err := src.Read(context.Background()); !errors.Is(err, ErrBadFrame) {
		t.Errorf("short YUYV buffer: %v, want ErrBadFrame", err)
	}
}

func TestV4L2OpenFailures(t *testing.T) {
	jpg := encodeJPEG(t, testImage(8, 8, 0))
	noFormats := uvcDevice(t, jpg)
	noFormats.formats = map[webcam.PixelFormat]string{0x34363248: "H.264"}
	tests := []struct {
		name string
		hw   *fakeHW
		spec Spec
		want State
	}{
		{"no devices", &fakeHW{nodes: map[string]*fakeDevice{}}, Spec{Kind: SpecAuto}, StateNoDevice},
		{"named device absent", &fakeHW{nodes: map[string]*fakeDevice{}}, Spec{Kind: SpecDevice, Path: "/dev/video0"}, StateNoDevice},
		{"busy", &fakeHW{nodes: map[string]*fakeDevice{"/dev/video0": uvcDevice(t, jpg)}, busy: true}, Spec{Kind: SpecAuto}, StateBusy},
		{"metadata node only", &fakeHW{nodes: map[string]*fakeDevice{}, openErrs: map[string]error{"/dev/video1": errors.New("Not a video capture device")}}, Spec{Kind: SpecAuto}, StateNotCapture},
		{"permission", &fakeHW{nodes: map[string]*fakeDevice{}, openErrs: map[string]error{"/dev/video0": syscall.EACCES}}, Spec{Kind: SpecDevice, Path: "/dev/video0"}, StateNoPermission},
		{"no usable format", &fakeHW{nodes: map[string]*fakeDevice{"/dev/video0": noFormats}}, Spec{Kind: SpecAuto}, StateUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.hw.backend().openSpec(context.Background(), tt.spec, testConfig())
			if got := StateOf(err); got != tt.want {
				t.Errorf("state %s (%v), want %s", got, err, tt.want)
			}
			for _, d := range tt.hw.opened {
				if !d.closed {
					t.Error("device left open after a failed open")
				}
			}
		})
	}
}

// Auto skips a metadata node and a busy camera's error beats it.
func TestV4L2AutoPicksFirstCapableDevice(t *testing.T) {
	jpg := encodeJPEG(t, testImage(8, 8, 0))
	hw := &fakeHW{
		nodes:    map[string]*fakeDevice{"/dev/video2": uvcDevice(t, jpg)},
		openErrs: map[string]error{"/dev/video0": errors.New("Not a video capture device"), "/dev/video1": errors.New("Not a video capture device")},
	}
	src, err := hw.backend().openSpec(context.Background(), Spec{Kind: SpecAuto}, testConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if src.Info().Device != "/dev/video2" {
		t.Errorf("picked %s", src.Info().Device)
	}
}

func TestV4L2StallTimesOut(t *testing.T) {
	d := uvcDevice(t, nil) // streams but never delivers
	hw := &fakeHW{nodes: map[string]*fakeDevice{"/dev/video0": d}}
	cfg := testConfig()
	cfg.FrameTimeout = 500 * time.Millisecond
	src, err := hw.backend().openSpec(context.Background(), Spec{Kind: SpecAuto}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	start := time.Now()
	_, err = src.Read(context.Background())
	if StateOf(err) != StateStalled || !errors.Is(err, ErrTimeout) {
		t.Errorf("read from a silent device: %v", err)
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("timeout took %v", el)
	}
}

// Unplug and replug through the whole camera over the fake device.
func TestV4L2CameraUnplugReplug(t *testing.T) {
	jpg := encodeJPEG(t, testImage(64, 48, 0))
	hw := &fakeHW{nodes: map[string]*fakeDevice{"/dev/video0": uvcDevice(t, jpg)}}
	b := hw.backend()
	cfg := testConfig()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cam := New(ctx, func(ctx context.Context) (Source, error) { return b.openSpec(ctx, Spec{Kind: SpecAuto}, cfg) }, "auto", cfg)
	defer cam.Close()
	st := cam.Watch(ctx)
	waitState(t, st, StateOK)
	tpl := hw.unplug("/dev/video0")
	waitState(t, st, StateDisconnected)
	time.Sleep(150 * time.Millisecond) // several reopen attempts find nothing
	if cam.Status().State != StateDisconnected {
		t.Errorf("state while unplugged: %s", cam.Status().State)
	}
	hw.plug("/dev/video0", tpl)
	waitState(t, st, StateOK)
	k := cam.NewConsumer("a")
	if _, err := k.Next(ctx); err != nil {
		t.Fatal(err)
	}
	for _, d := range hw.opened[:len(hw.opened)-1] {
		if !d.closed {
			t.Error("a device handle from before the unplug was not closed")
		}
	}
}

func TestListDevices(t *testing.T) {
	jpg := encodeJPEG(t, testImage(8, 8, 0))
	hw := &fakeHW{
		nodes:    map[string]*fakeDevice{"/dev/video0": uvcDevice(t, jpg)},
		openErrs: map[string]error{"/dev/video1": errors.New("Not a video capture device")},
	}
	devs, err := hw.backend().listDevices(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(devs) != 2 {
		t.Fatalf("%d devices: %+v", len(devs), devs)
	}
	d := devs[0]
	if !d.CanCapture || d.Name != "USB2.0 HD UVC WebCam" || d.Driver != "uvcvideo" || len(d.Formats) != 2 {
		t.Errorf("video0: %+v", d)
	}
	if d.Formats[0].Format != FormatMJPEG || len(d.Formats[0].Sizes) != 2 || len(d.Formats[0].Sizes[0].Rates) != 2 || d.Formats[0].Sizes[0].Rates[1] != 30 {
		t.Errorf("video0 formats: %+v", d.Formats)
	}
	if devs[1].CanCapture || devs[1].State != StateNotCapture {
		t.Errorf("video1: %+v", devs[1])
	}
	// The real machine has no camera: the real listing must still work.
	if _, err := ListDevices(context.Background()); err != nil {
		t.Errorf("ListDevices on this machine: %v", err)
	}
}

func TestRatesOf(t *testing.T) {
	tests := []struct {
		fr   webcam.FrameRate
		want []float64
	}{
		{webcam.FrameRate{MinNumerator: 1, MinDenominator: 30}, []float64{30}},
		{webcam.FrameRate{MinNumerator: 1001, MinDenominator: 30000}, []float64{29.97}},
		{webcam.FrameRate{MinNumerator: 1, MaxNumerator: 1, StepNumerator: 1, MinDenominator: 5, MaxDenominator: 30, StepDenominator: 1}, []float64{5, 30}},
	}
	for _, tt := range tests {
		got := ratesOf(tt.fr)
		if len(got) != len(tt.want) {
			t.Errorf("%v: %v, want %v", tt.fr, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("%v: %v, want %v", tt.fr, got, tt.want)
			}
		}
	}
}
