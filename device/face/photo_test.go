package face

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

// TestRefusedPhotos: every fixture photo that must be refused is refused
// with the code its folder names.
func TestRefusedPhotos(t *testing.T) {
	dir := filepath.Join(facesDir(t), "idphoto")
	e := testEngine(t)
	tests := []struct {
		folder string
		want   []Code // any of these
	}{
		{"multiple-faces", []Code{CodeMultipleFaces}},
		{"no-face", []Code{CodeNoFace}},
		{"dark", []Code{CodeTooDark}},
		{"turned", []Code{CodeHeadTurned}},
		// corrupt/ holds an empty file, a truncated JPEG (both corrupt) and
		// a photo whose face is cut by the image edge (face_incomplete).
		{"corrupt", []Code{CodeCorrupt, CodeFaceIncomplete}},
		{"wrong-background", []Code{CodeBackground}},
	}
	for _, tc := range tests {
		files, err := filepath.Glob(filepath.Join(dir, tc.folder, "*"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no fixtures in %s", tc.folder)
		}
		for _, f := range files {
			t.Run(tc.folder+"/"+filepath.Base(f), func(t *testing.T) {
				data, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				r, err := e.ValidatePhoto(data, e.Config().Photo)
				if err != nil {
					t.Fatal(err)
				}
				if r.OK {
					t.Fatalf("accepted: %+v", r)
				}
				found := false
				for _, c := range tc.want {
					found = found || r.Has(c)
				}
				if !found {
					t.Errorf("problems %v, want one of %v", codesOf(r.Problems), tc.want)
				}
			})
		}
	}
}

func codesOf(ps []Problem) []Code {
	var c []Code
	for _, p := range ps {
		c = append(c, p.Code)
	}
	return c
}

// TestMakeIDPhotoFromPortraits: each portrait is made to spec and the made
// photo passes the same validation from its bytes.
func TestMakeIDPhotoFromPortraits(t *testing.T) {
	e := testEngine(t)
	spec := e.Config().Photo
	eachMadePortrait(t, e, spec, func(t *testing.T, f string, jpg []byte, made PhotoReport) {
		if !made.OK {
			t.Errorf("made photo not OK: %v", codesOf(made.Problems))
		}
		cfg, format, err := image.DecodeConfig(bytes.NewReader(jpg))
		if err != nil || format != "jpeg" || cfg.Width != spec.Width || cfg.Height != spec.Height {
			t.Errorf("made %s %dx%d (%v), want jpeg %dx%d", format, cfg.Width, cfg.Height, err, spec.Width, spec.Height)
		}
		if len(jpg) < spec.MinBytes || len(jpg) > spec.MaxBytes {
			t.Errorf("made %d bytes, want %d..%d", len(jpg), spec.MinBytes, spec.MaxBytes)
		}
		again, err := e.ValidatePhoto(jpg, spec)
		if err != nil || !again.OK {
			t.Errorf("made photo fails validation: %v %v", codesOf(again.Problems), err)
		}
		if again.Background != BackgroundWhite {
			t.Errorf("background %q, want white", again.Background)
		}
		// The original is not to spec (size, aspect, framing).
		orig, _ := os.ReadFile(f)
		if r, _ := e.ValidatePhoto(orig, spec); r.OK {
			t.Errorf("the unprocessed portrait passed; the test would prove nothing")
		}
	})
}

// eachMadePortrait makes an ID photo to spec from each portrait of
// idphoto/portrait and runs check on it in a subtest.
func eachMadePortrait(t *testing.T, e *Engine, spec PhotoSpec, check func(t *testing.T, f string, jpg []byte, made PhotoReport)) {
	files, _ := filepath.Glob(filepath.Join(facesDir(t), "idphoto", "portrait", "*"))
	if len(files) == 0 {
		t.Fatal("no portraits")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			jpg, made, err := e.MakeIDPhoto(context.Background(), readImage(t, f), spec)
			if err != nil {
				t.Fatal(err)
			}
			check(t, f, jpg, made)
		})
	}
}

// TestMakeIDPhotoBytesWithinLimits: the quality search honours a tight
// maximum size.
func TestMakeIDPhotoBytesWithinLimits(t *testing.T) {
	e := testEngine(t)
	spec := e.Config().Photo
	spec.MaxBytes = spec.MinBytes + 12*1024
	f := filepath.Join(facesDir(t), "idphoto", "portrait", "deepface_img11.jpg")
	jpg, _, err := e.MakeIDPhoto(context.Background(), readImage(t, f), spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(jpg) < spec.MinBytes || len(jpg) > spec.MaxBytes {
		t.Errorf("%d bytes, want %d..%d", len(jpg), spec.MinBytes, spec.MaxBytes)
	}
}

// TestBadImagesNeverPanic: empty, truncated, non-image and absurd inputs
// give an error (DecodeImage) or a corrupt problem (ValidatePhoto).
func TestBadImagesNeverPanic(t *testing.T) {
	e := testEngine(t)
	var good bytes.Buffer
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	if err := jpeg.Encode(&good, img, nil); err != nil {
		t.Fatal(err)
	}
	// A PNG header claiming 100000×100000 pixels.
	var huge bytes.Buffer
	_ = png.Encode(&huge, image.NewGray(image.Rect(0, 0, 1, 1)))
	hb := huge.Bytes()
	copy(hb[16:24], []byte{0, 1, 0x86, 0xa0, 0, 1, 0x86, 0xa0})
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"one byte", []byte{0xff}},
		{"text", []byte("hello, this is not an image")},
		{"truncated jpeg", good.Bytes()[:len(good.Bytes())/2]},
		{"jpeg header only", good.Bytes()[:20]},
		{"huge png header", hb},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := DecodeImage(tc.data); err == nil {
				t.Errorf("DecodeImage succeeded")
			}
			r, err := e.ValidatePhoto(tc.data, e.Config().Photo)
			if err != nil {
				t.Fatal(err)
			}
			if r.OK || !r.Has(CodeCorrupt) {
				t.Errorf("problems %v, want corrupt", codesOf(r.Problems))
			}
		})
	}
}

func TestBackgroundColours(t *testing.T) {
	tests := []struct {
		r, g, b float64
		want    string
	}{
		{255, 255, 255, BackgroundWhite},
		{232, 234, 236, BackgroundWhite},
		{200, 30, 40, BackgroundRed},
		{67, 142, 219, BackgroundBlue},
		{20, 60, 160, BackgroundBlue},
		{150, 150, 150, "grey"},
		{20, 20, 20, "black"},
		{60, 160, 60, "other"},
	}
	for _, tc := range tests {
		if got := colourName(tc.r, tc.g, tc.b); got != tc.want {
			t.Errorf("colourName(%v,%v,%v) = %s, want %s", tc.r, tc.g, tc.b, got, tc.want)
		}
	}
}

func TestPhotoSpecValidate(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*PhotoSpec)
		want string
	}{
		{"default", func(*PhotoSpec) {}, ""},
		{"too small", func(s *PhotoSpec) { s.Width, s.Height = 250, 350 }, "face.photo.width/height"},
		{"not 5:7", func(s *PhotoSpec) { s.Width, s.Height = 400, 504 }, "5:7"},
		{"max below min", func(s *PhotoSpec) { s.MaxBytes = s.MinBytes }, "face.photo.max_bytes"},
		{"green", func(s *PhotoSpec) { s.Backgrounds = []string{"green"} }, "face.photo.backgrounds"},
		{"yaw", func(s *PhotoSpec) { s.Face.MaxYaw = 0 }, "face.photo.face.max_yaw"},
		{"make on green", func(s *PhotoSpec) { s.MakeBackground = "green" }, "face.photo.make_background"},
		{"make on red, not allowed", func(s *PhotoSpec) { s.Backgrounds, s.MakeBackground = []string{"white"}, "red" }, "face.photo.make_background"},
		{"make without model", func(s *PhotoSpec) { s.SegmentationModel = "" }, "face.photo.segmentation_model"},
		{"keep the room", func(s *PhotoSpec) { s.MakeBackground, s.SegmentationModel = "", "" }, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := DefaultPhotoSpec()
			tc.mod(&s)
			err := s.Validate()
			if (err == nil) != (tc.want == "") || (err != nil && !containsStr(err.Error(), tc.want)) {
				t.Errorf("Validate() = %v, want error naming %q", err, tc.want)
			}
		})
	}
}

// FuzzValidatePhoto feeds arbitrary bytes to photo validation: it must
// never panic and must refuse anything that is not a compliant photo.
// Run: go test ./device/face -run '^$' -fuzz FuzzValidatePhoto -fuzztime 25s
func FuzzValidatePhoto(f *testing.F) {
	var j, p bytes.Buffer
	img := image.NewRGBA(image.Rect(0, 0, 40, 56))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	img.Set(3, 3, color.RGBA{255, 0, 0, 255})
	_ = jpeg.Encode(&j, img, nil)
	_ = png.Encode(&p, img)
	f.Add(j.Bytes())
	f.Add(p.Bytes())
	f.Add(j.Bytes()[:len(j.Bytes())/2])
	f.Add([]byte{})
	f.Add([]byte("GIF89a"))
	e := testEngine(f)
	spec := e.Config().Photo
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := e.ValidatePhoto(data, spec)
		if err != nil {
			t.Fatal(err)
		}
		if r.OK && len(data) < spec.MinBytes {
			t.Fatalf("accepted %d bytes, below the minimum", len(data))
		}
		if !r.OK && len(r.Problems) == 0 {
			t.Fatal("refused without a problem")
		}
	})
}

// TestUnevenLightRule: real portraits, made to spec, pass the light rule;
// the same photos lit from one side (the image-left half of the face in
// shadow at 60 % of the light, with a soft edge along the nose) are refused
// for uneven light.
func TestUnevenLightRule(t *testing.T) {
	e := testEngine(t)
	spec := e.Config().Photo
	eachMadePortrait(t, e, spec, func(t *testing.T, _ string, jpg []byte, made PhotoReport) {
		if made.Face == nil {
			t.Fatalf("no face in the made photo: %v", codesOf(made.Problems))
		}
		if made.Has(CodeUnevenLight) {
			t.Fatalf("evenly lit portrait refused: imbalance %.3f", made.Face.Measures.Imbalance)
		}
		img, _ := DecodeImage(jpg)
		px := toRGB(img)
		for y := range px.H {
			for x := range px.W {
				// 0.6 left of the middle, 1 right of it, a ramp of 10 % between.
				k := 0.6 + 0.4*min(max((float64(x)/float64(px.W)-0.45)/0.1, 0), 1)
				for c := range 3 {
					i := 3*(y*px.W+x) + c
					px.Pix[i] = byte(float64(px.Pix[i]) * k)
				}
			}
		}
		dark, err := px.encodeJPEG(95)
		if err != nil {
			t.Fatal(err)
		}
		r, err := e.ValidatePhoto(dark, spec)
		if err != nil {
			t.Fatal(err)
		}
		if !r.Has(CodeUnevenLight) {
			t.Errorf("side-lit photo not refused for uneven light: %v (imbalance %.3f, was %.3f)",
				codesOf(r.Problems), r.Face.Measures.Imbalance, made.Face.Measures.Imbalance)
		}
	})
}

// TestMadePhotoReplacesTheRoom: frames of a webcam in an ordinary room
// (the demo clip) and a portrait on a grey wall are refused as given
// for their background; the photo the kiosk makes of them has the room
// replaced by the exam's plain colour and passes the very same background
// check from its bytes. Without the replacement the made photo is refused,
// so the test measures the segmentation, not a looser check.
func TestMadePhotoReplacesTheRoom(t *testing.T) {
	e := testEngine(t)
	spec := e.Config().Photo
	if spec.MakeBackground != BackgroundWhite {
		t.Fatalf("default make_background %q, want white", spec.MakeBackground)
	}
	dir := facesDir(t)
	files := []string{
		filepath.Join(dir, "live", "cap13_blink_turn", "frames", "000001.jpg"),
		filepath.Join(dir, "live", "cap13_blink_turn", "frames", "000030.jpg"),
	}
	// A portrait on a grey wall. (The other wrong-background fixtures are
	// tight head shots whose hair fills the area the background check
	// samples: their made photos are refused for that, rightly.)
	files = append(files, filepath.Join(dir, "idphoto", "wrong-background", "compreface_personB-img1.jpg"))
	keep := spec
	keep.MakeBackground = ""
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			orig, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if r, _ := e.ValidatePhoto(orig, spec); !r.Has(CodeBackground) {
				t.Fatalf("the photo as given passed the background check (%s, std %.1f): the test would prove nothing", r.Background, r.BackgroundStd)
			}
			img := readImage(t, f)
			jpg, made, err := e.MakeIDPhoto(context.Background(), img, spec)
			if err != nil {
				t.Fatal(err)
			}
			if made.Has(CodeBackground) || made.Background != BackgroundWhite {
				t.Errorf("made photo: background %s std %.1f, problems %v", made.Background, made.BackgroundStd, codesOf(made.Problems))
			}
			again, err := e.ValidatePhoto(jpg, spec)
			if err != nil || again.Has(CodeBackground) {
				t.Errorf("made photo re-read: background %s std %.1f, problems %v %v", again.Background, again.BackgroundStd, codesOf(again.Problems), err)
			}
			if _, asIs, err := e.MakeIDPhoto(context.Background(), img, keep); err != nil || !asIs.Has(CodeBackground) {
				t.Errorf("made without replacing the room: problems %v %v, want background", codesOf(asIs.Problems), err)
			}
		})
	}
}

// TestMadePhotoBottomNotSmeared: the demo clip's frame ends at the collar,
// above where an ID photo ends. The part of the photo below the frame must
// not be the frame's last row repeated (vertical streaks): in the bottom
// tenth of the photo most columns must vary from row to row.
func TestMadePhotoBottomNotSmeared(t *testing.T) {
	e := testEngine(t)
	spec := e.Config().Photo
	spec.MakeBackground = "" // the room stays: streaks would show in it
	f := filepath.Join(facesDir(t), "live", "cap13_blink_turn", "frames", "000001.jpg")
	jpg, _, err := e.MakeIDPhoto(context.Background(), readImage(t, f), spec)
	if err != nil {
		t.Fatal(err)
	}
	img, err := DecodeImage(jpg)
	if err != nil {
		t.Fatal(err)
	}
	px := toRGB(img)
	flat := 0
	y0 := px.H - px.H/10
	for x := range px.W {
		var s, s2 float64
		n := 0
		for y := y0; y < px.H; y++ {
			v := px.luma(x, y)
			s, s2, n = s+v, s2+v*v, n+1
		}
		m := s / float64(n)
		if s2/float64(n)-m*m < 1 {
			flat++
		}
	}
	if flat > px.W/4 {
		t.Errorf("%d of %d columns are constant in the bottom tenth: smeared", flat, px.W)
	}
}

// TestSegmentationModelChecked: a missing or corrupt segmentation model
// stops the engine with the path and the command that installs it.
func TestSegmentationModelChecked(t *testing.T) {
	cfg := testConfig(t)
	dir := t.TempDir()
	all, _ := filepath.Glob(filepath.Join(cfg.ModelsDir, "*"))
	for _, f := range all {
		if n := filepath.Base(f); n != SegmentationModel {
			if err := symlink(f, filepath.Join(dir, n)); err != nil {
				t.Fatal(err)
			}
		}
	}
	cfg.ModelsDir = dir
	path := filepath.Join(dir, SegmentationModel)
	for _, tc := range []struct {
		name string
		data []byte // nil: missing
		want string
	}{
		{"missing", nil, "missing"},
		{"corrupt", []byte("not a model"), "corrupt"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.data != nil {
				if err := os.WriteFile(path, tc.data, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			e, err := NewEngine(cfg, nil)
			if err == nil {
				e.Close()
				t.Fatal("engine started without its segmentation model")
			}
			for _, s := range []string{path, tc.want, "make models", "face.photo.make_background"} {
				if !containsStr(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
		})
	}
}

// TestMadePhotoFromWebcamInARoom: a webcam clip of a person at eye level
// in an ordinary room (live/d9_blinks.mjpeg: glasses, blinks) gives a
// photo that meets every rule of the exam, background included, from most
// frames (a blink may close the eyes in a few).
func TestMadePhotoFromWebcamInARoom(t *testing.T) {
	e := testEngine(t)
	spec := e.Config().Photo
	var frames []image.Image
	for i, f := range mjpegFrames(t, filepath.Join(facesDir(t), "live", "d9_blinks.mjpeg")) {
		if i%10 == 0 {
			frames = append(frames, f)
		}
	}
	if len(frames) < 10 {
		t.Fatalf("%d frames", len(frames))
	}
	ok := 0
	for i, img := range frames {
		var asGiven bytes.Buffer
		if err := jpeg.Encode(&asGiven, img, &jpeg.Options{Quality: 92}); err != nil {
			t.Fatal(err)
		}
		if r, _ := e.ValidatePhoto(asGiven.Bytes(), spec); !r.Has(CodeBackground) {
			t.Fatalf("frame %d as given passes the background check: the room is not a plain backdrop?", i)
		}
		jpg, made, err := e.MakeIDPhoto(context.Background(), img, spec)
		if err != nil {
			t.Fatal(err)
		}
		if again, _ := e.ValidatePhoto(jpg, spec); made.OK && again.OK {
			ok++
		} else {
			t.Logf("frame %d: %v", i, codesOf(again.Problems))
		}
	}
	if ok < len(frames)*8/10 {
		t.Errorf("%d of %d frames made a compliant photo, want at least 80%%", ok, len(frames))
	}
}
