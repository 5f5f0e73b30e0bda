package face

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"examkiosk/device/face/ort"
)

// SegmentationModel is the default person segmentation model file:
// MediaPipe's selfie segmentation (Apache-2.0, the 256×256 "general"
// model of @mediapipe/selfie_segmentation), converted from TFLite to ONNX
// by build/tflite2onnx.py at set-up.
const SegmentationModel = "selfie_segmentation.onnx"

// SegmentationModelSHA256 is the SHA-256 of SegmentationModel as
// build/setup.sh makes it (build/models.sha256); the converter's output is
// deterministic.
const SegmentationModelSHA256 = "c684edadfb71e3dc09b9bf9773c9d2247428f4106574520f7c406f38ee4dc346"

// segSide is the model's input and output side: input [n, 256, 256, 3]
// RGB in 0..1, output [n, 256, 256, 1], the probability that a pixel is
// the person.
const segSide = 256

// segmenter separates the person from the room with an ONNX person
// segmentation model.
type segmenter struct {
	sess *ort.Session
}

// newSegmenter loads the model file name from cfg.ModelsDir on ONNX
// Runtime (cfg.ONNXRuntime, cfg.IntraOpThreads), checking its SHA-256 and
// its input and output shapes. Errors name the path and the command that
// installs it.
func newSegmenter(cfg Config, name string) (*segmenter, error) {
	if err := ort.Init(cfg.ONNXRuntime); err != nil {
		return nil, fmt.Errorf("segmentation model: %w", err)
	}
	dir := cfg.ModelsDir
	path := filepath.Join(dir, name)
	want := SegmentationModelSHA256
	if name != SegmentationModel {
		// Another model the centre installed: it is checked against the
		// manifest set-up wrote beside it.
		var err error
		if want, err = manifestSHA256(dir, name); err != nil {
			return nil, fmt.Errorf("segmentation model %s: %w", path, err)
		}
	}
	sess, err := ort.Open(path, want, ort.Options{IntraOpThreads: cfg.IntraOpThreads, InstallHint: InstallModelsHint})
	if err != nil {
		return nil, fmt.Errorf("segmentation: %w", err)
	}
	in, out := sess.Inputs(), sess.Outputs()
	okShape := func(s []int64, c int64) bool {
		return len(s) == 4 && s[1] == segSide && s[2] == segSide && s[3] == c
	}
	if len(in) != 1 || len(out) != 1 || !okShape(in[0].Shape, 3) || !okShape(out[0].Shape, 1) {
		sess.Close()
		return nil, fmt.Errorf("segmentation model %s: want one input [n,%d,%d,3] and one output [n,%d,%d,1], got %v -> %v",
			path, segSide, segSide, segSide, segSide, in, out)
	}
	return &segmenter{sess: sess}, nil
}

func (s *segmenter) close() {
	if s != nil && s.sess != nil {
		s.sess.Close()
		s.sess = nil
	}
}

// personMask returns, for each pixel of px, the probability (0..1) that it
// shows the person. px is letterboxed onto the model's square input (the
// padding grey, as the model was trained on undistorted people), and the
// model's mask is scaled back bilinearly.
func (s *segmenter) personMask(px *rgbImage) ([]float32, error) {
	side := max(px.W, px.H)
	step := float64(side) / segSide
	// Letterbox: the image centred in a side×side square.
	ox, oy := float64(side-px.W)/2, float64(side-px.H)/2
	in := make([]float32, segSide*segSide*3)
	sq := px.resample(-ox, -oy, step, segSide, segSide)
	for v := range segSide {
		for u := range segSide {
			x, y := (float64(u)+0.5)*step-ox, (float64(v)+0.5)*step-oy
			o := 3 * (v*segSide + u)
			if x < 0 || y < 0 || x >= float64(px.W) || y >= float64(px.H) {
				in[o], in[o+1], in[o+2] = 0.5, 0.5, 0.5
				continue
			}
			in[o] = float32(sq.Pix[o]) / 255
			in[o+1] = float32(sq.Pix[o+1]) / 255
			in[o+2] = float32(sq.Pix[o+2]) / 255
		}
	}
	outs, err := s.sess.Run(ort.Tensor{Shape: []int64{1, segSide, segSide, 3}, Data: in})
	if err != nil {
		return nil, fmt.Errorf("segmentation: %w", err)
	}
	m := outs[0].Data
	if len(m) != segSide*segSide {
		return nil, fmt.Errorf("segmentation: output has %d values, want %d", len(m), segSide*segSide)
	}
	mask := make([]float32, px.W*px.H)
	at := func(u, v int) float32 {
		u, v = min(max(u, 0), segSide-1), min(max(v, 0), segSide-1)
		return m[v*segSide+u]
	}
	for y := range px.H {
		sv := (float64(y)+0.5+oy)/step - 0.5
		v := int(math.Floor(sv))
		fv := float32(sv - float64(v))
		for x := range px.W {
			su := (float64(x)+0.5+ox)/step - 0.5
			u := int(math.Floor(su))
			fu := float32(su - float64(u))
			top := at(u, v) + (at(u+1, v)-at(u, v))*fu
			bot := at(u, v+1) + (at(u+1, v+1)-at(u, v+1))*fu
			mask[y*px.W+x] = top + (bot-top)*fv
		}
	}
	return mask, nil
}

// maskImage holds a w×h mask (0..1) as a grey image, to be cropped and
// scaled with the same transform as the photo.
func maskImage(mask []float32, w, h int) *rgbImage {
	m := &rgbImage{W: w, H: h, Pix: make([]byte, 3*w*h)}
	for i, v := range mask {
		b := byte(math.Round(float64(min(max(v, 0), 1)) * 255))
		m.Pix[3*i], m.Pix[3*i+1], m.Pix[3*i+2] = b, b, b
	}
	return m
}

// backgroundRGB is the plain colour a made photo's background is replaced
// with, per colour name: white, the ID-photo blue and the ID-photo red.
var backgroundRGB = map[string][3]byte{
	BackgroundWhite: {255, 255, 255},
	BackgroundBlue:  {67, 142, 219},
	BackgroundRed:   {220, 20, 30},
}

// replaceBackground puts the person of px on the plain colour c: each
// pixel is mixed by the person mask (a grey image of px's size, 255 =
// person), sharpened around one half so that the model's soft edge does
// not leave a halo of the room.
func replaceBackground(px, mask *rgbImage, c [3]byte) {
	for i := range px.W * px.H {
		// Map 0.25..0.75 onto 0..1 (smoothstep): clearly room is room,
		// clearly person is person, the band between is the edge.
		t := (float64(mask.Pix[3*i])/255 - 0.25) / 0.5
		t = min(max(t, 0), 1)
		a := t * t * (3 - 2*t)
		o := 3 * i
		for k := range 3 {
			px.Pix[o+k] = byte(math.Round(a*float64(px.Pix[o+k]) + (1-a)*float64(c[k])))
		}
	}
}

// manifestSHA256 returns the SHA-256 that the models.sha256 manifest in dir
// (written by build/setup.sh models) gives for the file name.
func manifestSHA256(dir, name string) (string, error) {
	path := filepath.Join(dir, "models.sha256")
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read the manifest: %w", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && !strings.HasPrefix(f[0], "#") && f[1] == name {
			return f[0], nil
		}
	}
	return "", fmt.Errorf("%s has no SHA-256 for %s: list it there", path, name)
}
