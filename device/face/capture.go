package face

import (
	"context"
	"errors"
	"fmt"
	"image"
	"slices"
	"sync"
)

// Capture keeps the best usable live frames (by Guidance.Quality) of a
// candidate and fuses their descriptors. It is safe for concurrent use.
type Capture struct {
	e      *Engine
	n      int
	mu     sync.Mutex
	frames []captured
}

type captured struct {
	px      *rgbImage
	face    Face
	quality float64
}

// NewCapture returns a Capture keeping the engine's FuseFrames best frames.
func (e *Engine) NewCapture() *Capture { return &Capture{e: e, n: e.cfg.FuseFrames} }

// Add offers a frame with its guidance; frames that are not OK are
// ignored. It reports whether the frame was kept.
func (c *Capture) Add(frame image.Image, g Guidance) bool {
	if !g.OK || g.Face == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.frames) == c.n && g.Quality <= c.frames[len(c.frames)-1].quality {
		return false
	}
	c.frames = append(c.frames, captured{px: toRGB(frame), face: *g.Face, quality: g.Quality})
	slices.SortStableFunc(c.frames, func(a, b captured) int {
		switch {
		case a.quality > b.quality:
			return -1
		case a.quality < b.quality:
			return 1
		}
		return 0
	})
	if len(c.frames) > c.n {
		c.frames = c.frames[:c.n]
	}
	return true
}

// Len is the number of frames kept.
func (c *Capture) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.frames)
}

// Best returns the best frame kept (for MakeIDPhoto), or nil.
func (c *Capture) Best() image.Image {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.frames) == 0 {
		return nil
	}
	return c.frames[0].px.toImage()
}

// Descriptor fuses the descriptors of the kept frames.
func (c *Capture) Descriptor(ctx context.Context) (Descriptor, error) {
	c.mu.Lock()
	frames := slices.Clone(c.frames)
	c.mu.Unlock()
	if len(frames) == 0 {
		return Descriptor{}, fmt.Errorf("capture: %w", ErrNoFace)
	}
	c.e.mu.RLock()
	defer c.e.mu.RUnlock()
	var ds []Descriptor
	var errs []error
	for _, f := range frames {
		d, err := c.e.describe(ctx, f.px, f.face)
		if err != nil {
			if ctx.Err() != nil {
				return Descriptor{}, ctx.Err()
			}
			errs = append(errs, err)
			continue
		}
		ds = append(ds, d)
	}
	if len(ds) == 0 {
		return Descriptor{}, fmt.Errorf("capture: %w", errors.Join(errs...))
	}
	return Fuse(ds)
}

// DescribeFrame computes the descriptor of the face found by Analyze in
// frame (no second detection pass): the cost of verifying a captured frame.
func (e *Engine) DescribeFrame(ctx context.Context, frame image.Image, g Guidance) (Descriptor, error) {
	if g.Face == nil {
		return Descriptor{}, ErrNoFace
	}
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.describe(ctx, toRGB(frame), *g.Face)
}
