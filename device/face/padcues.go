package face

import (
	"image"
	"math"
	"math/cmplx"
	"slices"

	"gonum.org/v1/gonum/dsp/fourier"
)

// Hand-built presentation-attack cues, beside the PAD network: what a
// screen or a print held to the camera gives away in one frame.
//
//   - Moire: a screen's pixel grid (and a print's halftone) beaten against
//     the camera's sensor makes a periodic pattern over the face: isolated
//     peaks in the high frequencies of its spectrum, where skin has a smooth
//     fall-off and sensor noise a flat floor. The score is log10 of the
//     strongest high-frequency bin over the band's median, on a window of
//     the face at full resolution (gonum's FFT).
//   - Glare: a glossy photo or a screen reflects the room's lights as
//     saturated, flat patches. The score is the fraction of the face box
//     saturated (every channel ≥ 250).
//   - Edges: a phone's bezel or the border of a paper makes long straight
//     edges around the face. The score is the longest straight edge in the
//     network's crop around the face (face box × 2.7, the face itself left
//     out), as a fraction of the crop's side, from a Hough transform of the
//     strong gradients.
//
// The fourth cue, a flat depth across a turn, needs several frames: the
// motion detector's turn residual (turnResidual), which a photo turned in
// front of the camera does not reach; Liveness.Cues reports its peak.
// Each cue is scored on the frames the network scores; a liveness session
// fuses their medians with the network's (FuseCues).
type Cues struct {
	Moire float64 `json:"moire"`
	Glare float64 `json:"glare"`
	Edges float64 `json:"edges"`
}

// PADCueLimits are the limits of the session medians of the cues. Set
// from the live population of the shared files (TestPADCueScores): every
// frame of the three live clips and the still of a live person lie below
// them, the medians well below (moiré 1.98–2.43, glare 0, edges
// 0.20–0.32). Moiré, as measured here, does not separate the attacks at
// hand (they score lower than live video), so its limit only catches a
// screen whose pattern stands out more than any live frame seen.
var PADCueLimits = Cues{Moire: 3.3, Glare: 0.02, Edges: 0.6}

// cuePenalty is what each cue past its limit takes off the network's
// median live score: one cue alone cannot refuse a face the network is
// sure of (live clips score 0.98–1.00), two can; a face the network is
// unsure about is refused on one.
const cuePenalty = 0.3

// SessionCues are a liveness session's cues: the median of each over the
// frames scored, and the peak turn residual (the flat-depth cue: a real
// turn of 10–20° measures 0.08–0.14, a photo turned in front of the camera
// 0.01–0.07, and a turn needs turnResidual).
type SessionCues struct {
	Cues
	TurnResidual float64 `json:"turn_residual"`
	Frames       int     `json:"frames"`
}

// Over names the cues past their limits.
func (s SessionCues) Over() []string {
	out := []string{}
	if s.Frames == 0 {
		return out
	}
	if s.Moire > PADCueLimits.Moire {
		out = append(out, "moire")
	}
	if s.Glare > PADCueLimits.Glare {
		out = append(out, "glare")
	}
	if s.Edges > PADCueLimits.Edges {
		out = append(out, "edges")
	}
	return out
}

// FuseCues is the session's live score with the cues: the network's median
// live score less cuePenalty for each cue past its limit. A session passes
// when it reaches PADThreshold.
func FuseCues(padScore float64, s SessionCues) float64 {
	return padScore - cuePenalty*float64(len(s.Over()))
}

const (
	moireN    = 64  // FFT window side, in image pixels (full resolution)
	moireBand = 0.2 // lowest radial frequency of the band, cycles/pixel
	edgeSide  = 96  // side of the resampled crop the Hough runs on
	edgeAngs  = 36  // Hough orientations (5° apart)
)

// CueScorer computes Cues. It keeps its FFT plan and buffers between
// frames, so it is not safe for concurrent use; make one per session.
type CueScorer struct {
	fft  *fourier.CmplxFFT
	win  []float64 // Hann window, moireN
	buf  []complex128
	rows []complex128
	cos  [edgeAngs]float64
	sin  [edgeAngs]float64
}

// NewCueScorer returns a scorer.
func NewCueScorer() *CueScorer {
	c := &CueScorer{fft: fourier.NewCmplxFFT(moireN), win: make([]float64, moireN),
		buf: make([]complex128, moireN*moireN), rows: make([]complex128, moireN)}
	for i := range c.win {
		c.win[i] = 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(moireN-1))
	}
	for a := range edgeAngs {
		th := math.Pi * float64(a) / edgeAngs
		c.cos[a], c.sin[a] = math.Cos(th), math.Sin(th)
	}
	return c
}

// Score computes the cues of the face in box of img. Only the face box is
// converted to RGB; the crop around it is read as luma and shrunk first.
func (c *CueScorer) Score(img image.Image, box image.Rectangle) Cues {
	b := img.Bounds()
	box = box.Sub(b.Min)
	all := image.Rect(0, 0, b.Dx(), b.Dy())
	fr := box.Intersect(all)
	var px *rgbImage
	if sub, ok := img.(interface {
		SubImage(image.Rectangle) image.Image
	}); ok {
		px = toRGB(sub.SubImage(fr.Add(b.Min)))
	} else {
		px = toRGB(img)
		fr = all
	}
	inFace := box.Sub(fr.Min)
	return Cues{Moire: c.moire(px, inFace), Glare: glare(px, inFace), Edges: c.edges(img, box)}
}

// moire is log10 of the strongest high-frequency bin of the face window's
// power spectrum over the median of that band.
func (c *CueScorer) moire(px *rgbImage, box image.Rectangle) float64 {
	r := box.Intersect(image.Rect(0, 0, px.W, px.H))
	if r.Dx() < moireN || r.Dy() < moireN {
		return 0
	}
	// The window's centre: between the eyes and the mouth, on the nose and
	// cheeks (skin, no hair or background).
	x0 := (r.Min.X+r.Max.X)/2 - moireN/2
	y0 := r.Min.Y + r.Dy()*11/20 - moireN/2
	var mean float64
	for y := range moireN {
		for x := range moireN {
			mean += px.luma(x0+x, y0+y)
		}
	}
	mean /= moireN * moireN
	for y := range moireN {
		for x := range moireN {
			c.buf[y*moireN+x] = complex((px.luma(x0+x, y0+y)-mean)*c.win[x]*c.win[y], 0)
		}
	}
	for y := range moireN { // rows, then columns
		row := c.buf[y*moireN : (y+1)*moireN]
		c.fft.Coefficients(row, row)
	}
	for x := range moireN {
		for y := range moireN {
			c.rows[y] = c.buf[y*moireN+x]
		}
		c.fft.Coefficients(c.rows, c.rows)
		for y := range moireN {
			c.buf[y*moireN+x] = c.rows[y]
		}
	}
	var band []float64
	peak := 0.0
	for v := range moireN {
		fv := float64(min(v, moireN-v)) / moireN
		for u := range moireN / 2 { // the other half mirrors it
			fu := float64(u) / moireN
			if math.Hypot(fu, fv) < moireBand {
				continue
			}
			p := cmplx.Abs(c.buf[v*moireN+u])
			p *= p
			band = append(band, p)
			peak = math.Max(peak, p)
		}
	}
	med := median(band)
	if med <= 0 {
		return 0
	}
	return math.Log10(peak / med)
}

// glare is the fraction of the face box saturated in every channel.
func glare(px *rgbImage, box image.Rectangle) float64 {
	r := box.Intersect(image.Rect(0, 0, px.W, px.H))
	if r.Empty() {
		return 0
	}
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			o := 3 * (y*px.W + x)
			if px.Pix[o] >= 250 && px.Pix[o+1] >= 250 && px.Pix[o+2] >= 250 {
				n++
			}
		}
	}
	return float64(n) / float64(r.Dx()*r.Dy())
}

// edges is the longest straight edge around the face, as a fraction of the
// side of the network's crop.
func (c *CueScorer) edges(img image.Image, box image.Rectangle) float64 {
	if box.Dx() < 8 || box.Dy() < 8 {
		return 0
	}
	b := img.Bounds()
	x0, y0, w, h := padRect(b.Dx(), b.Dy(), box)
	const n = edgeSide
	lum := lumaCrop(img, x0, y0, w, h, n)
	// The face box inside the crop, left out: its own contours are not a
	// bezel.
	fx0, fy0 := (float64(box.Min.X)-x0)*n/w, (float64(box.Min.Y)-y0)*n/h
	fx1, fy1 := (float64(box.Max.X)-x0)*n/w, (float64(box.Max.Y)-y0)*n/h
	type edge struct {
		x, y int
		ang  float64
	}
	var es []edge
	for y := 1; y < n-1; y++ {
		for x := 1; x < n-1; x++ {
			if float64(x) >= fx0 && float64(x) < fx1 && float64(y) >= fy0 && float64(y) < fy1 {
				continue
			}
			at := func(dx, dy int) float64 { return lum[(y+dy)*n+x+dx] }
			gx := at(1, -1) + 2*at(1, 0) + at(1, 1) - at(-1, -1) - 2*at(-1, 0) - at(-1, 1)
			gy := at(-1, 1) + 2*at(0, 1) + at(1, 1) - at(-1, -1) - 2*at(0, -1) - at(1, -1)
			if math.Hypot(gx, gy) >= 4*40 { // a step of 40 grey levels
				es = append(es, edge{x, y, math.Atan2(gy, gx)})
			}
		}
	}
	// Hough: each strong edge votes for the line through it along its own
	// orientation (±1 bin), so texture does not add up into lines.
	const rhoMax = n * 3 / 2 // |ρ| ≤ n·√2
	acc := make([]int, edgeAngs*2*rhoMax)
	for _, e := range es {
		th := math.Mod(e.ang+math.Pi, math.Pi) // normal's angle in [0, π)
		a0 := int(math.Round(th/math.Pi*edgeAngs)) % edgeAngs
		for da := -1; da <= 1; da++ {
			a := (a0 + da + edgeAngs) % edgeAngs
			rho := int(math.Round(float64(e.x)*c.cos[a]+float64(e.y)*c.sin[a])) + rhoMax
			if rho >= 0 && rho < 2*rhoMax {
				acc[a*2*rhoMax+rho]++
			}
		}
	}
	return float64(slices.Max(append(acc, 0))) / n
}

// lumaCrop samples the w×h region at (x0, y0) of img (origin-relative) as an
// n×n luma grid: box-filtered by the whole part of the step, then
// bilinear, as rgbImage.sample does. JPEG frames (YCbCr) are read from
// their luma plane; other images through their colour model.
func lumaCrop(img image.Image, x0, y0, w, h float64, n int) []float64 {
	b := img.Bounds()
	step := w / float64(n)
	f := max(int(step), 1)
	// The shrunk grid covering the region (with a pixel of margin).
	gx0, gy0 := max(int(x0)/f-1, 0), max(int(y0)/f-1, 0)
	gx1, gy1 := min(int(x0+w)/f+2, b.Dx()/f), min(int(y0+h)/f+2, b.Dy()/f)
	gw, gh := gx1-gx0, gy1-gy0
	if gw <= 0 || gh <= 0 {
		return make([]float64, n*n)
	}
	grid := make([]float64, gw*gh)
	yc, isYCbCr := img.(*image.YCbCr)
	for gy := range gh {
		for gx := range gw {
			var sum float64
			for dy := range f {
				for dx := range f {
					x, y := b.Min.X+(gx0+gx)*f+dx, b.Min.Y+(gy0+gy)*f+dy
					if isYCbCr {
						sum += float64(yc.Y[yc.YOffset(x, y)])
					} else {
						r, g, bl, _ := img.At(x, y).RGBA()
						sum += (0.299*float64(r) + 0.587*float64(g) + 0.114*float64(bl)) / 257
					}
				}
			}
			grid[gy*gw+gx] = sum / float64(f*f)
		}
	}
	at := func(x, y int) float64 {
		x, y = min(max(x, 0), gw-1), min(max(y, 0), gh-1)
		return grid[y*gw+x]
	}
	ff := float64(f)
	sx0, sy0 := (x0+0.5)/ff-0.5-float64(gx0), (y0+0.5)/ff-0.5-float64(gy0)
	su, sv := step/ff, h/float64(n)/ff
	return bilinearGrid(at, sx0, sy0, su, sv, n, n)
}

// bilinearGrid samples a w×h grid from the grey function at (edge handling
// is at's): grid pixel (u, v) comes from (x0 + (u+½)·su − ½, y0 + (v+½)·sv − ½).
func bilinearGrid(at func(x, y int) float64, x0, y0, su, sv float64, w, h int) []float64 {
	out := make([]float64, w*h)
	for v := range h {
		sy := y0 + (float64(v)+0.5)*sv - 0.5
		iy := int(math.Floor(sy))
		fy := sy - float64(iy)
		for u := range w {
			sx := x0 + (float64(u)+0.5)*su - 0.5
			ix := int(math.Floor(sx))
			fx := sx - float64(ix)
			out[v*w+u] = (at(ix, iy)*(1-fx)+at(ix+1, iy)*fx)*(1-fy) + (at(ix, iy+1)*(1-fx)+at(ix+1, iy+1)*fx)*fy
		}
	}
	return out
}
