package camera

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func testConfig() Config {
	c := DefaultConfig()
	c.ReconnectInterval = 50 * time.Millisecond
	c.FrameTimeout = 200 * time.Millisecond
	return c
}

// plug is a fake camera that can be unplugged and plugged back in, seen
// through the Source interface.
type plug struct {
	mu      sync.Mutex
	present bool
	busy    bool
	opens   int
	gen     int // bumps at every unplug, so an open source notices
	period  time.Duration
}

func (p *plug) set(present bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.present && !present {
		p.gen++
	}
	p.present = present
}

func (p *plug) open(ctx context.Context) (Source, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.opens++
	if !p.present {
		return nil, &Error{State: StateNoDevice, Op: "open", Device: "/dev/video0", Err: syscall.ENOENT}
	}
	if p.busy {
		return nil, &Error{State: StateBusy, Op: "start streaming", Device: "/dev/video0", Err: syscall.EBUSY}
	}
	gen := p.gen
	img := encodeJPEG(&testing.T{}, testImage(64, 48, 0))
	return &fakeSource{
		info: SourceInfo{Device: "/dev/video0", Name: "Fake Cam", Mode: Mode{FormatMJPEG, 64, 48, 15}},
		read: func(ctx context.Context) (Frame, error) {
			if !sleep(ctx, p.period) {
				return Frame{}, ctx.Err()
			}
			p.mu.Lock()
			gone := p.gen != gen
			p.mu.Unlock()
			if gone {
				return Frame{}, &Error{State: StateDisconnected, Op: "dequeue frame", Device: "/dev/video0", Err: syscall.ENODEV}
			}
			return Frame{Format: FormatMJPEG, Width: 64, Height: 48, Data: img}, nil
		},
	}, nil
}

// waitState reads statuses until want arrives.
func waitState(t *testing.T, ch <-chan Status, want State) Status {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case s := <-ch:
			if s.State == want {
				return s
			}
		case <-timeout:
			t.Fatalf("no %s status within 5s", want)
		}
	}
}

func TestCameraDisconnectAndReconnect(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := &plug{present: true, period: 5 * time.Millisecond}
	cam := New(ctx, p.open, "/dev/video0", testConfig())
	defer cam.Close()
	st := cam.Watch(ctx)
	ok := waitState(t, st, StateOK)
	if ok.Name != "Fake Cam" || ok.Mode.Width != 64 || ok.State != StateOK {
		t.Errorf("ok status = %+v", ok)
	}
	k := cam.NewConsumer("analysis")
	f1, err := k.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}

	p.set(false) // unplug
	d := waitState(t, st, StateDisconnected)
	if d.Detail == "" {
		t.Error("disconnected status has no detail")
	}
	// While it stays away the state must remain "disconnected", not turn into "no_device".
	time.Sleep(200 * time.Millisecond)
	if s := cam.Status(); s.State != StateDisconnected {
		t.Errorf("after retries state = %s, want disconnected", s.State)
	}
	wctx, wcancel := context.WithTimeout(ctx, 100*time.Millisecond)
	_, err = k.Next(wctx)
	wcancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Next while unplugged: %v, want a timeout", err)
	}

	p.set(true) // plug back in
	waitState(t, st, StateOK)
	f2, err := k.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if f2.Seq <= f1.Seq {
		t.Errorf("frame sequence went from %d to %d across the reconnect", f1.Seq, f2.Seq)
	}
	if s := cam.Stats(); s.Reconnects == 0 {
		t.Errorf("stats = %+v, want reconnects counted", s)
	}
}

func TestCameraOpenFailuresGiveStatus(t *testing.T) {
	tests := []struct {
		name string
		p    *plug
		want State
	}{
		{"no device", &plug{}, StateNoDevice},
		{"busy", &plug{present: true, busy: true}, StateBusy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			cam := New(ctx, tt.p.open, "/dev/video0", testConfig())
			defer cam.Close()
			waitState(t, cam.Watch(ctx), tt.want)
			time.Sleep(150 * time.Millisecond)
			tt.p.mu.Lock()
			opens := tt.p.opens
			tt.p.mu.Unlock()
			if opens < 2 {
				t.Errorf("opened %d times, want retries", opens)
			}
		})
	}
}

// A consumer that takes far longer than a frame period must not slow
// capture: frames keep arriving at the source rate, the consumer gets the
// newest one each time and the frames it missed are counted.
func TestSlowConsumerNeverStallsCapture(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const period = 2 * time.Millisecond
	var mu sync.Mutex
	var reads []time.Time
	src := &fakeSource{info: SourceInfo{Device: "fake"}, read: func(ctx context.Context) (Frame, error) {
		if !sleep(ctx, period) {
			return Frame{}, ctx.Err()
		}
		mu.Lock()
		reads = append(reads, time.Now())
		mu.Unlock()
		return Frame{Format: FormatYUYV, Width: 2, Height: 1, Data: []byte{16, 128, 16, 128}}, nil
	}}
	cam := New(ctx, func(context.Context) (Source, error) { return src, nil }, "fake", testConfig())
	defer cam.Close()

	slow := cam.NewConsumer("slow")
	var taken []uint64
	start := time.Now()
	for time.Since(start) < 300*time.Millisecond {
		f, err := slow.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		taken = append(taken, f.Seq)
		time.Sleep(50 * time.Millisecond) // "analysis"
	}
	stats := cam.Stats()
	mu.Lock()
	n := len(reads)
	var worst time.Duration
	for i := 1; i < n; i++ {
		worst = max(worst, reads[i].Sub(reads[i-1]))
	}
	mu.Unlock()
	if n < 50 {
		t.Errorf("capture read %d frames in 300ms at a 2ms period: stalled by the slow consumer", n)
	}
	if worst > 40*time.Millisecond {
		t.Errorf("longest gap between captures %v: capture waited for the consumer", worst)
	}
	cs := slow.Stats()
	if cs.Skipped == 0 || cs.Taken != uint64(len(taken)) {
		t.Errorf("consumer stats %+v after taking %d frames; want skips counted", cs, len(taken))
	}
	for i := 1; i < len(taken); i++ {
		if taken[i] <= taken[i-1] {
			t.Fatalf("consumer got frame %d after %d", taken[i], taken[i-1])
		}
	}
	if stats.Captured < uint64(n)-2 || stats.FPS < 100 {
		t.Errorf("camera stats %+v", stats)
	}
	found := false
	for _, c := range stats.Consumers {
		found = found || c.Name == "slow"
	}
	if !found {
		t.Error("consumer missing from camera stats")
	}
}

func TestCameraBadFramesSkipped(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	i := 0
	src := &fakeSource{read: func(ctx context.Context) (Frame, error) {
		i++
		if !sleep(ctx, time.Millisecond) {
			return Frame{}, ctx.Err()
		}
		if i%2 == 0 {
			return Frame{}, fmt.Errorf("frame %d: corrupt: %w", i, ErrBadFrame)
		}
		return Frame{Format: FormatYUYV, Width: 2, Height: 1, Data: make([]byte, 4)}, nil
	}}
	cam := New(ctx, func(context.Context) (Source, error) { return src, nil }, "fake", testConfig())
	k := cam.NewConsumer("a")
	for range 5 {
		if _, err := k.Next(ctx); err != nil {
			t.Fatal(err)
		}
	}
	cam.Close()
	s := cam.Stats()
	if s.BadFrames == 0 || s.Reconnects != 0 {
		t.Errorf("stats = %+v: want bad frames counted without reconnecting", s)
	}
	if !src.closed {
		t.Error("source not closed")
	}
}

func TestCloseWakesConsumersAndWatchers(t *testing.T) {
	ctx := context.Background()
	cam := New(ctx, (&plug{}).open, "none", testConfig())
	wctx, wcancel := context.WithCancel(ctx)
	defer wcancel()
	st := cam.Watch(wctx)
	k := cam.NewConsumer("a")
	errc := make(chan error, 1)
	go func() { _, err := k.Next(ctx); errc <- err }()
	time.Sleep(20 * time.Millisecond)
	cam.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("Next after Close: %v, want ErrClosed", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Next still blocked after Close")
	}
	waitState(t, st, StateClosed)
	cam.Close() // twice is fine
}

func TestCaptureSurvivesPanickingSource(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	n := 0
	open := func(context.Context) (Source, error) {
		return &fakeSource{read: func(ctx context.Context) (Frame, error) {
			mu.Lock()
			n++
			first := n == 1
			mu.Unlock()
			if first {
				panic("driver bug")
			}
			sleep(ctx, time.Millisecond)
			return Frame{Format: FormatYUYV, Width: 2, Height: 1, Data: make([]byte, 4)}, nil
		}}, nil
	}
	cam := New(ctx, open, "fake", testConfig())
	defer cam.Close()
	st := cam.Watch(ctx)
	s := waitState(t, st, StateError)
	if !strings.Contains(s.Detail, "driver bug") {
		t.Errorf("error status detail %q", s.Detail)
	}
	waitState(t, st, StateOK)
}

func TestOnlyBadFramesReportAnError(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	src := &fakeSource{info: SourceInfo{Device: "fake"}, read: func(ctx context.Context) (Frame, error) {
		if !sleep(ctx, time.Millisecond) {
			return Frame{}, ctx.Err()
		}
		return Frame{}, fmt.Errorf("garbage: %w", ErrBadFrame)
	}}
	cam := New(ctx, func(context.Context) (Source, error) { return src, nil }, "fake", testConfig())
	defer cam.Close()
	s := waitState(t, cam.Watch(ctx), StateError)
	if !strings.Contains(s.Detail, "unusable frames in a row") {
		t.Errorf("detail %q", s.Detail)
	}
}
