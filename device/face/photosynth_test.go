package face

import (
	"errors"
	"image"
	"math"
	"slices"
	"testing"
)

// Synthetic pixels for the photo-rule tests: a plain background, and for
// each face (drawn from its landmarks, so a transformed face is drawn where
// its landmarks went) a textured skin-coloured head, hair above the brows
// and a dark shirt below the chin. A portrait drawn from the landmarks of
// the kiosk's own photo passes every rule; each test then breaks one.

// rgb is one colour.
type rgb [3]byte

var (
	white = rgb{250, 250, 250}
	skin  = rgb{205, 160, 135}
	hair  = rgb{45, 35, 30}
	shirt = rgb{35, 55, 110}
)

// fill paints every pixel of px with c.
func fill(px *rgbImage, c rgb) {
	for i := 0; i < len(px.Pix); i += 3 {
		px.Pix[i], px.Pix[i+1], px.Pix[i+2] = c[0], c[1], c[2]
	}
}

// newPhoto is a w×h image of colour c.
func newPhoto(w, h int, c rgb) *rgbImage {
	px := &rgbImage{W: w, H: h, Pix: make([]byte, 3*w*h)}
	fill(px, c)
	return px
}

// set paints pixel (x, y) when it lies inside px.
func (m *rgbImage) set(x, y int, c rgb) {
	if x < 0 || y < 0 || x >= m.W || y >= m.H {
		return
	}
	copy(m.Pix[3*(y*m.W+x):], c[:])
}

// noise is a fixed pseudo-random value in -1..1 for pixel (x, y).
func noise(x, y int) float64 {
	h := uint32(x)*73856093 ^ uint32(y)*19349663
	h ^= h >> 13
	h *= 0x5bd1e995
	h ^= h >> 15
	return float64(h%2001)/1000 - 1
}

// spans returns, for the row at height y, the x ranges inside the polygon
// poly (even-odd rule), as pairs of crossings.
func spans(poly []pt, y float64) []float64 {
	var xs []float64
	for i, j := 0, len(poly)-1; i < len(poly); j, i = i, i+1 {
		a, b := poly[i], poly[j]
		if (a.Y > y) != (b.Y > y) {
			xs = append(xs, (b.X-a.X)*(y-a.Y)/(b.Y-a.Y)+a.X)
		}
	}
	slices.Sort(xs)
	return xs
}

// drawFace draws the head of the 68 landmarks p on px: skin with a fixed
// texture (so the face is sharp) inside the jaw line closed by an arc up
// to the crown (headBox's), hair above the brows, a shirt below the chin.
func drawFace(px *rgbImage, p []pt) {
	top, bottom, left, right := headBox(p)
	brow := mid(p[19], p[24]).Y
	hw := right - left
	// The shirt: from a little below the chin to the bottom edge.
	for y := int(bottom + 0.1*(bottom-top)); y < px.H; y++ {
		for x := int(left - 0.4*hw); x <= int(right+0.4*hw); x++ {
			px.set(x, y, shirt)
		}
	}
	poly := slices.Clone(p[lmJawFirst : lmJawLast+1])
	cx, cy := (p[0].X+p[16].X)/2, (p[0].Y+p[16].Y)/2
	rx, ry := math.Max(dist(p[0], p[16])/2, 1), cy-top
	for k := 1; k < 24; k++ { // from the image-right temple over the crown to the left one
		a := math.Pi * float64(k) / 24
		poly = append(poly, pt{cx + rx*math.Cos(a), cy - ry*math.Sin(a)})
	}
	hairLine := brow - 0.5*(brow-top)
	for y := int(top) - 1; y <= int(bottom)+1; y++ {
		xs := spans(poly, float64(y))
		for k := 0; k+1 < len(xs); k += 2 {
			for x := int(math.Ceil(xs[k])); float64(x) < xs[k+1]; x++ {
				c := skin
				if float64(y) < hairLine {
					c = hair
				}
				n := 14 * noise(x, y)
				px.set(x, y, rgb{clampByte(float64(c[0]) + n), clampByte(float64(c[1]) + n), clampByte(float64(c[2]) + n)})
			}
		}
	}
}

func clampByte(v float64) byte { return byte(math.Round(math.Min(math.Max(v, 0), 255))) }

// synthPhoto draws faces (smallest first, so the largest is on top) on a
// w×h photo of background bg.
func synthPhoto(w, h int, bg rgb, faces []Face) *rgbImage {
	px := newPhoto(w, h, bg)
	for i := len(faces) - 1; i >= 0; i-- {
		drawFace(px, toPts(faces[i].Landmarks))
	}
	return px
}

// found is a faceFinder that finds faces (as a detector would have).
func found(faces []Face) faceFinder {
	return func(px *rgbImage) ([]Face, error) {
		return slices.Clone(faces), nil
	}
}

var errFinder = errors.New("detector failed")

// failing is a faceFinder whose detector fails.
func failing(*rgbImage) ([]Face, error) { return nil, errFinder }

// mapFaces applies f to every landmark and box corner of faces.
func mapFaces(faces []Face, f func(pt) pt) []Face {
	out := make([]Face, len(faces))
	for i, fc := range faces {
		fc.Landmarks = slices.Clone(fc.Landmarks)
		for j, p := range fc.Landmarks {
			q := f(pt{float64(p.X), float64(p.Y)})
			fc.Landmarks[j] = image.Pt(int(math.Round(q.X)), int(math.Round(q.Y)))
		}
		a, b := f(pt{float64(fc.Rect.Min.X), float64(fc.Rect.Min.Y)}), f(pt{float64(fc.Rect.Max.X), float64(fc.Rect.Max.Y)})
		fc.Rect = image.Rect(int(math.Round(a.X)), int(math.Round(a.Y)), int(math.Round(b.X)), int(math.Round(b.Y)))
		out[i] = fc
	}
	return out
}

// check runs the image rules of spec on px with faces found.
func check(t *testing.T, px *rgbImage, spec PhotoSpec, faces []Face) PhotoReport {
	t.Helper()
	r := PhotoReport{Problems: []Problem{}}
	checkPhoto(&r, px, spec, found(faces))
	return r
}
