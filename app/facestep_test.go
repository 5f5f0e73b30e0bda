package app

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"examkiosk/device/camera"
	"examkiosk/internal/testenv"
)

// One face step at a time: starting the step again while it runs (the
// face screen shown again after a stale journey event, a second frontend
// following the same journey) joins the running step, however many starts
// race: the same session, the candidate's progress kept, one challenge
// reading the camera. A step that was stopped has ended when
// CancelFaceCheck returns, and the next start is a new session; a stopped
// step never tells the screen it failed, and its guidance never comes
// after the new one's.
func TestFaceStepOneAtATime(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a := replayFaceApp(ctx, t)
	a.Begin()
	if _, err := a.OfflineLogin("张三", "11010519491231002X"); err != nil {
		t.Fatal(err)
	}
	defer a.CancelFaceCheck()
	first, err := a.StartFaceCheck()
	if err != nil {
		t.Fatal(err)
	}
	// The first step is analysing frames.
	deadline := time.Now().Add(20 * time.Second)
	for {
		p, err := a.FaceStatus()
		if err != nil {
			t.Fatal(err)
		}
		if p.Face != nil {
			if p.Session != first.ID {
				t.Fatalf("progress of session %d, want %d", p.Session, first.ID)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no analysed frame with a face within 20 s: %+v", p)
		}
		time.Sleep(50 * time.Millisecond)
	}
	a.mu.Lock()
	run1 := a.face
	a.mu.Unlock()

	// Starts that race while it runs: each joins it.
	var wg sync.WaitGroup
	sessions := make(chan FaceSession, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := a.StartFaceCheck()
			if err != nil {
				t.Error(err)
				return
			}
			sessions <- s
		}()
	}
	wg.Wait()
	close(sessions)
	for s := range sessions {
		if s.ID != first.ID || strings.Join(s.Challenge, ",") != strings.Join(first.Challenge, ",") {
			t.Errorf("a start while session %d runs gave session %d (%v, want %v): two sessions", first.ID, s.ID, s.Challenge, first.Challenge)
		}
	}
	a.mu.Lock()
	same := a.face == run1
	a.mu.Unlock()
	select {
	case <-run1.done:
		t.Fatal("the running face step ended when the screen started it again")
	default:
	}
	if !same {
		t.Fatal("another face step replaced the running one")
	}

	// The screen's event stream, open before the second start.
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, first.EventsURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	metas := make(chan FaceProgress, 1000)
	go func() {
		defer close(metas)
		sc := bufio.NewScanner(resp.Body)
		event := ""
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: ") && event == "meta":
				var m struct{ Data FaceProgress }
				if json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &m) == nil {
					metas <- m.Data
				}
			}
		}
	}()

	a.CancelFaceCheck()
	select {
	case <-run1.done:
	default:
		t.Fatal("CancelFaceCheck returned while the face step still runs")
	}
	second, err := a.StartFaceCheck()
	if err != nil {
		t.Fatal(err)
	}
	if second.ID <= first.ID {
		t.Fatalf("the step after a stopped one is session %d, after %d", second.ID, first.ID)
	}
	last := second.ID

	// The stream, read for a second after the last session's guidance
	// began: sessions follow each other, never interleave (a session's
	// guidance never comes after a later one's), and a stopped session
	// never tells the screen it failed.
	lastSeen, prev := time.Time{}, 0
	timeout := time.After(10 * time.Second)
	for lastSeen.IsZero() || time.Since(lastSeen) < time.Second {
		select {
		case p, ok := <-metas:
			if !ok {
				t.Fatal("event stream closed")
			}
			if p.Session < prev {
				t.Errorf("guidance of session %d after session %d's: %+v", p.Session, prev, p)
			}
			prev = max(prev, p.Session)
			if p.Phase == "failed" && p.Session != last {
				t.Errorf("a stopped face step told the screen it failed: %+v", p)
			}
			if p.Session == last && lastSeen.IsZero() {
				lastSeen = time.Now()
			}
		case <-timeout:
			if lastSeen.IsZero() {
				t.Fatalf("no guidance of session %d within 10 s", last)
			}
			return
		}
	}
}

// replayFaceApp is an App with the real face engine and a replay camera on
// a webcam clip (cap13) with its loopback preview, until ctx ends.
func replayFaceApp(ctx context.Context, t *testing.T) *App {
	t.Helper()
	frames := filepath.Join(testenv.FacesDir(t), "live", "cap13_blink_turn", "frames")
	eng := engine(t)
	ccfg := camera.DefaultConfig()
	cam, err := camera.Open(ctx, "replay:"+frames, ccfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cam.Close() })
	pv, srv := previewOf(ctx, t, cam, ccfg)
	return testApp(t, Options{Store: catalogStore(t), Face: eng, Camera: cam, Preview: pv, PreviewServer: srv})
}
