package face

// #cgo CXXFLAGS: -std=c++17 -O3 -DNDEBUG -Wall
// #cgo LDFLAGS: -ldlib -lblas -llapack -ldl
// #include <stdlib.h>
// #include "dlib.h"
import "C"

import (
	"errors"
	"fmt"
	"image"
	"unsafe"
)

const errBufLen = 512

// landmarker wraps dlib's HOG frontal face detector and a shape predictor.
// It is safe for concurrent use: the C side serialises detector calls and
// the shape predictor is read-only.
type landmarker struct {
	ptr   *C.ekf_det
	parts int
}

func newLandmarker(spPath string) (*landmarker, error) {
	cpath := C.CString(spPath)
	defer C.free(unsafe.Pointer(cpath))
	errb := (*C.char)(C.calloc(errBufLen, 1))
	defer C.free(unsafe.Pointer(errb))
	p := C.ekf_det_new(cpath, errb, errBufLen)
	if p == nil {
		return nil, fmt.Errorf("load shape predictor %s: %s", spPath, C.GoString(errb))
	}
	return &landmarker{ptr: p, parts: int(C.ekf_num_parts(p))}, nil
}

func (l *landmarker) close() {
	if l.ptr != nil {
		C.ekf_det_free(l.ptr)
		l.ptr = nil
	}
}

// rawFace is one detection in input pixel coordinates.
type rawFace struct {
	Rect   image.Rectangle
	Score  float64
	Points []image.Point
}

// detect finds faces on an RGB buffer. scale resizes the image before
// detection (<1 shrinks), upsample doubles it that many times afterwards;
// adjust shifts the detector's threshold (negative finds more).
func (l *landmarker) detect(px *rgbImage, scale float64, upsample int, adjust float64, maxFaces int) ([]rawFace, int, error) {
	if l.ptr == nil {
		return nil, 0, errors.New("face engine closed")
	}
	if px.W == 0 || px.H == 0 {
		return nil, 0, errors.New("empty image")
	}
	if maxFaces < 1 {
		maxFaces = 1
	}
	rects := make([]C.int, 4*maxFaces)
	scores := make([]C.double, maxFaces)
	parts := make([]C.int, 2*l.parts*maxFaces)
	errb := (*C.char)(C.calloc(errBufLen, 1))
	defer C.free(unsafe.Pointer(errb))
	n := C.ekf_detect(l.ptr, (*C.uchar)(unsafe.Pointer(&px.Pix[0])), C.int(px.W), C.int(px.H),
		C.double(scale), C.int(upsample), C.double(adjust), C.int(maxFaces),
		&rects[0], &scores[0], &parts[0], errb, errBufLen)
	if n < 0 {
		return nil, 0, fmt.Errorf("detect faces: %s", C.GoString(errb))
	}
	total := int(n)
	k := min(total, maxFaces)
	out := make([]rawFace, k)
	for i := range k {
		f := rawFace{
			Rect:   image.Rect(int(rects[4*i]), int(rects[4*i+1]), int(rects[4*i+2]), int(rects[4*i+3])),
			Score:  float64(scores[i]),
			Points: make([]image.Point, l.parts),
		}
		for j := range l.parts {
			f.Points[j] = image.Pt(int(parts[2*(i*l.parts+j)]), int(parts[2*(i*l.parts+j)+1]))
		}
		out[i] = f
	}
	return out, total, nil
}

// landmarks predicts the landmarks inside r.
func (l *landmarker) landmarks(px *rgbImage, r image.Rectangle) ([]image.Point, error) {
	if l.ptr == nil {
		return nil, errors.New("face engine closed")
	}
	parts := make([]C.int, 2*l.parts)
	errb := (*C.char)(C.calloc(errBufLen, 1))
	defer C.free(unsafe.Pointer(errb))
	n := C.ekf_landmarks(l.ptr, (*C.uchar)(unsafe.Pointer(&px.Pix[0])), C.int(px.W), C.int(px.H),
		C.int(r.Min.X), C.int(r.Min.Y), C.int(r.Max.X), C.int(r.Max.Y), &parts[0], errb, errBufLen)
	if n < 0 {
		return nil, fmt.Errorf("predict landmarks: %s", C.GoString(errb))
	}
	pts := make([]image.Point, l.parts)
	for j := range pts {
		pts[j] = image.Pt(int(parts[2*j]), int(parts[2*j+1]))
	}
	return pts, nil
}

// setBLASThreads pins OpenBLAS to n threads when OpenBLAS is the BLAS in
// use (the OPENBLAS_NUM_THREADS variable only works when set before the
// process starts). It reports whether OpenBLAS was found.
func setBLASThreads(n int) bool {
	return C.ekf_set_blas_threads(C.int(n)) == 1
}

// trimHeap returns freed C heap memory to the system.
func trimHeap() { C.ekf_trim() }
