package face

import (
	"context"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	goface "github.com/Kagami/go-face"
)

// ErrNoFace is returned when an image holds no usable face.
var ErrNoFace = errors.New("no face found")

// ErrMultipleFaces is returned when one face is needed and there are more.
var ErrMultipleFaces = errors.New("more than one face")

// ErrClosed is returned by an Engine after Close.
var ErrClosed = errors.New("face engine closed")

// Engine runs detection, landmarks, descriptors and the checks built on
// them. Models are loaded once by NewEngine. An Engine is safe for
// concurrent use; Close waits for calls in progress and frees the models.
type Engine struct {
	cfg       Config
	model     Model
	threshold float64
	log       *slog.Logger

	mu  sync.RWMutex // read-held by every call, write-held by Close
	lm  *landmarker
	lm5 *landmarker        // dlib's 5-point predictor (ONNX alignment)
	cnn *goface.Recognizer // go-face: CNN detector fallback, dlib descriptors
	rec recognizer
	seg *segmenter // nil unless cfg.Photo.MakeBackground is set
	eye *EyeState  // eye state of live frames (liveness blinks)
}

// Face is one detected face.
type Face struct {
	// Rect is the detector's box in image pixels.
	Rect image.Rectangle `json:"rect"`
	// Score is the HOG detector's confidence.
	Score float64 `json:"score"`
	// Landmarks are the 68 iBUG points in image pixels.
	Landmarks []image.Point `json:"landmarks,omitempty"`
	// Measures are the measurements the checks use.
	Measures Measures `json:"measures"`
	// Frontal is true when the frontal (HOG) detector found the face;
	// false when only the CNN detector did, which means a turned head.
	Frontal bool `json:"frontal"`
}

// cnnSide is the longest side images are scaled to for the CNN detector
// (about 1 s and a few hundred MB at this size; never run at full size).
const cnnSide = 640

// detectCNN runs go-face's MMOD CNN detector on a copy of px scaled to at
// most cnnSide, for photos in which the HOG detector found nothing: it
// also finds turned and partly hidden faces.
func (e *Engine) detectCNN(px *rgbImage) ([]Face, error) {
	step := 1.0
	if s := max(px.W, px.H); s > cnnSide {
		step = float64(s) / cnnSide
	}
	w, h := max(int(float64(px.W)/step), 1), max(int(float64(px.H)/step), 1)
	jpg, err := px.resample(0, 0, step, w, h).encodeJPEG(92)
	if err != nil {
		return nil, err
	}
	found, err := e.cnn.RecognizeCNN(jpg)
	trimHeap() // the CNN's image pyramid takes a few hundred MB
	if err != nil {
		return nil, fmt.Errorf("cnn detect: %w", err)
	}
	faces := make([]Face, 0, len(found))
	for _, f := range found {
		r := f.Rectangle
		rect := image.Rect(int(float64(r.Min.X)*step), int(float64(r.Min.Y)*step), int(float64(r.Max.X)*step), int(float64(r.Max.Y)*step))
		pts, err := e.lm.landmarks(px, rect)
		if err != nil {
			return nil, err
		}
		faces = append(faces, Face{Rect: rect, Landmarks: pts})
	}
	return faces, nil
}

// NewEngine loads the models named by cfg and pins OpenBLAS to
// cfg.BLASThreads threads. A nil logger uses slog.Default. A missing or
// corrupt model file or runtime library gives an error naming its path
// and the command that installs it.
func NewEngine(cfg Config, log *slog.Logger) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("face config: %w", err)
	}
	if log == nil {
		log = slog.Default()
	}
	model, err := cfg.Model()
	if err != nil {
		return nil, fmt.Errorf("face config: %w", err)
	}
	t, err := cfg.Threshold()
	if err != nil {
		return nil, fmt.Errorf("face config: %w", err)
	}
	start := time.Now()
	openblas := setBLASThreads(cfg.BLASThreads)
	for _, name := range []string{cfg.LandmarkModel, cfg.AlignModel, cfg.RecognitionModel, cfg.CNNDetectorModel} {
		if _, err := os.Stat(filepath.Join(cfg.ModelsDir, name)); err != nil {
			return nil, fmt.Errorf("face model %s is missing (%w); install it with: %s", filepath.Join(cfg.ModelsDir, name), errors.Unwrap(err), InstallModelsHint)
		}
	}
	e := &Engine{cfg: cfg, model: model, threshold: t, log: log}
	if e.lm, err = newLandmarker(filepath.Join(cfg.ModelsDir, cfg.LandmarkModel)); err != nil {
		return nil, err
	}
	if e.lm.d.Parts() != 68 {
		e.Close()
		return nil, fmt.Errorf("landmark model %s has %d points, want 68", cfg.LandmarkModel, e.lm.d.Parts())
	}
	if e.lm5, err = newLandmarker(filepath.Join(cfg.ModelsDir, cfg.AlignModel)); err != nil {
		e.Close()
		return nil, err
	}
	if e.lm5.d.Parts() != 5 {
		e.Close()
		return nil, fmt.Errorf("align model %s has %d points, want 5", cfg.AlignModel, e.lm5.d.Parts())
	}
	if e.cnn, err = newGoFace(cfg); err != nil {
		e.Close()
		return nil, err
	}
	if model.Kind == KindDlib {
		e.rec = dlibRecognizer{g: e.cnn, model: model}
	} else {
		rec, err := newONNXRecognizer(cfg, model, e.lm5)
		if err != nil {
			e.Close()
			return nil, err
		}
		e.rec = rec
	}
	if e.eye, err = OpenEyeState(cfg.ModelsDir, cfg.ONNXRuntime); err != nil {
		e.Close()
		return nil, err
	}
	if cfg.Photo.MakeBackground != "" {
		if e.seg, err = newSegmenter(cfg, cfg.Photo.SegmentationModel); err != nil {
			e.Close()
			return nil, fmt.Errorf("face.photo.make_background %q: %w", cfg.Photo.MakeBackground, err)
		}
	}
	log.Info("face engine ready", "models_dir", cfg.ModelsDir, "recognition_model", model.ID, "kind", model.Kind,
		"threshold", t, "openblas", openblas, "load", time.Since(start).Round(time.Millisecond))
	return e, nil
}

// newGoFace loads go-face, which reads three fixed file names from one
// directory: when the configured files are named differently they are
// exposed under those names through symlinks in a temporary directory.
// With an ONNX recognition model go-face still serves the CNN detector and
// loads dlib's stock network, which it requires.
func newGoFace(cfg Config) (*goface.Recognizer, error) {
	dlibNet := StockRecognitionModel
	if m, err := cfg.Model(); err == nil && m.Kind == KindDlib {
		dlibNet = cfg.RecognitionModel
	}
	fixed := map[string]string{
		"shape_predictor_5_face_landmarks.dat":      cfg.AlignModel,
		"dlib_face_recognition_resnet_model_v1.dat": dlibNet,
		"mmod_human_face_detector.dat":              cfg.CNNDetectorModel,
	}
	dir := cfg.ModelsDir
	for want, have := range fixed {
		if want != have {
			tmp, err := os.MkdirTemp("", "examkiosk-face-")
			if err != nil {
				return nil, fmt.Errorf("model link dir: %w", err)
			}
			defer os.RemoveAll(tmp)
			for want, have := range fixed {
				abs, err := filepath.Abs(filepath.Join(cfg.ModelsDir, have))
				if err != nil {
					return nil, fmt.Errorf("model path %s: %w", have, err)
				}
				if err := os.Symlink(abs, filepath.Join(tmp, want)); err != nil {
					return nil, fmt.Errorf("link model %s: %w", have, err)
				}
			}
			dir = tmp
			break
		}
	}
	rec, err := goface.NewRecognizer(dir)
	if err != nil {
		return nil, fmt.Errorf("load recognition models from %s: %w", cfg.ModelsDir, err)
	}
	return rec, nil
}

// Close frees the models. It waits for calls in progress; later calls
// return ErrClosed. Close is idempotent.
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.rec != nil {
		e.rec.close()
		e.rec = nil
	}
	if e.lm != nil {
		e.lm.close()
		e.lm = nil
	}
	if e.lm5 != nil {
		e.lm5.close()
		e.lm5 = nil
	}
	if e.cnn != nil {
		e.cnn.Close()
		e.cnn = nil
	}
	e.seg.close()
	e.seg = nil
	if e.eye != nil {
		e.eye.Close()
		e.eye = nil
	}
	return nil
}

// Config returns the engine's configuration.
func (e *Engine) Config() Config { return e.cfg }

// Threshold is the 1:1 match threshold for the loaded recognition model:
// the configured override, else the shipped one at the target FAR.
func (e *Engine) Threshold() float64 { return e.threshold }

// Model describes the loaded recognition model.
func (e *Engine) Model() Model { return e.model }

// SearchThreshold is the 1:N threshold for a search among n stored faces
// (the duplicate check): the distance at which the per-comparison
// false-accept rate is face.target_far / n, so that a new person is
// falsely matched to one of the n with probability at most target_far.
// It is never looser than the 1:1 threshold.
func (e *Engine) SearchThreshold(n int) float64 {
	return math.Min(e.model.ThresholdAt(SearchFAR(e.cfg.TargetFAR, n)), e.threshold)
}

// maxDetect bounds the faces reported per image.
const maxDetect = 16

// minHOGFace is about the smallest face, in detector pixels, dlib's HOG
// detector finds (its window is 80×80).
const minHOGFace = 80

// photoDetectSide is the longest side photos are scaled to for detection.
const photoDetectSide = 800

// detect finds faces (largest first) with landmarks and measurements.
// For live frames the image is scaled to DetectWidth; photos to at most
// photoDetectSide. When nothing is found the detector runs again at twice
// the resolution, so smaller faces are found at a higher cost.
func (e *Engine) detect(px *rgbImage, live bool) ([]Face, error) {
	if e.lm == nil {
		return nil, ErrClosed
	}
	scale := 1.0
	if live {
		if px.W > e.cfg.DetectWidth {
			scale = float64(e.cfg.DetectWidth) / float64(px.W)
		}
	} else if s := max(px.W, px.H); s > photoDetectSide {
		scale = float64(photoDetectSide) / float64(s)
	}
	raw, _, err := e.lm.detect(px, scale, 0, 0, maxDetect)
	if err != nil {
		return nil, err
	}
	// A second pass at twice the resolution when nothing was found or, on
	// photos, when the faces found are small enough that smaller ones
	// (another person further back) would have been missed.
	widest := 0
	for _, r := range raw {
		widest = max(widest, r.Rect.Dx())
	}
	if len(raw) == 0 || (!live && float64(widest)*scale < 2*minHOGFace) {
		up := 1
		if scale <= 0.5 {
			scale, up = scale*2, 0
		}
		again, _, err := e.lm.detect(px, scale, up, 0, maxDetect)
		if err != nil {
			return nil, err
		}
		if len(again) >= len(raw) {
			raw = again
		}
	}
	faces := make([]Face, len(raw))
	for i, r := range raw {
		faces[i] = Face{Rect: r.Rect, Score: r.Score, Landmarks: r.Points, Frontal: true}
	}
	if len(faces) == 0 && !live {
		if faces, err = e.detectCNN(px); err != nil {
			return nil, err
		}
	}
	slices.SortStableFunc(faces, func(a, b Face) int { return b.Rect.Dx() - a.Rect.Dx() })
	return faces, nil
}

// people counts the faces large enough to be another person in the picture.
func people(faces []Face, l Limits) int {
	if len(faces) == 0 {
		return 0
	}
	n := 0
	for _, f := range faces {
		if float64(f.Rect.Dx()) >= l.SecondFace*float64(faces[0].Rect.Dx()) {
			n++
		}
	}
	return n
}

// Detect returns the faces in img, largest first, with landmarks and
// measurements against the live guide frame.
func (e *Engine) Detect(img image.Image) ([]Face, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	px := toRGB(img)
	faces, err := e.detect(px, true)
	if err != nil {
		return nil, err
	}
	g := liveGuide(px.W, px.H, e.cfg.Live.GuideHeight)
	for i := range faces {
		faces[i].Measures = measure(px, toPts(faces[i].Landmarks), g, true)
	}
	return faces, nil
}

// DetectPhoto returns the faces in a photo of any size, largest first:
// it scales to at most photoDetectSide, retries at twice the resolution
// for small faces and falls back on the CNN detector (turned faces).
func (e *Engine) DetectPhoto(img image.Image) ([]Face, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	px := toRGB(img)
	faces, err := e.detect(px, false)
	if err != nil {
		return nil, err
	}
	for i := range faces {
		faces[i].Measures = measure(px, toPts(faces[i].Landmarks), image.Rect(0, 0, px.W, px.H), false)
	}
	return faces, nil
}

// DescribeFace computes the descriptor of a face found in img by Detect,
// DetectPhoto or Analyze.
func (e *Engine) DescribeFace(ctx context.Context, img image.Image, f Face) (Descriptor, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.describe(ctx, toRGB(img), f)
}

// liveGuide is the on-screen guide frame: 5:7, centred, GuideHeight of the
// frame height.
func liveGuide(w, h int, frac float64) image.Rectangle {
	gh := frac * float64(h)
	gw := gh * 5 / 7
	cx, cy := float64(w)/2, float64(h)/2
	return image.Rect(int(cx-gw/2), int(cy-gh/2), int(cx+gw/2), int(cy+gh/2))
}

// GuideFrame returns the guide rectangle for a w×h camera frame, for the
// UI to draw.
func (e *Engine) GuideFrame(w, h int) image.Rectangle { return liveGuide(w, h, e.cfg.Live.GuideHeight) }

// Analyze checks one live frame and says what the candidate should fix.
func (e *Engine) Analyze(frame image.Image) (Guidance, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.analyze(toRGB(frame))
}

func (e *Engine) analyze(px *rgbImage) (Guidance, error) {
	faces, err := e.detect(px, true)
	if err != nil {
		return Guidance{}, fmt.Errorf("analyze frame: %w", err)
	}
	g := assess(px, faces, e.cfg.Live, liveGuide(px.W, px.H, e.cfg.Live.GuideHeight), true)
	if g.Face != nil {
		if c, err := e.eye.eyesClosed(px, toPts(g.Face.Landmarks)); err == nil {
			g.Face.Measures.EyesClosed = c
		}
	}
	return g, nil
}

// assess measures the main face and applies l.
func assess(px *rgbImage, faces []Face, l Limits, guide image.Rectangle, vertical bool) Guidance {
	g := Guidance{Problems: []Problem{}, Faces: people(faces, l)}
	if len(faces) == 0 {
		g.Problems = append(g.Problems, problem(CodeNoFace, 0, "one face"))
		return g
	}
	f := faces[0]
	f.Measures = measure(px, toPts(f.Landmarks), guide, vertical)
	g.Face = &f
	if g.Faces > 1 {
		g.Problems = append(g.Problems, problem(CodeMultipleFaces, float64(g.Faces), "one face"))
	}
	ps := l.check(f.Measures)
	if !f.Frontal && !slices.ContainsFunc(ps, func(p Problem) bool { return p.Code == CodeHeadTurned }) {
		// Only the CNN detector found it: not frontal enough for HOG.
		ps = append(ps, problem(CodeHeadTurned, f.Measures.Pose.Yaw, "frontal"))
	}
	g.Problems = append(g.Problems, ps...)
	g.OK = len(g.Problems) == 0
	m := f.Measures
	g.Quality = math.Min(m.Sharpness/100, 1) - (math.Abs(m.Pose.Yaw)+math.Abs(m.Pose.Pitch)+math.Abs(m.Pose.Roll))/30 -
		m.Offset - math.Abs(m.Brightness-130)/200 + f.Score/4
	return g
}

// measure computes every measurement for landmarks p against the guide
// rectangle; vertical selects whether the vertical offset counts.
func measure(px *rgbImage, p []pt, guide image.Rectangle, vertical bool) Measures {
	var m Measures
	top, bottom, left, right := headBox(p)
	gh := float64(guide.Dy())
	m.Head = (bottom - top) / gh
	cx, cy := (left+right)/2, (top+bottom)/2
	gx, gy := float64(guide.Min.X+guide.Max.X)/2, float64(guide.Min.Y+guide.Max.Y)/2
	if vertical {
		m.Offset = math.Hypot(cx-gx, cy-gy) / gh
	} else {
		m.Offset = math.Abs(cx-gx) / gh
	}
	slack := 0.03 * (bottom - top)
	m.Inside = left >= -slack && right <= float64(px.W-1)+slack && bottom <= float64(px.H-1)+slack && top >= -slack
	m.Pose = estimatePose(p)
	m.EyeOpen = eyesOpen(p)
	m.EyesClosed = -1 // measured by Analyze on live frames only
	m.MouthOpen = mouthOpen(p)
	m.Brightness, m.Imbalance = lighting(px, p)
	m.Sharpness = sharpness(px, p)
	m.Occlusion = occlusion(px, p)
	return m
}

// lighting returns the mean luma of the face box and the imbalance of
// the light between the two cheeks (cheekImbalance). The imbalance is not
// measured on the two halves of the face box: its corners hold background
// and hair, so a plain white background beside a slightly turned head
// counted as light from one side.
func lighting(px *rgbImage, p []pt) (mean, imbalance float64) {
	x0, x1 := p[1].X, p[15].X
	y0, y1 := mid(p[19], p[24]).Y, p[lmChin].Y
	if x1 <= x0 || y1 <= y0 {
		return 0, 0
	}
	const n = 40
	var s float64
	for i := range n {
		y := y0 + (y1-y0)*(float64(i)+0.5)/n
		for j := range n {
			s += px.luma(int(x0+(x1-x0)*(float64(j)+0.5)/n), int(y))
		}
	}
	return s / (n * n), cheekImbalance(px, p)
}

// sharpness is the variance of the 4-neighbour Laplacian of the face
// region resampled to 128 px wide, so it does not depend on face size.
func sharpness(px *rgbImage, p []pt) float64 {
	x0, x1 := p[1].X, p[15].X
	y0, y1 := mid(p[19], p[24]).Y, p[lmChin].Y
	if x1-x0 < 4 || y1-y0 < 4 {
		return 0
	}
	const w = 128
	step := (x1 - x0) / w
	h := max(int((y1-y0)/step), 8)
	crop := px.resample(x0, y0, step, w, h)
	g := make([]float64, w*h)
	for i := range g {
		g[i] = 0.299*float64(crop.Pix[3*i]) + 0.587*float64(crop.Pix[3*i+1]) + 0.114*float64(crop.Pix[3*i+2])
	}
	var s, s2 float64
	n := 0
	for y := 1; y < h-1; y++ {
		for x := 1; x < w-1; x++ {
			l := 4*g[y*w+x] - g[y*w+x-1] - g[y*w+x+1] - g[(y-1)*w+x] - g[(y+1)*w+x]
			s += l
			s2 += l * l
			n++
		}
	}
	if n == 0 {
		return 0
	}
	mu := s / float64(n)
	return s2/float64(n) - mu*mu
}

// patch returns the mean luma and chroma of a disc of radius r around c.
func patch(px *rgbImage, c pt, r float64) (y, cb, cr float64) {
	n := 0
	ri := max(int(r), 1)
	for dy := -ri; dy <= ri; dy++ {
		for dx := -ri; dx <= ri; dx++ {
			if dx*dx+dy*dy > ri*ri {
				continue
			}
			R, G, B := px.at(int(c.X)+dx, int(c.Y)+dy)
			fr, fg, fb := float64(R), float64(G), float64(B)
			y += 0.299*fr + 0.587*fg + 0.114*fb
			cb += -0.1687*fr - 0.3313*fg + 0.5*fb
			cr += 0.5*fr - 0.4187*fg - 0.0813*fb
			n++
		}
	}
	fn := float64(n)
	return y / fn, cb / fn, cr / fn
}

// occlusion scores how covered the face looks: the chroma distance between
// the skin between the brows and the skin of the lower face (a mask), and
// the darkness of the eyes relative to that skin (sunglasses). 1 means
// clearly covered.
func occlusion(px *rgbImage, p []pt) float64 {
	iod := interOcular(p)
	if iod < 4 {
		return 0
	}
	g := mid(p[21], p[22])
	g.Y -= 0.12 * iod
	ry, rcb, rcr := patch(px, g, 0.1*iod)
	_, cb1, cr1 := patch(px, mid(p[57], p[lmChin]), 0.1*iod)
	_, cb2, cr2 := patch(px, mid(p[33], p[51]), 0.08*iod)
	chroma := math.Max(math.Hypot(cb1-rcb, cr1-rcr), math.Hypot(cb2-rcb, cr2-rcr))
	ely, _, _ := patch(px, mid(p[37], p[38], p[40], p[41]), 0.12*iod)
	ery, _, _ := patch(px, mid(p[43], p[44], p[46], p[47]), 0.12*iod)
	eyes := (ely + ery) / 2 / math.Max(ry, 1)
	return math.Max(chroma/occlusionChroma, occlusionEyeRatio/math.Max(eyes, 0.01))
}

// Occlusion normalisers: a chroma distance of occlusionChroma, or eyes
// darker than occlusionEyeRatio times the skin, score 1.
const (
	occlusionChroma   = 22
	occlusionEyeRatio = 0.22
)

// describe computes the descriptor of face f in px with the loaded model.
func (e *Engine) describe(ctx context.Context, px *rgbImage, f Face) (Descriptor, error) {
	if e.rec == nil {
		return Descriptor{}, ErrClosed
	}
	return e.rec.describe(ctx, px, f)
}

// Descriptor computes the descriptor of the largest face in img (a photo
// or a frame of any size). It returns ErrNoFace when there is none.
func (e *Engine) Descriptor(ctx context.Context, img image.Image) (Descriptor, Face, error) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	px := toRGB(img)
	faces, err := e.detect(px, false)
	if err != nil {
		return Descriptor{}, Face{}, err
	}
	if len(faces) == 0 {
		return Descriptor{}, Face{}, ErrNoFace
	}
	d, err := e.describe(ctx, px, faces[0])
	return d, faces[0], err
}

// Compare returns the distance between the largest faces of a and b and
// whether it is within the configured threshold.
func (e *Engine) Compare(ctx context.Context, a, b image.Image) (dist float64, match bool, err error) {
	da, _, err := e.Descriptor(ctx, a)
	if err != nil {
		return 0, false, fmt.Errorf("first image: %w", err)
	}
	db, _, err := e.Descriptor(ctx, b)
	if err != nil {
		return 0, false, fmt.Errorf("second image: %w", err)
	}
	if dist, err = Distance(da, db); err != nil {
		return dist, false, err
	}
	return dist, dist <= e.threshold, nil
}

// Match reports whether a descriptor distance counts as the same person
// (1:1, at Threshold).
func (e *Engine) Match(dist float64) bool { return dist <= e.threshold }

// Comparable reports whether d was made by the loaded model, so that it
// may be compared with the engine's descriptors.
func (e *Engine) Comparable(d Descriptor) bool {
	return d.Model == e.model.ID && d.Kind == e.model.Kind && len(d.Vec) == e.model.Size
}

// cheekImbalance compares the light on the two cheeks: skin samples on
// segments from the jaw line (points 1..4 and 15..12) towards the nose
// axis, mirrored, so both halves measure the same part of the face and
// neither reaches the background, hair, eyes or nose ridge. It returns
// |median(left) − median(right)| / their mean.
func cheekImbalance(px *rgbImage, p []pt) float64 {
	nose := []int{29, 30, 33, 33}
	var ls, rs []float64
	patch := func(q pt) float64 {
		var s float64
		for dy := -1; dy <= 1; dy++ {
			for dx := -1; dx <= 1; dx++ {
				s += px.luma(int(q.X)+dx, int(q.Y)+dy)
			}
		}
		return s / 9
	}
	lerp := func(a, b pt, t float64) pt { return pt{a.X + (b.X-a.X)*t, a.Y + (b.Y-a.Y)*t} }
	const sub, steps = 4, 10
	for k := 0; k < 3*sub+1; k++ {
		i, t := k/sub, float64(k%sub)/sub
		if i == 3 {
			i, t = 2, 1
		}
		lj := lerp(p[1+i], p[2+i], t)
		rj := lerp(p[15-i], p[14-i], t)
		n := lerp(p[nose[i]], p[nose[i+1]], t)
		for s := range steps {
			f := 0.15 + 0.55*float64(s)/(steps-1)
			ls = append(ls, patch(lerp(lj, n, f)))
			rs = append(rs, patch(lerp(rj, n, f)))
		}
	}
	ml, mr := median(ls), median(rs)
	if ml+mr == 0 {
		return 0
	}
	return math.Abs(ml-mr) / ((ml + mr) / 2)
}
