package app

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"examkiosk/sync/wire"
)

func TestCheckCentral(t *testing.T) {
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
		}
	}))
	defer ok.Close()
	broken := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusInternalServerError)
	}))
	defer broken.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()

	tests := []struct {
		url, state, code string
	}{
		{ok.URL, StateOK, "online"},
		{ok.URL + "/", StateOK, "online"},
		{broken.URL, StateWarn, "unhealthy"},
		{closed, StateWarn, "offline"},
	}
	for _, tt := range tests {
		it := checkCentral(context.Background(), http.DefaultClient, tt.url)
		if it.State != tt.state || it.Code != tt.code {
			t.Errorf("%s: got %s/%s, want %s/%s", tt.url, it.State, it.Code, tt.state, tt.code)
		}
	}
}

func TestCheckStorage(t *testing.T) {
	if it := checkStorage(t.TempDir()); it.State != StateOK || !strings.Contains(it.Detail, "GB free") {
		t.Errorf("writable dir: %+v", it)
	}
	if it := checkStorage(filepath.Join(t.TempDir(), "absent")); it.State != StateError || it.Code != "not_writable" {
		t.Errorf("absent dir: %+v", it)
	}
}

func TestCheckCamera(t *testing.T) {
	clip := filepath.Join(t.TempDir(), "clip.mjpeg")
	os.WriteFile(clip, []byte{0xff, 0xd8}, 0o644)
	tests := []struct {
		device, state, code string
	}{
		{"replay:" + clip, StateOK, "replay"},
		{"replay:" + clip + ".gone", StateError, "replay_missing"},
		{"/dev/video-does-not-exist", StateError, "no_device"},
	}
	for _, tt := range tests {
		if it := checkCamera(tt.device); it.State != tt.state || it.Code != tt.code {
			t.Errorf("%s: got %+v, want %s/%s", tt.device, it, tt.state, tt.code)
		}
	}
}

func TestOpenExams(t *testing.T) {
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	cat := wire.Catalog{Exams: []wire.Exam{
		{ID: "closed", RegisterFrom: now.Add(-10 * day), RegisterUntil: now.Add(-day)},
		{ID: "later", RegisterFrom: now.Add(-day), RegisterUntil: now.Add(9 * day), Positions: []wire.Position{{ID: "p"}}},
		{ID: "sooner", RegisterFrom: now.Add(-day), RegisterUntil: now.Add(2 * day)},
		{ID: "future", RegisterFrom: now.Add(day), RegisterUntil: now.Add(20 * day)},
		{ID: "ends-now", RegisterFrom: now.Add(-day), RegisterUntil: now},
	}}
	got := OpenExams(cat, now)
	if len(got) != 2 || got[0].ID != "sooner" || got[1].ID != "later" || got[1].Positions != 1 {
		t.Fatalf("got %+v, want sooner then later", got)
	}
}

type catalogFunc func() (wire.Catalog, error)

func (f catalogFunc) Catalog(context.Context) (wire.Catalog, error) { return f() }

func testApp(t *testing.T, opts Options) *App {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Centre.Name = "测试考试中心"
	cfg.Paths.DataDir = filepath.Join(t.TempDir(), "data")
	cfg.Paths.ModelsDir = modelDir(t, map[string]string{"m.dat": "model"})
	clip := filepath.Join(t.TempDir(), "clip.mjpeg")
	os.WriteFile(clip, []byte{0xff, 0xd8}, 0o644)
	cfg.Camera.Device = "replay:" + clip
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(srv.Close)
	cfg.Central.URL = srv.URL
	opts.Config = cfg
	opts.Version = "9.9.9"
	a, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestAppStatus(t *testing.T) {
	a := testApp(t, Options{})
	r := a.Status()
	want := map[string]string{"camera": "replay", "models": "ready", "storage": "ok", "central": "online", "version": "version"}
	if len(r.Items) != len(want) {
		t.Fatalf("got %d items: %+v", len(r.Items), r.Items)
	}
	for _, it := range r.Items {
		if want[it.Key] != it.Code || it.State != StateOK {
			t.Errorf("%s: got %s/%s, want ok/%s", it.Key, it.State, it.Code, want[it.Key])
		}
	}
	if r.Version != "9.9.9" || r.Items[4].Detail != "9.9.9" {
		t.Errorf("version: %+v", r)
	}
}

func TestNewRefusesBadModels(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Centre.Name = "x"
	cfg.Paths.DataDir = t.TempDir()
	cfg.Paths.ModelsDir = t.TempDir()
	_, err := New(Options{Config: cfg})
	if err == nil || !strings.Contains(err.Error(), cfg.Paths.ModelsDir) || !strings.Contains(err.Error(), InstallModelsHint) {
		t.Fatalf("got %v, want an error naming the models dir and the install command", err)
	}
}

func TestWelcome(t *testing.T) {
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	cat := wire.Catalog{Version: 3, Exams: []wire.Exam{{ID: "e1", Name: "公务员考试", RegisterFrom: now.Add(-time.Hour), RegisterUntil: now.Add(time.Hour)}}}
	a := testApp(t, Options{Demo: true, Now: func() time.Time { return now }, Catalog: catalogFunc(func() (wire.Catalog, error) { return cat, nil })})
	w, err := a.Welcome()
	if err != nil {
		t.Fatal(err)
	}
	if w.CentreName != "测试考试中心" || !w.Demo || w.Language != "zh-CN" || len(w.Exams) != 1 || w.Exams[0].Name != "公务员考试" {
		t.Fatalf("got %+v", w)
	}
	empty := testApp(t, Options{})
	if w, err := empty.Welcome(); err != nil || w.Exams == nil || len(w.Exams) != 0 {
		t.Fatalf("no catalog: got %+v, %v; want an empty, non-nil list", w, err)
	}
}

func TestReportRendered(t *testing.T) {
	ready := filepath.Join(t.TempDir(), "ready")
	a := testApp(t, Options{ReadyFile: ready})
	if err := a.ReportRendered("welcome"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(ready); string(b) != "welcome\n" {
		t.Fatalf("ready file holds %q", b)
	}
}
