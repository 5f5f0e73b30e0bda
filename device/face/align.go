package face

import "math"

// AlignSize is the side of the aligned face crop the ONNX recognisers take.
const AlignSize = 112

// arcFaceTemplate is the standard ArcFace/InsightFace five-point template
// for 112×112 crops (pixel-index coordinates): eye centres (left and right
// in the image), nose tip, mouth corners.
var arcFaceTemplate = [5]pt{
	{38.2946, 51.6963}, {73.5318, 51.5014}, {56.0252, 71.7366}, {41.5493, 92.3655}, {70.7299, 92.2041},
}

// dlib5Template is where dlib's five landmarks (shape_predictor_5_face_landmarks:
// in its order, the outer and inner corner of the eye on the image's right,
// the outer and inner corner of the other eye, and the base of the nose)
// fall in the 112×112 ArcFace crop. dlib's points are eye corners and the
// nose base, not the template's eye centres, nose tip and mouth corners, so
// they are mapped onto it: each face's ArcFace points, taken from its 68
// landmarks (eye centres = mean of the six eye points, nose tip = 30, mouth
// corners = 48 and 54), are fitted onto arcFaceTemplate by a similarity, and
// the same transform carries the face's five dlib points into the crop;
// this is the mean over the 510 frontal faces (yaw and pitch within 15°)
// of ../shared/faces/eastasia and verify. TestDlib5Template re-derives it
// and checks it still holds within a pixel.
var dlib5Template = [5]pt{
	{81.2541, 52.3349}, {66.8999, 53.3220}, {30.6125, 52.5184}, {44.9050, 53.3917}, {55.8996, 80.4821},
}

// similarity maps (u, v) to (a·u − b·v + tx, b·u + a·v + ty): rotation,
// uniform scale and translation.
type similarity struct{ a, b, tx, ty float64 }

func (s similarity) apply(p pt) pt {
	return pt{s.a*p.X - s.b*p.Y + s.tx, s.b*p.X + s.a*p.Y + s.ty}
}

// fitSimilarity is the least-squares similarity carrying src onto dst
// (closed form: centre both sets, then a and b from the cross sums). It
// reports false when src has no extent.
func fitSimilarity(src, dst []pt) (similarity, bool) {
	n := float64(len(src))
	if len(src) != len(dst) || len(src) < 2 {
		return similarity{}, false
	}
	var ms, md pt
	for i := range src {
		ms.X += src[i].X / n
		ms.Y += src[i].Y / n
		md.X += dst[i].X / n
		md.Y += dst[i].Y / n
	}
	var sa, sb, ss float64
	for i := range src {
		x, y := src[i].X-ms.X, src[i].Y-ms.Y
		u, v := dst[i].X-md.X, dst[i].Y-md.Y
		sa += x*u + y*v
		sb += x*v - y*u
		ss += x*x + y*y
	}
	if ss < 1e-9 {
		return similarity{}, false
	}
	a, b := sa/ss, sb/ss
	return similarity{a: a, b: b, tx: md.X - (a*ms.X - b*ms.Y), ty: md.Y - (b*ms.X + a*ms.Y)}, true
}

// alignFace warps the face whose five dlib landmarks are p5 onto the
// AlignSize×AlignSize ArcFace crop: a least-squares similarity from the
// crop's template onto the landmarks, then bilinear sampling (with a box
// prefilter when the face is large). It reports false for degenerate
// landmarks.
func alignFace(px *rgbImage, p5 []pt) (*rgbImage, bool) {
	t, ok := fitSimilarity(dlib5Template[:], p5)
	if !ok || math.Hypot(t.a, t.b) < 1e-3 {
		return nil, false
	}
	// sample() maps output pixel centres (u+½, v+½) through
	// (x0 + fu·ux + fv·vx − ½); choose x0, y0 so that pixel index (u, v)
	// lands on t(u, v) in pixel-index coordinates.
	x0 := t.tx - t.a/2 + t.b/2 + 0.5
	y0 := t.ty - t.b/2 - t.a/2 + 0.5
	// sample() box-filters its whole source first when the face is large:
	// give it only the region the crop reads, cut at a multiple of the
	// filter's factor so that the result is the same as on the full image.
	f := 1
	if step := math.Hypot(t.a, t.b); step >= 2 {
		f = int(step)
	}
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, c := range []pt{{0, 0}, {AlignSize, 0}, {0, AlignSize}, {AlignSize, AlignSize}} {
		q := t.apply(c)
		minX, maxX = math.Min(minX, q.X), math.Max(maxX, q.X)
		minY, maxY = math.Min(minY, q.Y), math.Max(maxY, q.Y)
	}
	pad := float64(2*f + 2)
	rx0 := max(int(math.Floor(minX-pad)), 0) / f * f
	ry0 := max(int(math.Floor(minY-pad)), 0) / f * f
	rx1 := min(int(math.Ceil(maxX+pad)), px.W)
	ry1 := min(int(math.Ceil(maxY+pad)), px.H)
	if rx0 > 0 || ry0 > 0 || rx1 < px.W || ry1 < px.H {
		if rx1-rx0 >= f && ry1-ry0 >= f {
			// keep whole filter blocks unless the region ends at the image's edge
			if rx1 < px.W {
				rx1 = rx0 + (rx1-rx0)/f*f
			}
			if ry1 < px.H {
				ry1 = ry0 + (ry1-ry0)/f*f
			}
			px = px.region(rx0, ry0, rx1, ry1)
			x0, y0 = x0-float64(rx0), y0-float64(ry0)
		}
	}
	return px.sample(x0, y0, t.a, t.b, -t.b, t.a, AlignSize, AlignSize), true
}

// region copies the pixels of [x0, x1) × [y0, y1), which lie inside m.
func (m *rgbImage) region(x0, y0, x1, y1 int) *rgbImage {
	w, h := x1-x0, y1-y0
	out := &rgbImage{W: w, H: h, Pix: make([]byte, 3*w*h)}
	for y := range h {
		copy(out.Pix[3*y*w:3*(y+1)*w], m.Pix[3*((y0+y)*m.W+x0):3*((y0+y)*m.W+x1)])
	}
	return out
}
