package camera

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Source is where frames come from: a V4L2 device or a replay. A Source is
// used by one goroutine at a time.
type Source interface {
	// Read waits for the next frame. It returns within the configured frame
	// timeout or when ctx ends. Errors are classified with StateOf; an
	// error wrapping ErrBadFrame means only that frame was unusable.
	Read(ctx context.Context) (Frame, error)
	// Info describes the open source.
	Info() SourceInfo
	// Close releases the device or files.
	Close() error
}

// SourceInfo describes an open source.
type SourceInfo struct {
	Device string `json:"device"` // device path or replay spec
	Name   string `json:"name"`   // driver-reported name, or the replay kind
	Mode   Mode   `json:"mode"`
}

// ErrBadFrame marks a frame the source could not use (e.g. a corrupt JPEG);
// the camera counts it and reads on.
var ErrBadFrame = errors.New("bad frame")

// maxBadFrames consecutive unusable frames make the camera reopen the
// source (and report an error) instead of skipping them forever.
const maxBadFrames = 30

// Opener opens a source. The camera calls it again after every failure to
// reconnect, so it must find the device afresh each time.
type Opener func(ctx context.Context) (Source, error)

// Camera runs the capture goroutine over a Source, reconnecting as needed,
// and hands the latest frame to consumers without ever blocking capture.
type Camera struct {
	cfg    Config
	device string
	open   Opener
	log    *slog.Logger
	cancel context.CancelFunc
	done   chan struct{}

	captured   atomic.Uint64
	badFrames  atomic.Uint64
	reconnects atomic.Uint64

	mu        sync.Mutex
	latest    Frame
	seq       uint64
	notify    chan struct{} // closed and replaced at every new frame or stop
	stopped   error         // set when the capture goroutine has ended
	status    Status
	watchers  map[chan Status]struct{}
	consumers map[*Consumer]struct{}
	times     [32]time.Time // ring of recent frame times, for Stats.FPS

	rescan chan struct{} // Rescan's request (rescan.go)
}

// Option adjusts a Camera.
type Option func(*Camera)

// WithLogger sets the logger (default slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(c *Camera) { c.log = l } }

// Open starts a camera for spec ("auto", "/dev/videoN" or "replay:PATH";
// empty means cfg.Device). It returns at once: a missing, busy or unplugged
// device is not an error but a Status, and the camera keeps trying until it
// works or ctx ends or Close is called. Open fails only on a bad spec or
// configuration.
func Open(ctx context.Context, spec string, cfg Config, opts ...Option) (*Camera, error) {
	if spec != "" {
		cfg.Device = spec
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("open camera: %w", err)
	}
	sp, _ := ParseSpec(cfg.Device)
	var open Opener
	switch sp.Kind {
	case SpecReplay:
		open = func(ctx context.Context) (Source, error) { return OpenReplay(ctx, sp.Path, cfg) }
	default:
		b := realBackend()
		open = func(ctx context.Context) (Source, error) { return b.openSpec(ctx, sp, cfg) }
	}
	return New(ctx, open, sp.String(), cfg, opts...), nil
}

// New starts a camera over any source opener; device names it in Status.
// Capture runs until ctx ends or Close is called. Open is the usual entry
// point; New lets tests and tools supply their own Source.
func New(ctx context.Context, open Opener, device string, cfg Config, opts ...Option) *Camera {
	c := &Camera{
		cfg:       cfg,
		device:    device,
		open:      open,
		log:       slog.Default(),
		done:      make(chan struct{}),
		notify:    make(chan struct{}),
		watchers:  map[chan Status]struct{}{},
		consumers: map[*Consumer]struct{}{},
		rescan:    make(chan struct{}, 1),
	}
	for _, o := range opts {
		o(c)
	}
	c.log = c.log.With("component", "camera", "device", device)
	c.status = newStatus(StateStarting, device, nil)
	ctx, cancel := context.WithCancel(ctx)
	c.cancel = cancel
	go c.run(ctx)
	return c
}

// Close stops capture and releases the source. Waiting consumers get
// ErrClosed. It is safe to call more than once.
func (c *Camera) Close() error {
	c.cancel()
	<-c.done
	return nil
}

// run is the capture goroutine.
func (c *Camera) run(ctx context.Context) {
	defer close(c.done)
	defer func() {
		if r := recover(); r != nil { // never take the kiosk down
			c.log.Error("camera capture panicked", "panic", r)
			c.stop(&Error{State: StateError, Op: "capture", Device: c.device, Err: fmt.Errorf("panic: %v", r)})
		}
	}()
	wasOK, now := false, false // now: a Rescan ended the last attempt, reopen at once
	for attempt := 0; ; attempt++ {
		if ctx.Err() != nil {
			c.stop(ErrClosed)
			return
		}
		if attempt > 0 {
			c.reconnects.Add(1)
		}
		if attempt > 0 && !now {
			if !c.pause(ctx, c.cfg.ReconnectInterval) { // Rescan cuts it short
				c.stop(ErrClosed)
				return
			}
		}
		actx, rescanned := c.attempt(ctx) // ends on Rescan (rescan.go)
		src, err := c.open(actx)
		if err != nil {
			if now = rescanned(); now || ctx.Err() != nil {
				continue
			}
			st := StateOf(err)
			if wasOK && st == StateNoDevice {
				st = StateDisconnected // it was here a moment ago: unplugged
			}
			c.setStatus(newStatus(st, c.device, err), err)
			continue
		}
		err = c.capture(actx, src)
		if cerr := src.Close(); cerr != nil {
			c.log.Warn("close camera source", "err", cerr)
		}
		if now = rescanned(); now || ctx.Err() != nil {
			continue
		}
		st := StateOf(err)
		if st == StateOK {
			st = StateError
		}
		if c.Status().State == StateOK {
			wasOK = true
		}
		if st == StateEnded {
			c.setStatus(newStatus(st, c.device, err), err)
			c.stop(err)
			return
		}
		c.setStatus(newStatus(st, c.device, err), err)
	}
}

// capture reads frames from src until it fails. A panic in the source (a
// driver or library bug) becomes an error, and the camera reopens.
func (c *Camera) capture(ctx context.Context, src Source) (err error) {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("camera source panicked", "panic", r)
			err = &Error{State: StateError, Op: "read frame", Device: c.device, Err: fmt.Errorf("panic: %v", r)}
		}
	}()
	info := src.Info()
	first := true
	bad := 0 // consecutive bad frames
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		f, err := src.Read(ctx)
		if err != nil {
			if !errors.Is(err, ErrBadFrame) {
				return err
			}
			c.badFrames.Add(1)
			c.log.Debug("skipped bad frame", "err", err)
			if bad++; bad >= maxBadFrames {
				return &Error{State: StateError, Op: "read frame", Device: info.Device,
					Err: fmt.Errorf("%d unusable frames in a row, last: %w", bad, err)}
			}
			continue
		}
		bad = 0
		c.publish(f)
		if first {
			first = false
			st := newStatus(StateOK, info.Device, nil)
			st.Name, st.Mode = info.Name, info.Mode
			c.setStatus(st, nil)
		}
	}
}

// publish makes f the latest frame and wakes waiting consumers. It never
// blocks on a consumer.
func (c *Camera) publish(f Frame) {
	now := time.Now()
	c.mu.Lock()
	c.seq++
	f.Seq, f.Time = c.seq, now
	c.latest = f
	c.times[c.seq%uint64(len(c.times))] = now
	close(c.notify)
	c.notify = make(chan struct{})
	c.mu.Unlock()
	c.captured.Add(1)
}

// stop records that capture has ended for good and wakes consumers.
func (c *Camera) stop(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped != nil {
		return
	}
	c.stopped = err
	close(c.notify)
	c.notify = make(chan struct{})
	if errors.Is(err, ErrClosed) {
		c.status = newStatus(StateClosed, c.device, nil)
		c.broadcastLocked()
	}
}

func (c *Camera) setStatus(s Status, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.status.State == s.State && c.status.Detail == s.Detail {
		return
	}
	if c.status.State != s.State {
		if s.State == StateOK {
			c.log.Info("camera ok", "name", s.Name, "mode", s.Mode.String())
		} else {
			c.log.Warn("camera state", "state", s.State, "err", err)
		}
	}
	c.status = s
	c.broadcastLocked()
}

// broadcastLocked sends the status to every watcher, replacing a status the
// watcher has not read yet: watchers see the latest state, never a backlog.
func (c *Camera) broadcastLocked() {
	for ch := range c.watchers {
		select {
		case ch <- c.status:
		default:
			select {
			case <-ch:
			default:
			}
			select {
			case ch <- c.status:
			default:
			}
		}
	}
}

// Status returns the current status.
func (c *Camera) Status() Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.status
}

// Watch returns a channel that receives the current status at once and
// then every change, until ctx ends (the channel is then closed). A slow
// reader only ever misses intermediate states, never the latest one. The
// app forwards these to the UI (e.g. as a "camera:status" event).
func (c *Camera) Watch(ctx context.Context) <-chan Status {
	ch := make(chan Status, 1)
	c.mu.Lock()
	ch <- c.status
	c.watchers[ch] = struct{}{}
	c.mu.Unlock()
	go func() {
		<-ctx.Done()
		c.mu.Lock()
		delete(c.watchers, ch)
		close(ch)
		c.mu.Unlock()
	}()
	return ch
}

// Latest returns the most recent frame, if any.
func (c *Camera) Latest() (Frame, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.latest, c.seq > 0
}

// Stats are the capture counters.
type Stats struct {
	Captured   uint64          `json:"captured"`   // frames published
	BadFrames  uint64          `json:"bad_frames"` // frames the source could not use
	Reconnects uint64          `json:"reconnects"` // open attempts after the first
	FPS        float64         `json:"fps"`        // measured over the last 32 frames
	Consumers  []ConsumerStats `json:"consumers"`  // per consumer
	State      State           `json:"state"`
}

// ConsumerStats counts what one consumer took and what it skipped because
// newer frames had replaced them (the backpressure: frames are dropped,
// never queued).
type ConsumerStats struct {
	Name    string `json:"name"`
	Taken   uint64 `json:"taken"`
	Skipped uint64 `json:"skipped"`
}

// Stats returns the counters.
func (c *Camera) Stats() Stats {
	s := Stats{Captured: c.captured.Load(), BadFrames: c.badFrames.Load(), Reconnects: c.reconnects.Load()}
	c.mu.Lock()
	s.State = c.status.State
	if n := min(c.seq, uint64(len(c.times))); n >= 2 && s.State == StateOK {
		newest := c.times[c.seq%uint64(len(c.times))]
		oldest := c.times[(c.seq-n+1)%uint64(len(c.times))]
		if d := newest.Sub(oldest); d > 0 {
			s.FPS = float64(n-1) / d.Seconds()
		}
	}
	for k := range c.consumers {
		s.Consumers = append(s.Consumers, ConsumerStats{Name: k.name, Taken: k.taken.Load(), Skipped: k.skipped.Load()})
	}
	c.mu.Unlock()
	return s
}

// Consumer takes frames from a camera at its own pace. Each Next returns
// the newest frame it has not seen; frames it was too slow for are skipped
// and counted. Consumers never slow capture down. A Consumer is used by one
// goroutine.
type Consumer struct {
	c       *Camera
	name    string
	last    uint64
	taken   atomic.Uint64
	skipped atomic.Uint64
}

// NewConsumer registers a consumer (e.g. "analysis", "preview"). Its first
// Next returns the current latest frame if there is one.
func (c *Camera) NewConsumer(name string) *Consumer {
	k := &Consumer{c: c, name: name}
	c.mu.Lock()
	if c.seq > 0 {
		k.last = c.seq - 1
	}
	c.consumers[k] = struct{}{}
	c.mu.Unlock()
	return k
}

// Close unregisters the consumer from the camera's stats.
func (k *Consumer) Close() {
	k.c.mu.Lock()
	delete(k.c.consumers, k)
	k.c.mu.Unlock()
}

// Next waits for a frame newer than the last one this consumer took. It
// returns ctx.Err() when ctx ends (use a deadline to bound the wait) and
// ErrClosed, or the error that ended a replay, when capture has stopped.
func (k *Consumer) Next(ctx context.Context) (Frame, error) {
	c := k.c
	for {
		c.mu.Lock()
		if c.seq > k.last {
			f := c.latest
			k.skipped.Add(f.Seq - k.last - 1)
			k.last = f.Seq
			c.mu.Unlock()
			k.taken.Add(1)
			return f, nil
		}
		if c.stopped != nil {
			err := c.stopped
			c.mu.Unlock()
			return Frame{}, err
		}
		ch := c.notify
		c.mu.Unlock()
		select {
		case <-ctx.Done():
			return Frame{}, ctx.Err()
		case <-ch:
		}
	}
}

// Stats returns this consumer's counters.
func (k *Consumer) Stats() ConsumerStats {
	return ConsumerStats{Name: k.name, Taken: k.taken.Load(), Skipped: k.skipped.Load()}
}

// sleep waits d or until ctx ends; it reports whether d elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
