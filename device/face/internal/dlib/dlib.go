// Package dlib is device/face's cgo glue to dlib: the HOG frontal face
// detector and a shape predictor (dlib.cc, driven on packed RGB pixels),
// plus OpenBLAS's thread count and a heap trim. It is the only package of
// device/face's own code with import "C", so that a change to the pure-Go
// rules of device/face (photo, guidance, liveness) recompiles no C++.
package dlib

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

// ErrClosed is returned by a Landmarker used after Close.
var ErrClosed = errors.New("face engine closed")

// Landmarker wraps dlib's HOG frontal face detector and a shape predictor.
// It is safe for concurrent use: the C side serialises detector calls and
// the shape predictor is read-only.
type Landmarker struct {
	ptr   *C.ekf_det
	parts int
}

// New loads the shape predictor at spPath and builds a HOG detector.
func New(spPath string) (*Landmarker, error) {
	cpath := C.CString(spPath)
	defer C.free(unsafe.Pointer(cpath))
	errb := (*C.char)(C.calloc(errBufLen, 1))
	defer C.free(unsafe.Pointer(errb))
	p := C.ekf_det_new(cpath, errb, errBufLen)
	if p == nil {
		return nil, fmt.Errorf("load shape predictor %s: %s", spPath, C.GoString(errb))
	}
	return &Landmarker{ptr: p, parts: int(C.ekf_num_parts(p))}, nil
}

// Close frees the detector and the predictor; later calls fail with
// ErrClosed. Close is not safe to call concurrently with other methods.
func (l *Landmarker) Close() {
	if l.ptr != nil {
		C.ekf_det_free(l.ptr)
		l.ptr = nil
	}
}

// Parts is the number of landmarks the loaded predictor yields (68 or 5).
func (l *Landmarker) Parts() int { return l.parts }

// Detection is one face in input pixel coordinates.
type Detection struct {
	Rect   image.Rectangle
	Score  float64
	Points []image.Point
}

// checkPix validates a packed RGB buffer of w×h pixels.
func checkPix(pix []byte, w, h int) error {
	if w <= 0 || h <= 0 {
		return errors.New("empty image")
	}
	if len(pix) < 3*w*h {
		return fmt.Errorf("rgb buffer of %d bytes is short for %d×%d pixels", len(pix), w, h)
	}
	return nil
}

// Detect finds faces on pix, a packed RGB buffer (3 bytes a pixel,
// row-major) of w×h pixels. scale resizes the image before detection (<1
// shrinks), upsample doubles it that many times afterwards; adjust shifts
// the detector's threshold (negative finds more). It returns at most
// maxFaces detections, best first, with the predictor's landmarks found on
// the full-resolution image, and the total number of faces found.
func (l *Landmarker) Detect(pix []byte, w, h int, scale float64, upsample int, adjust float64, maxFaces int) ([]Detection, int, error) {
	if l.ptr == nil {
		return nil, 0, ErrClosed
	}
	if err := checkPix(pix, w, h); err != nil {
		return nil, 0, err
	}
	if maxFaces < 1 {
		maxFaces = 1
	}
	rects := make([]C.int, 4*maxFaces)
	scores := make([]C.double, maxFaces)
	parts := make([]C.int, 2*l.parts*maxFaces)
	errb := (*C.char)(C.calloc(errBufLen, 1))
	defer C.free(unsafe.Pointer(errb))
	n := C.ekf_detect(l.ptr, (*C.uchar)(unsafe.Pointer(&pix[0])), C.int(w), C.int(h),
		C.double(scale), C.int(upsample), C.double(adjust), C.int(maxFaces),
		&rects[0], &scores[0], &parts[0], errb, errBufLen)
	if n < 0 {
		return nil, 0, fmt.Errorf("detect faces: %s", C.GoString(errb))
	}
	total := int(n)
	k := min(total, maxFaces)
	out := make([]Detection, k)
	for i := range k {
		f := Detection{
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

// Landmarks predicts the landmarks inside r on pix (packed RGB, w×h).
func (l *Landmarker) Landmarks(pix []byte, w, h int, r image.Rectangle) ([]image.Point, error) {
	if l.ptr == nil {
		return nil, ErrClosed
	}
	if err := checkPix(pix, w, h); err != nil {
		return nil, err
	}
	parts := make([]C.int, 2*l.parts)
	errb := (*C.char)(C.calloc(errBufLen, 1))
	defer C.free(unsafe.Pointer(errb))
	n := C.ekf_landmarks(l.ptr, (*C.uchar)(unsafe.Pointer(&pix[0])), C.int(w), C.int(h),
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

// SetBLASThreads pins OpenBLAS to n threads when OpenBLAS is the BLAS in
// use (the OPENBLAS_NUM_THREADS variable only works when set before the
// process starts). It reports whether OpenBLAS was found.
func SetBLASThreads(n int) bool {
	return C.ekf_set_blas_threads(C.int(n)) == 1
}

// Trim returns freed C heap memory to the system.
func Trim() { C.ekf_trim() }
