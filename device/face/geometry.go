package face

import (
	"image"
	"math"
)

// pt is a landmark in floating point.
type pt struct{ X, Y float64 }

func toPts(ps []image.Point) []pt {
	out := make([]pt, len(ps))
	for i, p := range ps {
		out[i] = pt{float64(p.X), float64(p.Y)}
	}
	return out
}

func dist(a, b pt) float64 { return math.Hypot(a.X-b.X, a.Y-b.Y) }

func mid(ps ...pt) pt {
	var m pt
	for _, p := range ps {
		m.X += p.X
		m.Y += p.Y
	}
	n := float64(len(ps))
	return pt{m.X / n, m.Y / n}
}

// Landmark indices of the iBUG 68-point scheme used by
// shape_predictor_68_face_landmarks.dat ("left"/"right" as seen in the image).
const (
	lmJawFirst   = 0
	lmChin       = 8
	lmJawLast    = 16
	lmBrowFirst  = 17
	lmBrowLast   = 26
	lmNoseTop    = 27
	lmNoseTip    = 30
	lmLeftEye    = 36 // 36..41, image-left eye
	lmRightEye   = 42 // 42..47
	lmMouthLeft  = 48
	lmMouthRight = 54
	lmInnerLip   = 60 // 60..67
)

// eyeAspect is the eye aspect ratio (Soukupová and Čech, 2016) of the six
// points starting at i: about 0.3 for an open eye, below 0.15 when closed.
func eyeAspect(p []pt, i int) float64 {
	w := dist(p[i], p[i+3])
	if w == 0 {
		return 0
	}
	return (dist(p[i+1], p[i+5]) + dist(p[i+2], p[i+4])) / (2 * w)
}

// eyesOpen is the mean eye aspect ratio of both eyes.
func eyesOpen(p []pt) float64 { return (eyeAspect(p, lmLeftEye) + eyeAspect(p, lmRightEye)) / 2 }

// mouthOpen is the inner-lip aspect ratio: about 0 closed, above 0.4 wide open.
func mouthOpen(p []pt) float64 {
	w := dist(p[60], p[64])
	if w == 0 {
		return 0
	}
	return (dist(p[61], p[67]) + dist(p[62], p[66]) + dist(p[63], p[65])) / (3 * w)
}

// Pose is the head orientation in degrees. Yaw is positive when the face
// points toward the image's right (for an unmirrored camera frame that is
// the candidate turning to their own left), pitch positive when looking up,
// roll positive when the head leans so that the image-right eye is lower.
type Pose struct {
	Yaw   float64 `json:"yaw"`
	Pitch float64 `json:"pitch"`
	Roll  float64 `json:"roll"`
}

// Head geometry of an average adult, in millimetres, used by estimatePose
// under weak perspective (the face is small against its distance to the
// camera). Offsets are from the nose tip; depths are behind it.
const (
	eyeHalfWidth   = 45.0 // half the distance between the outer eye corners
	eyeDepth       = 40.0
	mouthHalfWidth = 25.0 // half the mouth width
	mouthDepth     = 35.0
)

// noseRatio is where the nose tip sits between the eye line and the mouth
// line of a frontal face: the median over the 76 photos of
// ../shared/faces/verify measures 0.531.
const noseRatio = 0.531

// estimatePose measures the head pose from the nose tip's offset against
// symmetric landmarks. Under weak perspective a pair at (±a, depth d behind
// the nose tip) turned by yaw θ projects with its midpoint offset from the
// nose by d·sinθ and half-width a·cosθ, so tanθ = offset/halfwidth · a/d;
// yaw averages the eye-corner and mouth-corner pairs. Pitch follows in the
// same way from where the nose tip falls between the eye and mouth lines.
// Roll is the angle of the line through the eye centres. On real faces the
// error is several degrees (individual anatomy, landmark noise).
func estimatePose(p []pt) Pose {
	yawPair := func(a, b int, half, depth float64) float64 {
		m := mid(p[a], p[b])
		hw := dist(p[a], p[b]) / 2
		if hw == 0 {
			return 0
		}
		ux, uy := (p[b].X-p[a].X)/(2*hw), (p[b].Y-p[a].Y)/(2*hw) // along the (rolled) pair
		off := (p[lmNoseTip].X-m.X)*ux + (p[lmNoseTip].Y-m.Y)*uy
		return deg(math.Atan(off / hw * half / depth))
	}
	var pose Pose
	pose.Yaw = (yawPair(36, 45, eyeHalfWidth, eyeDepth) + yawPair(48, 54, mouthHalfWidth, mouthDepth)) / 2
	eyes, mouth := mid(p[36], p[45]), mid(p[48], p[54])
	if l := dist(eyes, mouth); l > 0 {
		vx, vy := (mouth.X-eyes.X)/l, (mouth.Y-eyes.Y)/l
		r := ((p[lmNoseTip].X-eyes.X)*vx + (p[lmNoseTip].Y-eyes.Y)*vy) / l
		// r·(L·cosφ + (De−Dm)·sinφ) = Ye·cosφ + De·sinφ, with L = 1 and
		// Ye = noseRatio in units of the eye-to-mouth distance (≈ 65 mm).
		const L = 65.0
		pose.Pitch = -deg(math.Atan(L * (r - noseRatio) / (eyeDepth - r*(eyeDepth-mouthDepth))))
	}
	le, re := mid(p[36:42]...), mid(p[42:48]...)
	pose.Roll = deg(math.Atan2(re.Y-le.Y, re.X-le.X))
	return pose
}

func deg(r float64) float64 { return r * 180 / math.Pi }

func inv3(m [3][3]float64) ([3][3]float64, bool) {
	det := m[0][0]*(m[1][1]*m[2][2]-m[1][2]*m[2][1]) -
		m[0][1]*(m[1][0]*m[2][2]-m[1][2]*m[2][0]) +
		m[0][2]*(m[1][0]*m[2][1]-m[1][1]*m[2][0])
	if math.Abs(det) < 1e-12 {
		return [3][3]float64{}, false
	}
	var r [3][3]float64
	r[0][0] = (m[1][1]*m[2][2] - m[1][2]*m[2][1]) / det
	r[0][1] = (m[0][2]*m[2][1] - m[0][1]*m[2][2]) / det
	r[0][2] = (m[0][1]*m[1][2] - m[0][2]*m[1][1]) / det
	r[1][0] = (m[1][2]*m[2][0] - m[1][0]*m[2][2]) / det
	r[1][1] = (m[0][0]*m[2][2] - m[0][2]*m[2][0]) / det
	r[1][2] = (m[0][2]*m[1][0] - m[0][0]*m[1][2]) / det
	r[2][0] = (m[1][0]*m[2][1] - m[1][1]*m[2][0]) / det
	r[2][1] = (m[0][1]*m[2][0] - m[0][0]*m[2][1]) / det
	r[2][2] = (m[0][0]*m[1][1] - m[0][1]*m[1][0]) / det
	return r, true
}

// affine2 is x' = A·x + t.
type affine2 struct{ a, b, c, d, tx, ty float64 }

func (f affine2) apply(p pt) pt {
	return pt{f.a*p.X + f.b*p.Y + f.tx, f.c*p.X + f.d*p.Y + f.ty}
}

// fitAffine finds the least-squares affine map taking src[i] to dst[i] for
// i in idx. A planar photo moved, scaled or tilted in front of a camera
// moves its landmarks (almost exactly) by such a map; a real head turning
// or a real eye closing does not.
func fitAffine(src, dst []pt, idx []int) (affine2, bool) {
	// Normal equations for [x y 1] with two right-hand sides.
	var S [3][3]float64
	var bx, by [3]float64
	for _, i := range idx {
		v := [3]float64{src[i].X, src[i].Y, 1}
		for r := range 3 {
			for c := range 3 {
				S[r][c] += v[r] * v[c]
			}
			bx[r] += v[r] * dst[i].X
			by[r] += v[r] * dst[i].Y
		}
	}
	Si, ok := inv3(S)
	if !ok {
		return affine2{}, false
	}
	var px, py [3]float64
	for r := range 3 {
		for c := range 3 {
			px[r] += Si[r][c] * bx[c]
			py[r] += Si[r][c] * by[c]
		}
	}
	return affine2{a: px[0], b: px[1], tx: px[2], c: py[0], d: py[1], ty: py[2]}, true
}

// interOcular is the distance between the eye centres.
func interOcular(p []pt) float64 { return dist(mid(p[36:42]...), mid(p[42:48]...)) }

// headBox estimates the whole head (crown to chin, ear to ear) from the
// landmarks: the crown is not a landmark, so it is placed above the brows
// by headCrownFactor times the brow-to-chin distance.
func headBox(p []pt) (top, bottom, left, right float64) {
	brow := mid(p[19], p[24])
	chin := p[lmChin]
	h := chin.Y - brow.Y
	top = brow.Y - headCrownFactor*h
	bottom = chin.Y
	left, right = p[0].X, p[16].X
	for i := lmJawFirst; i <= lmJawLast; i++ {
		left = math.Min(left, p[i].X)
		right = math.Max(right, p[i].X)
	}
	return
}

// headCrownFactor: crown-to-brow height as a fraction of brow-to-chin
// height for an average adult head with short hair.
const headCrownFactor = 0.6
