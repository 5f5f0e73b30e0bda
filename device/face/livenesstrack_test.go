package face

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"image"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Recorded tracks: what the pipeline (detection, landmarks, the eye-state
// network, the passive detector and the hand-built cues) gave the liveness
// state machine for every frame of the shared live clips and of photos
// moved in front of a virtual camera. The rules' tests replay them through
// the real MotionDetector and Liveness without dlib, models or
// ../shared/faces; TestRecordTracks -record writes them again from the
// shared files (after a change to detection, landmarks or a network).

// TestRecordTracks writes tracksFile with -record, the flag the photo
// recording shares (photorecord_test.go).

// tracksFile holds the recorded tracks (gzipped JSON).
const tracksFile = "testdata/liveness_tracks.json.gz"

// trackFile is the content of tracksFile.
type trackFile struct {
	Note string `json:"note"`
	// Annotations is ../shared/faces/live/annotations.json (the clips'
	// blinks and turns: the prompt-following script is cut from them).
	Annotations json.RawMessage `json:"annotations"`
	Tracks      []track         `json:"tracks"`
}

// track is one frame sequence at clipFPS.
type track struct {
	// Name is the clip ("live/…") or the moved photo ("moved/…").
	Name   string       `json:"name"`
	Frames []trackFrame `json:"frames"`
}

// trackFrame is what Engine.Analyze, the PAD and the cues gave for one
// frame.
type trackFrame struct {
	// Faces is Guidance.Faces.
	Faces int `json:"n"`
	// Rect and Landmarks (x, y pairs of the 68 points) are those of
	// Guidance.Face; absent when there is none. In the file both are
	// stored as differences from the previous frame with a face (see
	// encode).
	Rect      []int `json:"r,omitempty"`
	Landmarks []int `json:"l,omitempty"`
	// EyesClosed is Measures.EyesClosed (-1: not measured); the file
	// holds its logit to 0.001 (Eye).
	EyesClosed float64  `json:"-"`
	Eye        *float64 `json:"e,omitempty"`
	// PAD is the passive detector's live score and Cues the cues of the
	// face, for frames with one face (PAD -1 otherwise), to 0.0001.
	PAD  float64 `json:"p"`
	Cues Cues    `json:"c"`
}

// encode turns the frames of tr into the file's form: rectangle and
// landmarks as differences from the previous face (small numbers that
// compress well), the eye state as a rounded logit, scores rounded.
func (tr track) encode() track {
	out := track{Name: tr.Name}
	var prevR, prevL []int
	r4 := func(x float64) float64 { return math.Round(x*1e4) / 1e4 }
	for _, f := range tr.Frames {
		e := trackFrame{Faces: f.Faces, PAD: r4(f.PAD), Cues: Cues{Moire: r4(f.Cues.Moire), Glare: r4(f.Cues.Glare), Edges: r4(f.Cues.Edges)}}
		if f.EyesClosed >= 0 {
			l := math.Round(logit(f.EyesClosed)*1e3) / 1e3
			e.Eye = &l
		}
		if len(f.Landmarks) > 0 {
			e.Rect, e.Landmarks = delta(f.Rect, prevR), delta(f.Landmarks, prevL)
			prevR, prevL = f.Rect, f.Landmarks
		}
		out.Frames = append(out.Frames, e)
	}
	return out
}

// decode is the inverse of encode (up to the rounding).
func (tr track) decode() track {
	out := track{Name: tr.Name}
	var prevR, prevL []int
	for _, e := range tr.Frames {
		f := trackFrame{Faces: e.Faces, PAD: e.PAD, Cues: e.Cues, EyesClosed: -1}
		if e.Eye != nil {
			f.EyesClosed = sigmoid(*e.Eye)
		}
		if len(e.Landmarks) > 0 {
			f.Rect, f.Landmarks = undelta(e.Rect, prevR), undelta(e.Landmarks, prevL)
			prevR, prevL = f.Rect, f.Landmarks
		}
		out.Frames = append(out.Frames, f)
	}
	return out
}

func delta(v, prev []int) []int {
	out := slices.Clone(v)
	if len(prev) == len(v) {
		for i := range out {
			out[i] -= prev[i]
		}
	}
	return out
}

func undelta(d, prev []int) []int {
	out := slices.Clone(d)
	if len(prev) == len(d) {
		for i := range out {
			out[i] += prev[i]
		}
	}
	return out
}

// guidance rebuilds the Guidance the liveness session reads.
func (f trackFrame) guidance() Guidance {
	g := Guidance{Faces: f.Faces}
	if len(f.Landmarks) == 0 {
		return g
	}
	lm := make([]image.Point, len(f.Landmarks)/2)
	for i := range lm {
		lm[i] = image.Pt(f.Landmarks[2*i], f.Landmarks[2*i+1])
	}
	g.Face = &Face{Rect: image.Rect(f.Rect[0], f.Rect[1], f.Rect[2], f.Rect[3]), Landmarks: lm,
		Measures: Measures{EyesClosed: f.EyesClosed}}
	return g
}

// guidances is the track's frames as Guidance.
func (tr track) guidances() []Guidance {
	gs := make([]Guidance, len(tr.Frames))
	for i, f := range tr.Frames {
		gs[i] = f.guidance()
	}
	return gs
}

// recordedScorer answers a session's PAD questions from the recorded scores
// of frames: Prompt-driven players choose which frame is shown, so the
// scorer is told the frame first (show).
type recordedScorer struct {
	frames []trackFrame
	cur    int
}

func (r *recordedScorer) show(i int) { r.cur = i }

func (r *recordedScorer) score(image.Rectangle) (float64, Cues, error) {
	f := r.frames[r.cur]
	return f.PAD, f.Cues, nil
}

var tracks struct {
	once sync.Once
	file trackFile
	err  error
}

// loadTracks reads tracksFile once.
func loadTracks(t testing.TB) trackFile {
	t.Helper()
	tracks.once.Do(func() {
		b, err := os.ReadFile(tracksFile)
		if err != nil {
			tracks.err = err
			return
		}
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			tracks.err = err
			return
		}
		if tracks.err = json.NewDecoder(zr).Decode(&tracks.file); tracks.err != nil {
			return
		}
		for i, tr := range tracks.file.Tracks {
			tracks.file.Tracks[i] = tr.decode()
		}
	})
	if tracks.err != nil {
		t.Fatalf("recorded tracks %s (go test ./device/face -run TestRecordTracks -record writes them): %v", tracksFile, tracks.err)
	}
	return tracks.file
}

// trackNamed returns the recorded track name.
func trackNamed(t testing.TB, name string) track {
	t.Helper()
	for _, tr := range loadTracks(t).Tracks {
		if tr.Name == name {
			return tr
		}
	}
	t.Fatalf("no recorded track %q in %s", name, tracksFile)
	return track{}
}

// padOnly are the moved photos recorded for their PAD scores only: the
// pad/ stills show turned heads (measured yaw about −40° for the print,
// +20° for live_1), so no frame of them is frontal enough to become the
// motion detector's reference (refMaxYaw) and the motion rules never see
// them.
var padOnly = []string{"moved/pad/print_attack_1.jpg", "moved/pad/live_1.jpg"}

// movedTracks are the recorded moved photos the motion rules see.
func movedTracks(t testing.TB) []track {
	var out []track
	for _, tr := range loadTracks(t).Tracks {
		if strings.HasPrefix(tr.Name, "moved/") && !slices.Contains(padOnly, tr.Name) {
			out = append(out, tr)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no moved photo in %s", tracksFile)
	}
	return out
}

// TestRecordTracks (with -record) analyses the shared live clips and the
// moved photos of the liveness tests with the real pipeline and writes
// tracksFile. It also checks that replaying what it wrote gives the motion
// detector the same events as the analysed frames.
func TestRecordTracks(t *testing.T) {
	if !*record {
		t.Skip("writes " + tracksFile + " with -record")
	}
	dir := facesDir(t)
	e := testEngine(t)
	p := testPAD(t)
	ann, err := os.ReadFile(filepath.Join(dir, "live", "annotations.json"))
	if err != nil {
		t.Fatal(err)
	}
	out := trackFile{
		Note: "written by go test ./device/face -run TestRecordTracks -record from ../shared/faces on " +
			time.Now().UTC().Format("2006-01-02") + "; frames at 15 fps",
		Annotations: json.RawMessage(ann),
	}
	rec := func(name string, frames []image.Image) {
		c := NewCueScorer()
		tr := track{Name: name}
		gs := make([]Guidance, len(frames))
		for i, fr := range frames {
			g, err := e.Analyze(fr)
			if err != nil {
				t.Fatalf("%s frame %d: %v", name, i, err)
			}
			gs[i] = g
			f := trackFrame{Faces: g.Faces, EyesClosed: -1, PAD: -1}
			if g.Face != nil {
				r := g.Face.Rect
				f.Rect = []int{r.Min.X, r.Min.Y, r.Max.X, r.Max.Y}
				for _, q := range g.Face.Landmarks {
					f.Landmarks = append(f.Landmarks, q.X, q.Y)
				}
				f.EyesClosed = g.Face.Measures.EyesClosed
				if g.Faces == 1 {
					if f.PAD, err = p.Live(fr, r); err != nil {
						t.Fatal(err)
					}
					f.Cues = c.Score(fr, r)
				}
			}
			tr.Frames = append(tr.Frames, f)
		}
		tr = tr.encode()
		want, got := motionEvents(gs), motionEvents(tr.decode().guidances())
		if len(want) != len(got) {
			t.Fatalf("%s: replayed events %v, analysed %v", name, got, want)
		}
		for i := range want {
			if want[i] != got[i] {
				t.Fatalf("%s: replayed events %v, analysed %v", name, got, want)
			}
		}
		t.Logf("%s: %d frames, events %v", name, len(frames), want)
		out.Tracks = append(out.Tracks, tr)
	}
	for _, clip := range liveClips {
		rec("live/"+filepath.Base(clip), mjpegFrames(t, filepath.Join(dir, "live", clip)))
	}
	photos := append(attackPhotos(t, 7), "pad/print_attack_1.jpg", "pad/live_1.jpg")
	for _, ph := range photos {
		img := readImage(t, filepath.Join(dir, ph))
		faces, err := e.Detect(img)
		if err != nil || len(faces) != 1 {
			t.Fatalf("%s: %d faces, %v", ph, len(faces), err)
		}
		// As movedPhotoFrames: half the face's width gives the guide
		// frame's 220 px.
		r := faces[0].Rect
		c := (r.Min.X + r.Max.X) / 2
		rec("moved/"+ph, photoSequence(toRGB(img), image.Rect(c-r.Dx()/4, r.Min.Y, c+r.Dx()/4, r.Max.Y), 6*clipFPS))
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err := json.NewEncoder(zw).Encode(out); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(tracksFile), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tracksFile, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s: %d tracks, %d bytes", tracksFile, len(out.Tracks), buf.Len())
}

// TestRecordedTracksCurrent analyses a few frames of each recorded live
// clip with the real pipeline and compares them with the recording, so
// that a change to detection, landmarks or a network that makes the
// recorded tracks stale fails here (then run TestRecordTracks -record).
func TestRecordedTracksCurrent(t *testing.T) {
	dir := facesDir(t)
	e := testEngine(t)
	p := testPAD(t)
	for k, clip := range liveClips {
		frames := mjpegFrames(t, filepath.Join(dir, "live", clip))
		tr := trackNamed(t, liveClipTracks[k])
		if len(frames) != len(tr.Frames) {
			t.Fatalf("%s: %d frames, %d recorded", clip, len(frames), len(tr.Frames))
		}
		for _, i := range []int{0, len(frames) / 2, len(frames) - 1} {
			g, err := e.Analyze(frames[i])
			if err != nil {
				t.Fatal(err)
			}
			rec := tr.Frames[i]
			if g.Face == nil || g.Faces != rec.Faces {
				t.Fatalf("%s frame %d: %d faces (%v), recorded %d", clip, i, g.Faces, g.Face != nil, rec.Faces)
			}
			got := rec.guidance().Face
			if !slices.Equal(g.Face.Landmarks, got.Landmarks) || g.Face.Rect != got.Rect {
				t.Errorf("%s frame %d: landmarks or box differ from the recording", clip, i)
			}
			if d := math.Abs(logit(g.Face.Measures.EyesClosed) - logit(rec.EyesClosed)); d > 2e-3 {
				t.Errorf("%s frame %d: eye-state logit %.4f, recorded %.4f", clip, i, logit(g.Face.Measures.EyesClosed), logit(rec.EyesClosed))
			}
			s, err := p.Live(frames[i], g.Face.Rect)
			if err != nil {
				t.Fatal(err)
			}
			c := NewCueScorer().Score(frames[i], g.Face.Rect)
			if math.Abs(s-rec.PAD) > 2e-4 || math.Abs(c.Moire-rec.Cues.Moire) > 2e-4 || math.Abs(c.Glare-rec.Cues.Glare) > 2e-4 || math.Abs(c.Edges-rec.Cues.Edges) > 2e-4 {
				t.Errorf("%s frame %d: PAD %.4f cues %+v, recorded %.4f %+v", clip, i, s, c, rec.PAD, rec.Cues)
			}
		}
	}
}
