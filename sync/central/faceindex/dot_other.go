//go:build !amd64

package faceindex

// dots sets out[i] to the dot product of q with row i of rows (len(q)
// values each).
func dots(q []int16, rows []int8, out []int32) {
	if len(rows) != len(q)*len(out) {
		panic("faceindex: dots: rows and out sizes differ")
	}
	dotsGo(q, rows, out)
}
