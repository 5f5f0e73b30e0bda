package camera

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Rescan drops the device in use and opens the camera again at once,
// looking for devices anew with camera.device = "auto": the staff
// console's "rescan cameras" and the udev rule's hot-plug signal. It
// returns at once; Status reports the outcome.
func (c *Camera) Rescan() {
	select {
	case c.rescan <- struct{}{}:
	default: // one is pending already
	}
}

// pause waits d, or less when Rescan is called; false when ctx ended.
func (c *Camera) pause(ctx context.Context, d time.Duration) bool {
	actx, end := c.attempt(ctx)
	sleep(actx, d)
	end()
	return ctx.Err() == nil
}

// attempt returns the context of one open-and-capture attempt, cancelled
// by Rescan, and a function that ends the attempt and says whether a
// rescan ended it.
func (c *Camera) attempt(ctx context.Context) (context.Context, func() bool) {
	actx, cancel := context.WithCancel(ctx)
	stop := make(chan struct{})
	var rescanned atomic.Bool
	go func() {
		select {
		case <-c.rescan:
			c.log.Info("camera rescan")
			rescanned.Store(true)
			cancel()
		case <-stop:
		}
	}()
	var once sync.Once
	return actx, func() bool {
		once.Do(func() { close(stop); cancel() })
		return rescanned.Load()
	}
}
