package face

import (
	"context"
	"errors"
	"image"
	"image/color"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func clipFrame(t testing.TB, n int) image.Image {
	t.Helper()
	return readImage(t, filepath.Join(facesDir(t), "live", "cap13_blink_turn", "frames", frameName(n)))
}

func frameName(n int) string {
	s := "000000" + itoa(n)
	return s[len(s)-6:] + ".jpg"
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// edit returns a copy of img with f applied to each pixel.
func edit(img image.Image, f func(x, y int, c color.RGBA) color.RGBA) image.Image {
	b := img.Bounds()
	out := image.NewRGBA(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bb, _ := img.At(x, y).RGBA()
			out.SetRGBA(x, y, f(x, y, color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(bb >> 8), 255}))
		}
	}
	return out
}

func boxBlur(img image.Image, r int) image.Image {
	px := toRGB(img)
	out := &rgbImage{W: px.W, H: px.H, Pix: make([]byte, len(px.Pix))}
	for y := range px.H {
		for x := range px.W {
			var s [3]int
			n := 0
			for dy := -r; dy <= r; dy++ {
				for dx := -r; dx <= r; dx++ {
					cr, cg, cb := px.at(x+dx, y+dy)
					s[0], s[1], s[2] = s[0]+int(cr), s[1]+int(cg), s[2]+int(cb)
					n++
				}
			}
			o := 3 * (y*px.W + x)
			out.Pix[o], out.Pix[o+1], out.Pix[o+2] = byte(s[0]/n), byte(s[1]/n), byte(s[2]/n)
		}
	}
	return out.toImage()
}

// TestGuidanceCodes checks each hint on real frames of the cap13 clip and
// on edits of them (darkened, blurred, shifted, covered, doubled).
func TestGuidanceCodes(t *testing.T) {
	e := testEngine(t)
	frontal := clipFrame(t, 100)
	g0, err := e.Analyze(frontal)
	if err != nil || g0.Face == nil {
		t.Fatalf("no face on the frontal frame: %v", err)
	}
	fr := g0.Face.Rect
	tests := []struct {
		name  string
		frame image.Image
		want  Code
		not   bool // the code must be absent
	}{
		{"frontal has a face", frontal, CodeNoFace, true},
		{"frontal not turned", frontal, CodeHeadTurned, true},
		{"frontal eyes open", frontal, CodeEyesClosed, true},
		{"frontal mouth closed", frontal, CodeMouthOpen, true},
		{"frontal lit", frontal, CodeTooDark, true},
		{"frontal sharp enough", frontal, CodeBlurry, true},
		{"frontal not covered", frontal, CodeOccluded, true},
		{"frontal alone", frontal, CodeMultipleFaces, true},
		{"mouth open", clipFrame(t, 45), CodeMouthOpen, false},
		{"turned", clipFrame(t, 112), CodeHeadTurned, false},
		{"blank", image.NewGray(image.Rect(0, 0, 640, 480)), CodeNoFace, false},
		{"dark", edit(frontal, func(_, _ int, c color.RGBA) color.RGBA {
			return color.RGBA{c.R / 4, c.G / 4, c.B / 4, 255}
		}), CodeTooDark, false},
		{"bright", edit(frontal, func(_, _ int, c color.RGBA) color.RGBA {
			f := func(v uint8) uint8 { return uint8(min(255, int(v)*3)) }
			return color.RGBA{f(c.R), f(c.G), f(c.B), 255}
		}), CodeTooBright, false},
		{"side light", edit(frontal, func(x, _ int, c color.RGBA) color.RGBA {
			if x < (fr.Min.X+fr.Max.X)/2 {
				return color.RGBA{c.R / 3, c.G / 3, c.B / 3, 255}
			}
			return c
		}), CodeUnevenLight, false},
		{"blurred", boxBlur(frontal, 4), CodeBlurry, false},
		{"off centre", shift(frontal, 200, 0), CodeOffCenter, false},
		{"mask", edit(frontal, func(x, y int, c color.RGBA) color.RGBA {
			p := g0.Face.Landmarks
			if x > p[4].X && x < p[12].X && y > p[33].Y+4 && y < p[8].Y+10 {
				return color.RGBA{90, 140, 210, 255} // a blue surgical mask
			}
			return c
		}), CodeOccluded, false},
		{"two people", twoUp(frontal), CodeMultipleFaces, false},
		{"greyscale input", toGray(frontal), CodeNoFace, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, err := e.Analyze(tc.frame)
			if err != nil {
				t.Fatal(err)
			}
			if g.Has(tc.want) == tc.not {
				m := Measures{}
				if g.Face != nil {
					m = g.Face.Measures
				}
				t.Errorf("problems %v (measures %+v); want %s %s", codesOf(g.Problems), m, map[bool]string{true: "absent", false: "present"}[tc.not], tc.want)
			}
		})
	}
}

func shift(img image.Image, dx, dy int) image.Image {
	px := toRGB(img)
	return px.resample(float64(-dx), float64(-dy), 1, px.W, px.H).toImage()
}

// twoUp puts two half-size copies of img side by side.
func twoUp(img image.Image) image.Image {
	px := toRGB(img)
	half := px.resample(0, 0, 1.6, px.W*5/8, px.H*5/8)
	out := &rgbImage{W: px.W, H: px.H, Pix: make([]byte, len(px.Pix))}
	for y := range half.H {
		for x := range half.W {
			r, g, b := half.at(x, y)
			for _, ox := range []int{-80, px.W/2 - 80} {
				if xx := x + ox; xx >= 0 && xx < out.W && x > 120 {
					o := 3 * ((y+80)*out.W + xx)
					out.Pix[o], out.Pix[o+1], out.Pix[o+2] = r, g, b
				}
			}
		}
	}
	return out.toImage()
}

func toGray(img image.Image) image.Image {
	b := img.Bounds()
	g := image.NewGray(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			g.Set(x, y, img.At(x, y))
		}
	}
	return g
}

func TestEngineConcurrentAndClose(t *testing.T) {
	cfg := testConfig(t)
	e, err := NewEngine(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	frame := clipFrame(t, 100)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 3 {
				g, err := e.Analyze(frame)
				if err == nil && g.Face == nil {
					err = errors.New("no face")
				}
				if err == nil {
					_, err = e.DescribeFrame(context.Background(), frame, g)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := e.Analyze(frame); !errors.Is(err, ErrClosed) {
		t.Errorf("Analyze after Close: %v, want ErrClosed", err)
	}
	if _, err := e.ValidatePhoto([]byte{1}, cfg.Photo); !errors.Is(err, ErrClosed) {
		t.Errorf("ValidatePhoto after Close: %v, want ErrClosed", err)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"default", func(*Config) {}, ""},
		{"no models dir", func(c *Config) { c.ModelsDir = "" }, "face.models_dir"},
		{"model path", func(c *Config) { c.LandmarkModel = "../x.dat" }, "face.landmark_model"},
		{"no threshold for model", func(c *Config) { c.RecognitionModel, c.RecognitionKind = "other.dat", KindDlib }, "face.thresholds"},
		{"threshold out of range", func(c *Config) { c.Thresholds = map[string]float64{StockRecognitionModel: 3} }, "face.thresholds." + StockRecognitionModel},
		{"fuse", func(c *Config) { c.FuseFrames = 0 }, "face.fuse_frames"},
		{"detect width", func(c *Config) { c.DetectWidth = 50 }, "face.detect_width"},
		{"live yaw", func(c *Config) { c.Live.MaxYaw = 0 }, "face.live.max_yaw"},
		{"photo size", func(c *Config) { c.Photo.MinBytes = -1 }, "face.photo.min_bytes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.mod(&c)
			err := c.Validate()
			if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("Validate() = %v, want error naming %q", err, tc.want)
			}
		})
	}
}

func TestNewEngineErrors(t *testing.T) {
	cfg := testConfig(t)
	cfg.ModelsDir = t.TempDir()
	if _, err := NewEngine(cfg, nil); err == nil || !strings.Contains(err.Error(), "face model") {
		t.Errorf("NewEngine on an empty dir: %v", err)
	}
}

// TestSwappedModelName: a recognition model under another file name is
// loaded through the link directory and needs its own threshold.
func TestSwappedModelName(t *testing.T) {
	cfg := testConfig(t)
	dir := t.TempDir()
	for _, n := range []string{cfg.LandmarkModel, cfg.AlignModel, cfg.CNNDetectorModel, cfg.Photo.SegmentationModel, EyeModel} {
		if err := symlink(filepath.Join(cfg.ModelsDir, n), filepath.Join(dir, n)); err != nil {
			t.Fatal(err)
		}
	}
	if err := symlink(filepath.Join(cfg.ModelsDir, StockRecognitionModel), filepath.Join(dir, "my_model.dat")); err != nil {
		t.Fatal(err)
	}
	cfg.ModelsDir, cfg.RecognitionModel, cfg.RecognitionKind = dir, "my_model.dat", KindDlib
	cfg.Thresholds = map[string]float64{"my_model.dat": 0.42}
	e, err := NewEngine(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if e.Threshold() != 0.42 {
		t.Errorf("threshold %v, want 0.42", e.Threshold())
	}
}
