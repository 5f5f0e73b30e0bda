package face

import (
	"image"

	"examkiosk/device/face/internal/dlib"
)

// landmarker adapts dlib.Landmarker (the cgo glue, in its own package so
// that this package has no import "C") to the package's rgbImage.
type landmarker struct{ d *dlib.Landmarker }

func newLandmarker(spPath string) (*landmarker, error) {
	d, err := dlib.New(spPath)
	if err != nil {
		return nil, err
	}
	return &landmarker{d: d}, nil
}

func (l *landmarker) close() { l.d.Close() }

// rawFace is one detection in input pixel coordinates.
type rawFace = dlib.Detection

// detect finds faces on an RGB image; see dlib.Landmarker.Detect.
func (l *landmarker) detect(px *rgbImage, scale float64, upsample int, adjust float64, maxFaces int) ([]rawFace, int, error) {
	return l.d.Detect(px.Pix, px.W, px.H, scale, upsample, adjust, maxFaces)
}

// landmarks predicts the landmarks inside r.
func (l *landmarker) landmarks(px *rgbImage, r image.Rectangle) ([]image.Point, error) {
	return l.d.Landmarks(px.Pix, px.W, px.H, r)
}

// setBLASThreads pins OpenBLAS to n threads; see dlib.SetBLASThreads.
func setBLASThreads(n int) bool { return dlib.SetBLASThreads(n) }

// trimHeap returns freed C heap memory to the system.
func trimHeap() { dlib.Trim() }
