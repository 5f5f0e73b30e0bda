package dlib

import (
	"errors"
	"image"
	"path/filepath"
	"strings"
	"testing"

	"examkiosk/internal/testenv"
)

func TestNewMissingModel(t *testing.T) {
	_, err := New(filepath.Join(t.TempDir(), "none.dat"))
	if err == nil || !strings.Contains(err.Error(), "load shape predictor") {
		t.Fatalf("New(missing) = %v, want a load error", err)
	}
}

func TestLandmarker(t *testing.T) {
	l, err := New(filepath.Join(testenv.ModelsDir(t), "shape_predictor_5_face_landmarks.dat"))
	if err != nil {
		t.Fatal(err)
	}
	if l.Parts() != 5 {
		t.Fatalf("Parts = %d, want 5", l.Parts())
	}
	const w, h = 64, 48
	pix := make([]byte, 3*w*h)
	if _, _, err := l.Detect(pix[:10], w, h, 1, 0, 0, 1); err == nil {
		t.Error("Detect on a short buffer: no error")
	}
	if _, _, err := l.Detect(nil, 0, h, 1, 0, 0, 1); err == nil {
		t.Error("Detect on an empty image: no error")
	}
	faces, n, err := l.Detect(pix, w, h, 1, 0, 0, 0)
	if err != nil || n != 0 || len(faces) != 0 {
		t.Fatalf("Detect(black) = %v, %d, %v; want no face", faces, n, err)
	}
	pts, err := l.Landmarks(pix, w, h, faces0(w, h))
	if err != nil || len(pts) != 5 {
		t.Fatalf("Landmarks = %v, %v; want 5 points", pts, err)
	}
	l.Close()
	l.Close() // twice is harmless
	if _, _, err := l.Detect(pix, w, h, 1, 0, 0, 1); !errors.Is(err, ErrClosed) {
		t.Errorf("Detect after Close = %v, want ErrClosed", err)
	}
	if _, err := l.Landmarks(pix, w, h, faces0(w, h)); !errors.Is(err, ErrClosed) {
		t.Errorf("Landmarks after Close = %v, want ErrClosed", err)
	}
}

// faces0 is a box in the middle of a w×h image.
func faces0(w, h int) image.Rectangle { return image.Rect(w/4, h/4, 3*w/4, 3*h/4) }
