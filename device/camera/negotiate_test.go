package camera

import (
	"errors"
	"testing"
)

// A typical UVC webcam: MJPEG at many sizes and 30/15 fps, YUYV small and slow at large sizes.
var uvcCaps = []FormatCaps{
	{Format: FormatYUYV, Sizes: []SizeCaps{
		{Size: Discrete(640, 480), Rates: []float64{30, 15}},
		{Size: Discrete(1280, 720), Rates: []float64{10, 5}},
	}},
	{Format: FormatMJPEG, Sizes: []SizeCaps{
		{Size: Discrete(320, 240), Rates: []float64{30}},
		{Size: Discrete(640, 480), Rates: []float64{30, 15}},
		{Size: Discrete(1280, 720), Rates: []float64{30}},
		{Size: Discrete(1920, 1080), Rates: []float64{30}},
	}},
}

func TestNegotiate(t *testing.T) {
	cfg := func(w, h int, fps float64, formats ...string) Config {
		c := DefaultConfig()
		c.Width, c.Height, c.FPS = w, h, fps
		if formats != nil {
			c.Formats = formats
		}
		return c
	}
	tests := []struct {
		name string
		caps []FormatCaps
		cfg  Config
		want Mode
	}{
		{"MJPEG preferred at default size", uvcCaps, cfg(640, 480, 15), Mode{FormatMJPEG, 640, 480, 15}},
		{"720p MJPEG, rate above wanted", uvcCaps, cfg(1280, 720, 15), Mode{FormatMJPEG, 1280, 720, 30}},
		{"YUYV only when configured first", uvcCaps, cfg(640, 480, 15, "YUYV", "MJPG"), Mode{FormatYUYV, 640, 480, 15}},
		{"YUYV 720p falls to highest rate below", uvcCaps, cfg(1280, 720, 15, "YUYV"), Mode{FormatYUYV, 1280, 720, 10}},
		{"YUYV fallback when no MJPEG", uvcCaps[:1], cfg(640, 480, 15), Mode{FormatYUYV, 640, 480, 15}},
		{"size not offered: smallest larger", []FormatCaps{{Format: FormatMJPEG, Sizes: []SizeCaps{
			{Size: Discrete(320, 240)}, {Size: Discrete(1920, 1080)}, {Size: Discrete(800, 600)}}}},
			cfg(640, 480, 15), Mode{FormatMJPEG, 800, 600, 15}},
		{"size not offered: same aspect beats area", []FormatCaps{{Format: FormatMJPEG, Sizes: []SizeCaps{
			{Size: Discrete(720, 720)}, {Size: Discrete(960, 720)}}}},
			cfg(640, 480, 15), Mode{FormatMJPEG, 960, 720, 15}},
		{"only smaller sizes: largest", []FormatCaps{{Format: FormatYUYV, Sizes: []SizeCaps{
			{Size: Discrete(160, 120)}, {Size: Discrete(320, 240)}}}},
			cfg(640, 480, 15), Mode{FormatYUYV, 320, 240, 15}},
		{"stepwise range holds the size", []FormatCaps{{Format: FormatYUYV, Sizes: []SizeCaps{
			{Size: SizeRange{MinWidth: 160, MaxWidth: 1280, StepWidth: 16, MinHeight: 120, MaxHeight: 720, StepHeight: 8}}}}},
			cfg(640, 480, 15), Mode{FormatYUYV, 640, 480, 15}},
		{"stepwise range snaps up to a step", []FormatCaps{{Format: FormatYUYV, Sizes: []SizeCaps{
			{Size: SizeRange{MinWidth: 100, MaxWidth: 1000, StepWidth: 100, MinHeight: 100, MaxHeight: 1000, StepHeight: 100}}}}},
			cfg(640, 480, 15), Mode{FormatYUYV, 700, 500, 15}},
		{"JPEG fourcc counts as MJPEG", []FormatCaps{{Format: FormatJPEG, Sizes: []SizeCaps{{Size: Discrete(640, 480), Rates: []float64{25}}}}},
			cfg(640, 480, 15), Mode{FormatJPEG, 640, 480, 25}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Negotiate(tt.caps, tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNegotiateNoFormat(t *testing.T) {
	caps := []FormatCaps{{Format: PixelFormat('H' | '2'<<8 | '6'<<16 | '4'<<24), Sizes: []SizeCaps{{Size: Discrete(640, 480)}}}}
	_, err := Negotiate(caps, DefaultConfig())
	if !errors.Is(err, ErrNoFormat) {
		t.Fatalf("err = %v, want ErrNoFormat", err)
	}
	if _, err := Negotiate(nil, DefaultConfig()); !errors.Is(err, ErrNoFormat) {
		t.Fatalf("no formats: err = %v, want ErrNoFormat", err)
	}
}

func TestPixelFormatString(t *testing.T) {
	for f, s := range map[PixelFormat]string{FormatMJPEG: "MJPG", FormatYUYV: "YUYV", FormatJPEG: "JPEG", 0: "????"} {
		if f.String() != s {
			t.Errorf("%#x: %q, want %q", uint32(f), f.String(), s)
		}
		if p, err := ParsePixelFormat(s); err != nil || (s != "????" && p != f) {
			t.Errorf("ParsePixelFormat(%q) = %v, %v", s, p, err)
		}
	}
}
