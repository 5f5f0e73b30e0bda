package camera

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"image/jpeg"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// startPreview runs a camera over src frames and serves its preview on
// 127.0.0.1.
func startPreview(t testing.TB, open Opener, cfg Config) (*Camera, *Preview, *PreviewServer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	cam := New(ctx, open, "test", cfg, WithLogger(slog.New(slog.DiscardHandler)))
	t.Cleanup(func() { cam.Close() })
	p, err := NewPreview(cam, cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := p.Listen(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return cam, p, srv
}

func replayOpener(dir string, cfg Config) Opener {
	return func(ctx context.Context) (Source, error) { return OpenReplay(ctx, dir, cfg) }
}

func frameDir(t testing.TB, n, w, h int) string {
	dir := t.TempDir()
	for i := range n {
		os.WriteFile(filepath.Join(dir, strconv.Itoa(100+i)+".jpg"), encodeJPEG(t, testImage(w, h, i)), 0o644)
	}
	return dir
}

// yuyvOpener is a YUYV camera (red picture) paced at fps.
func yuyvOpener(w, h int, fps float64) Opener {
	data := make([]byte, w*h*2)
	for i := 0; i < len(data); i += 4 {
		data[i], data[i+1], data[i+2], data[i+3] = 81, 90, 81, 240
	}
	return yuyvDataOpener(data, w, h, fps)
}

// yuyvDataOpener is a YUYV camera repeating data at fps.
func yuyvDataOpener(data []byte, w, h int, fps float64) Opener {
	return func(context.Context) (Source, error) {
		var due time.Time
		period := time.Duration(float64(time.Second) / fps)
		return &fakeSource{info: SourceInfo{Device: "yuyv", Mode: Mode{FormatYUYV, w, h, fps}}, read: func(ctx context.Context) (Frame, error) {
			if due.IsZero() {
				due = time.Now()
			}
			if !sleep(ctx, time.Until(due)) {
				return Frame{}, ctx.Err()
			}
			due = due.Add(period)
			return Frame{Format: FormatYUYV, Width: w, Height: h, Data: data}, nil
		}}, nil
	}
}

func TestPreviewRefusesBadRequests(t *testing.T) {
	cfg := replayConfig(30, true)
	_, p, srv := startPreview(t, replayOpener(frameDir(t, 2, 32, 32), cfg), cfg)
	base := strings.TrimSuffix(srv.URL, "/camera/")
	hostOnly := strings.TrimPrefix(base, "http://")
	tests := []struct {
		name, method, url, host string
		want                    int
	}{
		{"no token", "GET", srv.URL + "frame.jpg", "", http.StatusForbidden},
		{"wrong token", "GET", srv.URL + "frame.jpg?token=" + strings.Repeat("0", 32), "", http.StatusForbidden},
		{"token prefix", "GET", srv.URL + "frame.jpg?token=" + p.Token()[:10], "", http.StatusForbidden},
		{"rebinding host", "GET", srv.FrameURL(), "evil.example:" + strings.Split(hostOnly, ":")[1], http.StatusMisdirectedRequest},
		{"post", "POST", srv.FrameURL(), "", http.StatusMethodNotAllowed},
		{"unknown path", "GET", srv.URL + "secrets?token=" + p.Token(), "", http.StatusNotFound},
		{"outside /camera/", "GET", base + "/?token=" + p.Token(), "", http.StatusNotFound},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, tt.url, nil)
		if tt.host != "" {
			req.Host = tt.host
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s: status %d, want %d", tt.name, resp.StatusCode, tt.want)
		}
	}
	if _, err := p.Listen(context.Background(), "0.0.0.0:0"); err == nil {
		t.Error("Listen accepted a non-loopback address")
	}
}

func TestPreviewStream(t *testing.T) {
	cfg := replayConfig(30, true)
	cfg.PreviewFPS = 30
	cfg.PreviewMaxClients = 1
	_, _, srv := startPreview(t, replayOpener(frameDir(t, 3, 64, 48), cfg), cfg)
	req, _ := http.NewRequest("GET", srv.StreamURL(), nil)
	req.Header.Set("Origin", "wails://wails")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/x-mixed-replace" || params["boundary"] == "" {
		t.Fatalf("content type %q", resp.Header.Get("Content-Type"))
	}
	if resp.Header.Get("Access-Control-Allow-Origin") != "wails://wails" || resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("headers %v", resp.Header)
	}
	mr := multipart.NewReader(resp.Body, params["boundary"])
	var last uint64
	for i := range 6 {
		part, err := mr.NextPart()
		if err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
		data, _ := io.ReadAll(part)
		if part.Header.Get("Content-Type") != "image/jpeg" {
			t.Errorf("part %d: headers %v", i, part.Header)
		}
		seq, captured, ok := FrameComment(data)
		if !ok {
			t.Fatalf("part %d: no frame comment", i)
		}
		if seq <= last {
			t.Errorf("part %d: seq %d after %d", i, seq, last)
		}
		last = seq
		if age := time.Since(captured); age < 0 || age > 2*time.Second {
			t.Errorf("part %d: capture time %v ago", i, age)
		}
		img, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil || img.Bounds().Dx() != 64 {
			t.Errorf("part %d: decode %v", i, err)
		}
	}
	// One client only: a second stream is refused while the first is open.
	resp2, err := http.Get(srv.StreamURL())
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("second client: %d, want 503", resp2.StatusCode)
	}
}

func TestPreviewEncodesYUYVFrames(t *testing.T) {
	cfg := testConfig()
	cam, _, srv := startPreview(t, yuyvOpener(64, 48, 30), cfg)
	waitState(t, cam.Watch(t.Context()), StateOK)
	resp, err := http.Get(srv.FrameURL())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	img, err := jpeg.Decode(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	r, g, b, _ := img.At(32, 24).RGBA()
	if r>>8 < 240 || g>>8 > 15 || b>>8 > 15 {
		t.Errorf("pixel %d,%d,%d, want red", r>>8, g>>8, b>>8)
	}
}

func TestPreviewEvents(t *testing.T) {
	cfg := replayConfig(30, true)
	cam, p, srv := startPreview(t, replayOpener(frameDir(t, 2, 32, 32), cfg), cfg)
	waitState(t, cam.Watch(t.Context()), StateOK)
	resp, err := http.Get(srv.EventsURL())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	events := make(chan [2]string, 8)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		var ev string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				ev = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				events <- [2]string{ev, strings.TrimPrefix(line, "data: ")}
			}
		}
		close(events)
	}()
	next := func() [2]string {
		select {
		case e := <-events:
			return e
		case <-time.After(5 * time.Second):
			t.Fatal("no event within 5s")
		}
		return [2]string{}
	}
	e := next()
	var st Status
	if e[0] != "status" || json.Unmarshal([]byte(e[1]), &st) != nil || st.State != StateOK || st.Device == "" {
		t.Fatalf("first event %v", e)
	}
	if err := p.SetMeta(42, map[string]any{"box": []int{1, 2, 3, 4}, "code": "move_closer"}); err != nil {
		t.Fatal(err)
	}
	e = next()
	var meta struct {
		Seq  uint64 `json:"seq"`
		Data struct {
			Box  []int  `json:"box"`
			Code string `json:"code"`
		} `json:"data"`
	}
	if e[0] != "meta" || json.Unmarshal([]byte(e[1]), &meta) != nil || meta.Seq != 42 || meta.Data.Code != "move_closer" || len(meta.Data.Box) != 4 {
		t.Fatalf("meta event %v", e)
	}
	if err := p.SetMeta(1, func() {}); err == nil {
		t.Error("SetMeta accepted a value JSON cannot encode")
	}
}

func TestFrameComment(t *testing.T) {
	f := Frame{Seq: 1234567, Time: time.UnixMicro(1764190000123456)}
	jpg := encodeJPEG(t, testImage(16, 16, 0))
	withCom := append(append(append([]byte{}, jpg[:2]...), appendFrameComment(nil, f)...), jpg[2:]...)
	seq, at, ok := FrameComment(withCom)
	if !ok || seq != f.Seq || !at.Equal(f.Time) {
		t.Errorf("FrameComment = %d, %v, %v", seq, at, ok)
	}
	if _, err := jpeg.Decode(bytes.NewReader(withCom)); err != nil {
		t.Errorf("JPEG with the comment does not decode: %v", err)
	}
	for name, data := range map[string][]byte{"plain JPEG": jpg, "short": jpg[:3], "other comment": append([]byte{0xff, 0xd8, 0xff, 0xfe, 0, 5, 'a', 'b', 'c'}, jpg[2:]...)} {
		if _, _, ok := FrameComment(data); ok {
			t.Errorf("%s: found a frame comment", name)
		}
	}
}
