package face

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"flag"
	"image"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

// The photo-rule tests (photorules_fast_test.go) run without dlib and
// without ../shared/faces on what detection returned for the fixture
// photos, recorded once into recordedFacesFile by
//
//	go test ./device/face -run '^TestRecordPhotoFaces$' -record
//
// Only derived numbers are kept (boxes, landmarks, scores, the verdict
// codes of the whole pipeline at recording time), no pixels: where a rule
// needs pixels the tests draw synthetic ones around the landmarks.

var record = flag.Bool("record", false, "TestRecordPhotoFaces: write "+recordedFacesFile+" from the fixture photos")

const recordedFacesFile = "testdata/photofaces.json.gz"

// recordedPhoto is one fixture photo as detection saw it.
type recordedPhoto struct {
	// Name is the fixture's path below ../shared/faces; a photo the kiosk
	// made (MakeIDPhoto) from that fixture is named "made:" + Name.
	Name  string         `json:"name"`
	W     int            `json:"w"`
	H     int            `json:"h"`
	Faces []recordedFace `json:"faces"`
	// Codes are the problems ValidatePhoto (default spec) reported on the
	// real photo when it was recorded; nil when the file does not decode.
	Codes []Code `json:"codes"`
}

type recordedFace struct {
	Rect    [4]int  `json:"rect"` // min x, min y, max x, max y
	Score   float64 `json:"score"`
	Frontal bool    `json:"frontal"`
	Points  []int   `json:"points"` // x0, y0, x1, y1, … (68 landmarks)
}

func (f recordedFace) face() Face {
	pts := make([]image.Point, len(f.Points)/2)
	for i := range pts {
		pts[i] = image.Pt(f.Points[2*i], f.Points[2*i+1])
	}
	return Face{Rect: image.Rect(f.Rect[0], f.Rect[1], f.Rect[2], f.Rect[3]), Score: f.Score, Frontal: f.Frontal, Landmarks: pts}
}

func recordFace(f Face) recordedFace {
	r := recordedFace{Rect: [4]int{f.Rect.Min.X, f.Rect.Min.Y, f.Rect.Max.X, f.Rect.Max.Y}, Score: f.Score, Frontal: f.Frontal}
	for _, p := range f.Landmarks {
		r.Points = append(r.Points, p.X, p.Y)
	}
	return r
}

func (p recordedPhoto) faces() []Face {
	out := make([]Face, len(p.Faces))
	for i, f := range p.Faces {
		out[i] = f.face()
	}
	return out
}

var recorded struct {
	once   sync.Once
	photos []recordedPhoto
	err    error
}

// recordedPhotos reads recordedFacesFile.
func recordedPhotos(t testing.TB) []recordedPhoto {
	t.Helper()
	recorded.once.Do(func() {
		recorded.err = decodeGzipJSON(recordedFacesFile, &recorded.photos)
	})
	if recorded.err != nil {
		t.Fatalf("%s: %v (write it with go test ./device/face -run '^TestRecordPhotoFaces$' -record)", recordedFacesFile, recorded.err)
	}
	return recorded.photos
}

// recordedPhotoNamed returns the recorded photo called name.
func recordedPhotoNamed(t testing.TB, name string) recordedPhoto {
	t.Helper()
	for _, p := range recordedPhotos(t) {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("%s holds no photo %q", recordedFacesFile, name)
	return recordedPhoto{}
}

// recordFixtures are the fixture folders recorded: the ID photo set and
// the verification set (frontal photos of many people, for the pose rule
// on a population).
var recordFixtures = []string{"idphoto/*/*", "verify/*/*.jpg"}

// TestRecordPhotoFaces writes recordedFacesFile with -record. Without it,
// it checks that detection still returns what was recorded (so the
// recorded data cannot silently go stale) on a few of the photos.
func TestRecordPhotoFaces(t *testing.T) {
	if !*record && testing.Short() {
		t.Skip("-short: detection is not re-checked against " + recordedFacesFile)
	}
	dir := facesDir(t)
	e := testEngine(t)
	spec := DefaultPhotoSpec()
	var names []string
	for _, g := range recordFixtures {
		m, err := filepath.Glob(filepath.Join(dir, g))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range m {
			rel, _ := filepath.Rel(dir, f)
			names = append(names, rel)
		}
	}
	slices.Sort(names)
	if !*record {
		// A frontal portrait (and the kiosk's photo of it) and two faces:
		// a few seconds, not the minute of the whole set.
		names = slices.DeleteFunc(names, func(n string) bool {
			return n != "idphoto/portrait/deepface_img11.jpg" && n != "idphoto/multiple-faces/compreface_two-faces.jpg"
		})
	}
	var out []recordedPhoto
	add := func(name string, data []byte) *recordedPhoto {
		p := recordedPhoto{Name: name, Faces: []recordedFace{}}
		r, err := e.ValidatePhoto(data, spec)
		if err != nil {
			t.Fatal(err)
		}
		img, err := DecodeImage(data)
		if err == nil {
			p.Codes = codesOf(r.Problems)
			px := toRGB(img)
			p.W, p.H = px.W, px.H
			faces, err := e.photoFaces(px)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			for _, f := range faces {
				p.Faces = append(p.Faces, recordFace(f))
			}
		}
		out = append(out, p)
		return &out[len(out)-1]
	}
	for _, n := range names {
		data := readFile(t, filepath.Join(dir, n))
		add(n, data)
		if filepath.Dir(n) == "idphoto/portrait" {
			img, err := DecodeImage(data)
			if err != nil {
				t.Fatal(err)
			}
			jpg, _, err := e.MakeIDPhoto(context.Background(), img, spec)
			if err != nil {
				t.Fatalf("make %s: %v", n, err)
			}
			add("made:"+n, jpg)
		}
	}
	if !*record {
		for _, got := range out {
			want := recordedPhotoNamed(t, got.Name)
			gb, _ := json.Marshal(got)
			wb, _ := json.Marshal(want)
			if string(gb) != string(wb) {
				t.Errorf("%s: detection now gives\n%s\nrecorded:\n%s\n(record again: go test ./device/face -run '^TestRecordPhotoFaces$' -record)", got.Name, gb, wb)
			}
		}
		return
	}
	writeGzipJSON(t, recordedFacesFile, out)
	t.Logf("wrote %d photos to %s", len(out), recordedFacesFile)
}

// decodeGzipJSON reads the gzipped JSON file path into v.
func decodeGzipJSON(path string, v any) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	return json.NewDecoder(z).Decode(v)
}

// readGzipJSON reads the gzipped JSON file path into v or fails t.
func readGzipJSON(t testing.TB, path string, v any) {
	t.Helper()
	if err := decodeGzipJSON(path, v); err != nil {
		t.Fatalf("%s: %v (written by the test with -record)", path, err)
	}
}

// writeGzipJSON writes v to path as gzipped JSON.
func writeGzipJSON(t testing.TB, path string, v any) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	z := gzip.NewWriter(f)
	if err := json.NewEncoder(z).Encode(v); err != nil {
		t.Fatal(err)
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
