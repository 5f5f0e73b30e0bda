package faceindex

import "golang.org/x/sys/cpu"

// dotsAVX2 is the AVX2 kernel of dots (dot_amd64.s).
//
//go:noescape
func dotsAVX2(q []int16, rows []int8, out []int32)

// hasAVX2 is whether the CPU runs the AVX2 kernel.
var hasAVX2 = cpu.X86.HasAVX2

// dots sets out[i] to the dot product of q with row i of rows (len(q)
// values each).
func dots(q []int16, rows []int8, out []int32) {
	if len(rows) != len(q)*len(out) {
		panic("faceindex: dots: rows and out sizes differ")
	}
	if hasAVX2 && len(q)%16 == 0 {
		dotsAVX2(q, rows, out)
		return
	}
	dotsGo(q, rows, out)
}
