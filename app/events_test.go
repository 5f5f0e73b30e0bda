package app

import (
	"context"
	"sync"
	"testing"
	"time"
)

// recorder collects the events the kiosk sends to the UI.
type recorder struct {
	mu     sync.Mutex
	events []string
	data   []any
}

func (r *recorder) emit(name string, data any) {
	r.mu.Lock()
	r.events = append(r.events, name)
	r.data = append(r.data, data)
	r.mu.Unlock()
}

func (r *recorder) count(name string) (n int, last any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, e := range r.events {
		if e == name {
			n, last = n+1, r.data[i]
		}
	}
	return n, last
}

// The idle timeout returns to the welcome screen and tells the UI, which no
// longer polls the journey.
func TestIdleTimeoutEmitsJourney(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.Local)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	rec := &recorder{}
	a := testApp(t, Options{Now: clock, Events: rec.emit, Store: catalogStore(t)})
	if _, err := a.Begin(); err != nil {
		t.Fatal(err)
	}
	if v, err := a.OfflineLogin("张三", "11010519491231002X"); err != nil || v.Step != StepFace {
		t.Fatalf("offline login: %v, %v", v.Step, err)
	}
	mu.Lock()
	now = now.Add(time.Duration(a.opts.Config.Kiosk.IdleSeconds+1) * time.Second)
	mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go a.watchIdle(ctx, 10*time.Millisecond)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if n, last := rec.count(EventJourney); n > 0 {
			if v := last.(JourneyView); v.Step != StepWelcome || v.Candidate != nil {
				t.Fatalf("journey event after the idle timeout: step %s, candidate %v", v.Step, v.Candidate)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no journey event after the idle timeout")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The status goes to the UI when it changes, not on every check.
func TestStatusEventsOnChange(t *testing.T) {
	rec := &recorder{}
	a := testApp(t, Options{Events: rec.emit})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.watchStatus(ctx, 20*time.Millisecond); close(done) }()
	time.Sleep(300 * time.Millisecond)
	cancel()
	<-done
	// About 15 checks; the status holds still but for free disk space,
	// which other processes on the machine may move by 0.1 GB.
	if n, last := rec.count(EventStatus); n < 1 || n > 4 {
		t.Fatalf("%d status events in about 15 checks of an unchanging status, want 1 (a few at most)", n)
	} else if r := last.(StatusReport); len(r.Items) != 5 {
		t.Fatalf("status event: %+v", r)
	}
	if n, _ := rec.count(EventStaff); n != 0 {
		t.Fatalf("%d staff events with the console closed", n)
	}
}
