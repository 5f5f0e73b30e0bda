// Package window holds the window smoke test: the production kiosk binary
// runs under Xvfb, and the test proves from a screenshot and from the page's
// own report that the welcome screen rendered with real content.
package window

import (
	"bufio"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"examkiosk/device/face/ort"
	"examkiosk/internal/testenv"
)

const centreName = "窗口冒烟测试中心"

// kioskBinary returns $EXAMKIOSK_BIN, or builds the production binary.
func kioskBinary(t *testing.T, root string) string {
	if bin := os.Getenv("EXAMKIOSK_BIN"); bin != "" {
		return bin
	}
	if _, err := os.Stat(filepath.Join(root, "frontend", "dist", "index.html")); err != nil {
		t.Fatalf("the web UI is not built (frontend/dist/index.html): run make build first")
	}
	bin := filepath.Join(t.TempDir(), "examkiosk")
	cmd := exec.Command("go", "build", "-tags", "desktop,production", "-o", bin, ".")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the kiosk: %v\n%s", err, out)
	}
	return bin
}

// startXvfb starts a virtual screen and returns its DISPLAY.
func startXvfb(t *testing.T, w, h int) string {
	t.Helper()
	r, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", fmt.Sprintf("%dx%dx24", w, h), "-nolisten", "tcp")
	cmd.ExtraFiles = []*os.File{wr}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start Xvfb: %v", err)
	}
	wr.Close()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(r).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case n := <-line:
		if n == "" {
			t.Fatal("Xvfb did not report a display number")
		}
		return ":" + n
	case <-time.After(20 * time.Second):
		t.Fatal("Xvfb did not start within 20 s")
	}
	return ""
}

func closedPortURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return "http://" + l.Addr().String()
}

func TestWelcomeWindowRenders(t *testing.T) {
	t.Parallel() // its own Xvfb and kiosk (TestScreensInBothOrientations runs beside it)
	for _, tool := range []string{"Xvfb", "import"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: run build/setup.sh deps (apt xvfb imagemagick)", tool)
		}
	}
	models := testenv.ModelsDir(t)
	root := testenv.RepoRoot(t)
	bin := kioskBinary(t, root)
	const w, h = 1280, 800
	display := startXvfb(t, w, h)

	work := t.TempDir()
	// A replay camera over a few generated frames.
	clip := filepath.Join(work, "frames")
	os.MkdirAll(clip, 0o755)
	frame := image.NewRGBA(image.Rect(0, 0, 640, 480))
	for i := range frame.Pix {
		frame.Pix[i] = uint8(i % 251)
	}
	for i := 0; i < 3; i++ {
		f, _ := os.Create(filepath.Join(clip, fmt.Sprintf("%03d.jpg", i)))
		jpeg.Encode(f, frame, nil)
		f.Close()
	}
	cfg := filepath.Join(work, "config.toml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`
[centre]
name = %q
[store]
path = %q
[face]
models_dir = %q
[camera]
device = "replay:%s"
[sync]
central_url = %q
`, centreName, filepath.Join(work, "data", "kiosk.db"), models, clip, closedPortURL(t))), 0o600)
	ready := filepath.Join(work, "ready")

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	kiosk := exec.CommandContext(ctx, bin, "--config", cfg, "--ready-file", ready)
	kiosk.Env = append(os.Environ(), "DISPLAY="+display, "HOME="+work, "XDG_CACHE_HOME="+filepath.Join(work, "cache"),
		"EXAMKIOSK_ORT_DIR="+filepath.Dir(ort.DefaultLibraryPath()) /* the runtime set-up installed, not the fresh HOME's */)
	logPath := filepath.Join(work, "kiosk.log")
	logFile, _ := os.Create(logPath)
	kiosk.Stdout, kiosk.Stderr = logFile, logFile
	if err := kiosk.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = kiosk.Wait(); close(exited) }()
	t.Cleanup(func() {
		kiosk.Process.Kill()
		<-exited
	})

	deadline := time.After(90 * time.Second)
	for {
		if b, err := os.ReadFile(ready); err == nil && strings.TrimSpace(string(b)) == "welcome" {
			break
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(logPath)
			t.Fatalf("the kiosk exited (%v) before the welcome screen rendered:\n%s", waitErr, log)
		case <-deadline:
			log, _ := os.ReadFile(logPath)
			t.Fatalf("the page never reported the welcome screen as rendered:\n%s", log)
		case <-time.After(200 * time.Millisecond):
		}
	}
	time.Sleep(1500 * time.Millisecond) // let the status strip's first answer paint

	shot := filepath.Join(work, "welcome.png")
	if dir := os.Getenv("EXAMKIOSK_ARTIFACTS"); dir != "" {
		os.MkdirAll(dir, 0o755)
		shot = filepath.Join(dir, "window-welcome.png")
	}
	if out, err := exec.Command("import", "-display", display, "-window", "root", shot).CombinedOutput(); err != nil {
		t.Fatalf("screenshot: %v\n%s", err, out)
	}
	t.Logf("screenshot: %s", shot)
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil {
		t.Fatalf("decode screenshot: %v", err)
	}
	if b := img.Bounds(); b.Dx() != w || b.Dy() != h {
		t.Fatalf("screenshot is %v, want %dx%d", b, w, h)
	}

	// The regions and colours come from frontend/src/style.css.
	brand := color.RGBA{0x1f, 0x5f, 0xae, 255}
	strip := color.RGBA{0x22, 0x30, 0x3f, 255}
	bg := color.RGBA{0xf5, 0xf7, 0xfa, 255}
	checks := []struct {
		what string
		r    image.Rectangle
		c    color.RGBA
		min  float64
	}{
		{"the blue banner behind the centre name", image.Rect(0, 0, w, 30), brand, 0.7},
		{"the dark status strip", image.Rect(0, h-8, w, h), strip, 0.7},
		{"the page background", image.Rect(0, 600, w, 700), bg, 0.7},
	}
	for _, c := range checks {
		if got := share(img, c.r, func(p color.RGBA) bool { return near(p, c.c, 12) }); got < c.min {
			t.Errorf("%s: only %.0f%% of %v has colour %v (the page did not render as designed; see %s)", c.what, got*100, c.r, c.c, shot)
		}
	}
	// Text: the centre name is white on the banner, the status strip has
	// light text and coloured state dots.
	white := func(p color.RGBA) bool { return p.R > 200 && p.G > 200 && p.B > 200 }
	if got := share(img, image.Rect(w/4, 40, 3*w/4, 110), white); got < 0.03 {
		t.Errorf("no centre name text in the banner (%.1f%% white); see %s", got*100, shot)
	}
	green := func(p color.RGBA) bool { return near(p, color.RGBA{0x2e, 0x9d, 0x57, 255}, 30) }
	if got := share(img, image.Rect(0, h-48, w, h), green); got == 0 {
		t.Errorf("no green (ok) dot in the status strip: the status never came from Go; see %s", shot)
	}
}

func share(img image.Image, r image.Rectangle, ok func(color.RGBA) bool) float64 {
	n, hit := 0, 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			n++
			if ok(color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)) {
				hit++
			}
		}
	}
	return float64(hit) / float64(n)
}

func near(a, b color.RGBA, tol int) bool {
	d := func(x, y uint8) bool { v := int(x) - int(y); return v >= -tol && v <= tol }
	return d(a.R, b.R) && d(a.G, b.G) && d(a.B, b.B)
}
