package app

import (
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"examkiosk/app/store"
	"examkiosk/device/camera"
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

func testStore(t *testing.T) *store.Store {
	t.Helper()
	cfg := store.DefaultConfig()
	cfg.Path = filepath.Join(t.TempDir(), "kiosk.db")
	st, err := store.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestStorageItem(t *testing.T) {
	st := testStore(t)
	it := storageItem(context.Background(), st)
	if it.State != StateOK || !strings.Contains(it.Figures, "registrations=0") || !strings.Contains(it.Figures, "gb=") {
		t.Errorf("fresh store: %+v", it)
	}
	st.Close()
	if it := storageItem(context.Background(), st); it.State != StateError {
		t.Errorf("closed store: %+v, want an error", it)
	}
}

// replayCamera runs a real replay camera over a folder of generated frames.
func replayCamera(t *testing.T) *camera.Camera {
	t.Helper()
	dir := t.TempDir()
	img := image.NewRGBA(image.Rect(0, 0, 320, 240))
	for i := range img.Pix {
		img.Pix[i] = 128
	}
	img.Set(10, 10, color.White)
	for i := 0; i < 3; i++ {
		f, _ := os.Create(filepath.Join(dir, "frame"+string(rune('a'+i))+".jpg"))
		jpeg.Encode(f, img, nil)
		f.Close()
	}
	cfg := camera.DefaultConfig()
	ctx, cancel := context.WithCancel(context.Background())
	cam, err := camera.Open(ctx, "replay:"+dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); cam.Close() })
	deadline := time.Now().Add(5 * time.Second)
	for cam.Status().State != camera.StateOK && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	return cam
}

func TestCameraItem(t *testing.T) {
	if it := cameraItem(nil); it.State != StateError || it.Code != "no_device" {
		t.Errorf("no camera: %+v", it)
	}
	cam := replayCamera(t)
	if it := cameraItem(cam); it.State != StateOK || it.Code != "ok" || it.Detail == "" {
		t.Errorf("replay camera: %+v", it)
	}
	cam.Close()
	if it := cameraItem(cam); it.State != StateError || it.Code != "closed" {
		t.Errorf("closed camera: %+v, want an error with the camera's state as its code", it)
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

func testApp(t *testing.T, opts Options) *App {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Centre.Name = "测试考试中心"
	if opts.Store == nil {
		opts.Store = testStore(t)
	}
	cfg.Store.Path = opts.Store.Path()
	cfg.Face.ModelsDir = modelDir(t, map[string]string{"m.dat": "model"})
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(srv.Close)
	cfg.Sync.CentralURL = srv.URL
	opts.Config = cfg
	opts.Version = "9.9.9"
	a, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestAppStatus(t *testing.T) {
	a := testApp(t, Options{Camera: replayCamera(t)})
	r := a.Status()
	want := []struct{ key, state, code string }{
		{"camera", StateOK, "ok"},
		{"models", StateError, "not_loaded"}, // no engine given
		{"storage", StateOK, "ok"},
		{"central", StateWarn, "not_enrolled"}, // reachable, but no sync client
		{"version", StateOK, "version"},
	}
	if len(r.Items) != len(want) {
		t.Fatalf("got %d items: %+v", len(r.Items), r.Items)
	}
	for i, w := range want {
		if it := r.Items[i]; it.Key != w.key || it.State != w.state || it.Code != w.code {
			t.Errorf("item %d: got %+v, want %s %s/%s", i, it, w.key, w.state, w.code)
		}
	}
	if r.Version != "9.9.9" || r.Items[4].Detail != "9.9.9" {
		t.Errorf("version: %+v", r)
	}
}

func TestNewRefusesBadModels(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Centre.Name = "x"
	cfg.Face.ModelsDir = t.TempDir()
	_, err := New(Options{Config: cfg, Store: testStore(t)})
	if err == nil || !strings.Contains(err.Error(), cfg.Face.ModelsDir) || !strings.Contains(err.Error(), InstallModelsHint(cfg.Face.ModelsDir)) {
		t.Fatalf("got %v, want an error naming the models dir and the install command", err)
	}
}

func TestWelcome(t *testing.T) {
	now := time.Now()
	st := testStore(t)
	a := testApp(t, Options{Store: st, Demo: true})
	w, err := a.Welcome()
	if err != nil {
		t.Fatal(err)
	}
	if w.CentreName != "测试考试中心" || !w.Demo || w.Language != "zh-CN" || w.Exams == nil || len(w.Exams) != 0 {
		t.Fatalf("before any catalog: got %+v, want no exams", w)
	}
	cat := wire.Catalog{Version: 3, Exams: []wire.Exam{{ID: "e1", Name: "公务员考试", RegisterFrom: now.Add(-time.Hour), RegisterUntil: now.Add(time.Hour)}}}
	if err := st.PutCatalog(context.Background(), cat); err != nil {
		t.Fatal(err)
	}
	if w, err = a.Welcome(); err != nil || len(w.Exams) != 1 || w.Exams[0].Name != "公务员考试" {
		t.Fatalf("with a catalog: got %+v, %v", w, err)
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
