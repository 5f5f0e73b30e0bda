package window

import (
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"examkiosk/app"
	"examkiosk/device/face/ort"
	"examkiosk/internal/testenv"
	"examkiosk/sync/central"
	"examkiosk/sync/testbed"
)

// The screen sizes every screen must fit: a landscape and a portrait
// kiosk, and the smaller 1280×800 of a desk box.
var (
	landscape = image.Pt(1920, 1080)
	staffPIN  = "246810"
	portrait  = image.Pt(1080, 1920)
	desk      = image.Pt(1280, 800)
)

// TestScreensInBothOrientations walks the production kiosk under Xvfb
// from the welcome screen through a QR login (confirmed on the demo
// provider's phone page of a central on loopback), the password step with
// its on-screen keyboard, the face step (frames from Go's replay camera),
// the account login and the staff console with its PIN, tapping with real X pointer events. Each screen is
// shown at 1920×1080 and at 1080×1920 (the password step also at 1280×800)
// and checked twice: by the page's own layout report (every button wholly
// on the screen and under no other element, none overlapping; the
// elements the screen must have) and by its screenshot (not blank; the
// elements drawn where the page says they are).
func TestScreensInBothOrientations(t *testing.T) {
	t.Parallel() // its own Xvfb and kiosk: it overlaps the welcome test's start
	for _, tool := range []string{"Xvfb", "import", "xdotool"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: run build/setup.sh deps (apt xvfb imagemagick xdotool)", tool)
		}
	}
	models := testenv.ModelsDir(t)
	bin := kioskBinary(t, testenv.RepoRoot(t))
	work := t.TempDir()
	centralURL := testbed.StartCentral(t, central.DefaultConfig()).URL
	display := startXvfb(t, 1920, 1920)
	k := startKiosk(t, bin, display, work, models, centralURL)
	shots := filepath.Join(work, "shots")
	if dir := os.Getenv("EXAMKIOSK_ARTIFACTS"); dir != "" {
		shots = dir
	}
	os.MkdirAll(shots, 0o755)
	k.shots = shots

	has := func(ids ...string) func(*app.LayoutReport) bool {
		return func(r *app.LayoutReport) bool {
			for _, id := range ids {
				if r.Element(id) == nil {
					return false
				}
			}
			return true
		}
	}

	// Welcome: the centre's name on the blue banner, the start button.
	for _, size := range []image.Point{landscape, portrait} {
		r, img := k.show(t, "welcome", size, func(r *app.LayoutReport) bool {
			// the catalog came from the central: the start button is on
			s := r.Element("start")
			return s != nil && s.Data["disabled"] == "" && r.Element("status-strip") != nil
		})
		k.drawn(t, r, img, "start", "status-strip")
		if h := r.Element("centre-name"); h == nil || !strings.Contains(h.Text, centreName) {
			t.Errorf("welcome %v: no centre name %q in %+v", size, centreName, h)
		}
	}
	// The language switch: the same screen in English, then back.
	k.tap(t, "lang-switch")
	r := k.arrange(t, "welcome", portrait, func(r *app.LayoutReport) bool { return r.Lang == "en" })
	if s := r.Element("start"); s == nil || !strings.Contains(s.Text, "Start registration") {
		t.Errorf("welcome in English: start button %+v", s)
	}
	k.tap(t, "lang-switch")
	k.arrange(t, "welcome", portrait, func(r *app.LayoutReport) bool { return r.Lang == "zh-CN" })
	k.tap(t, "start")

	// Login: the two QR channels and the other ways in.
	for _, size := range []image.Point{landscape, portrait} {
		r, img := k.show(t, "login", size, has("login-alipay", "login-social", "account-mode", "offline-toggle"))
		k.drawn(t, r, img, "login-alipay", "login-social")
	}
	k.tap(t, "login-alipay")

	// The QR code: black and white modules where the page put it.
	var qrURL string
	waiting := func(r *app.LayoutReport) bool { e := r.Element("qr"); return e != nil && e.Data["state"] == "waiting" }
	for _, size := range []image.Point{landscape, portrait} {
		r, img := k.show(t, "login", size, waiting)
		qr := r.Element("qr")
		qrURL = qr.Data["url"]
		box := image.Rect(qr.X, qr.Y, qr.X+qr.W, qr.Y+qr.H)
		dark := share(img, box, func(p color.RGBA) bool { return p.R < 60 && p.G < 60 && p.B < 60 })
		if dark < 0.1 || dark > 0.7 {
			t.Errorf("login %v: the QR code's box %v is %.0f%% dark: no code drawn (see %s)", size, box, dark*100, k.last)
		}
	}
	confirmOnPhone(t, qrURL)

	// The password step, at the desk size too (its submit button was off
	// the screen at 1280×800); then typed with the on-screen keyboard.
	for _, size := range []image.Point{landscape, portrait, desk} {
		r, img := k.show(t, "password", size, has("pw-new", "pw-repeat", "pw-answer", "pw-set", "password-skip", "pw-captcha"))
		k.drawn(t, r, img, "pw-set", "password-skip", "pw-captcha")
	}
	k.tap(t, "pw-new")
	for _, size := range []image.Point{desk, landscape, portrait} {
		r, img := k.show(t, "password", size, has("text-keyboard", "shift", "done"))
		k.drawn(t, r, img, "text-keyboard", "q", "1")
	}
	for _, key := range []string{"shift", "k", "a", "o", "s", "h", "i", "5", "8"} {
		k.tap(t, key)
		time.Sleep(50 * time.Millisecond)
	}
	r = k.arrange(t, "password", portrait, func(r *app.LayoutReport) bool { e := r.Element("pw-new"); return e != nil && e.Data["chars"] == "8" })
	if r.Element("text-keyboard") == nil {
		t.Errorf("the keyboard closed while typing")
	}
	k.tap(t, "done")
	k.tap(t, "password-skip")

	// The face step: the live picture comes from Go's replay camera.
	for _, size := range []image.Point{landscape, portrait} {
		r, img := k.show(t, "face", size, has("preview", "face-hint"))
		k.drawn(t, r, img, "face-hint")
		p := r.Element("preview")
		if sd := spread(img, image.Rect(p.X, p.Y, p.X+p.W, p.Y+p.H)); sd < 20 {
			t.Errorf("face %v: the camera picture %+v is flat (spread %.0f): no frames drawn (see %s)", size, p, sd, k.last)
		}
	}

	// Exit (the face analysis stops); the account login: its password
	// takes the letters keyboard, its captcha the keypad.
	k.tap(t, "logout")
	k.arrange(t, "welcome", portrait, has("start"))
	k.tap(t, "start")
	k.arrange(t, "login", portrait, has("account-mode"))
	k.tap(t, "account-mode")
	for _, size := range []image.Point{landscape, portrait} {
		r, img := k.show(t, "login", size, has("account-form", "acc-id", "acc-password", "acc-answer", "acc-submit", "acc-captcha"))
		k.drawn(t, r, img, "acc-submit", "acc-captcha")
	}
	k.tap(t, "acc-password")
	k.arrange(t, "login", portrait, has("text-keyboard"))
	k.tap(t, "acc-answer")
	r = k.arrange(t, "login", portrait, has("keypad"))
	if r.Element("text-keyboard") != nil {
		t.Errorf("the captcha field has the letters keyboard, not the keypad")
	}
	k.tap(t, "done")
	k.arrange(t, "login", portrait, func(r *app.LayoutReport) bool { return r.Element("keypad") == nil })
	k.tap(t, "logout")

	// The staff console's PIN.
	k.arrange(t, "welcome", portrait, has("staff-open"))
	k.tap(t, "staff-open")
	for _, size := range []image.Point{landscape, portrait} {
		r, img := k.show(t, "staff", size, has("staff-pin", "staff-login"))
		k.drawn(t, r, img, "staff-login")
	}
	k.tap(t, "staff-pin")
	for _, size := range []image.Point{portrait, landscape} {
		r, img := k.show(t, "staff", size, has("keypad", "staff-login"))
		k.drawn(t, r, img, "keypad", "staff-login")
	}
	for _, key := range strings.Split(staffPIN, "") {
		k.tap(t, key)
		time.Sleep(50 * time.Millisecond)
	}
	k.arrange(t, "staff", landscape, func(r *app.LayoutReport) bool { e := r.Element("staff-pin"); return e != nil && e.Data["chars"] == "6" })
	k.tap(t, "done")
	k.arrange(t, "staff", landscape, func(r *app.LayoutReport) bool { return r.Element("keypad") == nil })
	k.tap(t, "staff-login")

	// The console: health, delivery, store. A message after an action
	// appears in room kept for it: the buttons stay where they were (a
	// tap aimed at one must not miss because the layout moved).
	var before *app.LayoutElement
	for _, size := range []image.Point{landscape, portrait} {
		r, img := k.show(t, "staff", size, has("staff-sync", "staff-sync-now"))
		k.drawn(t, r, img, "staff-sync", "staff-sync-now")
		before = r.Element("staff-sync-now")
	}
	k.tap(t, "staff-sync-now")
	r = k.arrange(t, "staff", portrait, func(r *app.LayoutReport) bool {
		n := r.Element("staff-notice")
		return n != nil && strings.Contains(n.Text, "已开始报送")
	})
	if after := r.Element("staff-sync-now"); after.X != before.X || after.Y != before.Y {
		t.Errorf("the staff console's message moved the sync button from %d,%d to %d,%d", before.X, before.Y, after.X, after.Y)
	}
}

// kiosk is the running production binary and its window.
type kiosk struct {
	display, ready, window, shots, last string
	size                                image.Point
	report                              *app.LayoutReport
}

func startKiosk(t *testing.T, bin, display, work, models, centralURL string) *kiosk {
	t.Helper()
	clip := filepath.Join(work, "frames")
	os.MkdirAll(clip, 0o755)
	writeFrames(t, clip)
	cfg := filepath.Join(work, "config.toml")
	pin, err := app.HashPIN(staffPIN)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(cfg, []byte(fmt.Sprintf("[centre]\nname = %q\ncode = %q\n[kiosk]\nstaff_pin_hash = %q\n[store]\npath = %q\n[face]\nmodels_dir = %q\n[camera]\ndevice = \"replay:%s\"\n[sync]\ncentral_url = %q\n",
		centreName, central.DemoCentreID, pin, filepath.Join(work, "data", "kiosk.db"), models, clip, centralURL)), 0o600)
	ready := filepath.Join(work, "ready")
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--config", cfg, "--ready-file", ready, "--enrol", central.DemoEnrolmentCode)
	cmd.Env = append(os.Environ(), "DISPLAY="+display, "HOME="+work, "XDG_CACHE_HOME="+filepath.Join(work, "cache"),
		"EXAMKIOSK_ORT_DIR="+filepath.Dir(ort.DefaultLibraryPath()))
	logPath := filepath.Join(work, "kiosk.log")
	logFile, _ := os.Create(logPath)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cancel()
		<-exited
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("kiosk log:\n%s", b)
		}
	})
	k := &kiosk{display: display, ready: ready}
	defer func(start time.Time) { t.Logf("kiosk window up in %s", time.Since(start).Round(time.Millisecond)) }(time.Now())
	deadline := time.Now().Add(90 * time.Second)
	for k.window == "" {
		search := exec.Command("xdotool", "search", "--onlyvisible", "--name", "^ExamKiosk$")
		search.Env = append(os.Environ(), "DISPLAY="+display)
		out, _ := search.Output()
		if f := strings.Fields(string(out)); len(f) > 0 {
			k.window = f[0]
			break
		}
		select {
		case <-exited:
			t.Fatalf("the kiosk exited before its window showed (log: %s)", logPath)
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no kiosk window after 90 s (log: %s)", logPath)
		}
	}
	return k
}

// writeFrames writes a few frames with a pattern for the replay camera.
func writeFrames(t *testing.T, dir string) {
	frame := image.NewRGBA(image.Rect(0, 0, 640, 480))
	for y := 0; y < 480; y++ {
		for x := 0; x < 640; x++ {
			frame.Set(x, y, color.RGBA{uint8(x * 255 / 640), uint8(y * 255 / 480), uint8((x ^ y) & 0xff), 255})
		}
	}
	for i := 0; i < 3; i++ {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%03d.png", i)))
		if err != nil {
			t.Fatal(err)
		}
		png.Encode(f, frame)
		f.Close()
	}
}

func (k *kiosk) xdotool(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command("xdotool", args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+k.display)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("xdotool %v: %v\n%s", args, err, out)
	}
}

// resize makes the window size big at the top left of the screen.
func (k *kiosk) resize(t *testing.T, size image.Point) {
	k.xdotool(t, "windowmove", k.window, "0", "0", "windowsize", k.window, strconv.Itoa(size.X), strconv.Itoa(size.Y))
	k.size = size
}

// placed waits until X has the window at the top left with size (the page
// may report its new size before the window moved).
func (k *kiosk) placed(t *testing.T, size image.Point) {
	t.Helper()
	want := fmt.Sprintf("X=0\nY=0\nWIDTH=%d\nHEIGHT=%d\n", size.X, size.Y)
	var got []byte
	for i := 0; i < 50; i++ {
		cmd := exec.Command("xdotool", "getwindowgeometry", "--shell", k.window)
		cmd.Env = append(os.Environ(), "DISPLAY="+k.display)
		got, _ = cmd.Output()
		if strings.Contains(string(got), want) {
			return
		}
		if i%10 == 9 {
			k.resize(t, size)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the window is not at 0,0 with size %v after 5 s:\n%s", size, got)
}

// layout waits for the page's layout report on screen at size that
// satisfies ok.
func (k *kiosk) layout(t *testing.T, screen string, size image.Point, ok func(*app.LayoutReport) bool) *app.LayoutReport {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var r app.LayoutReport
	for {
		b, err := os.ReadFile(app.LayoutFile(k.ready))
		if err == nil && json.Unmarshal(b, &r) == nil && r.Screen == screen && ok(&r) && r.Width == size.X && r.Height == size.Y {
			k.report = &r
			return &r
		}
		if time.Now().After(deadline) {
			t.Fatalf("no layout report of %s at %v that has what the screen needs after 30 s; the last: %s", screen, size, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// show sizes the window, waits for the screen and checks its layout and
// its screenshot.
func (k *kiosk) show(t *testing.T, screen string, size image.Point, ok func(*app.LayoutReport) bool) (*app.LayoutReport, *image.RGBA) {
	t.Helper()
	start := time.Now()
	defer func() {
		t.Logf("%s %v: shown and checked in %s", screen, size, time.Since(start).Round(time.Millisecond))
	}()
	r := k.arrange(t, screen, size, ok)
	k.placed(t, size)
	time.Sleep(150 * time.Millisecond) // the frame after the measured one
	img := k.screenshot(t, screen, size)
	// Not blank: no colour fills the screen, and the page's background
	// (frontend/src/style.css) is there.
	bg := color.RGBA{0xf5, 0xf7, 0xfa, 255}
	if screen == "staff" {
		bg = color.RGBA{0xee, 0xf2, 0xf6, 255} // the console covers the page (style.css .staff)
	}
	if s := shareOf(img, img.Bounds(), bg, 6); s > 0.97 || s < 0.05 {
		t.Errorf("%s %v: the page background covers %.0f%% of the screen: blank or not the kiosk's page (see %s)", screen, size, s*100, k.last)
	}
	return r, img
}

// arrange sizes the window and waits for the screen, and checks its layout
// report: nothing off the screen, covered or overlapping.
func (k *kiosk) arrange(t *testing.T, screen string, size image.Point, ok func(*app.LayoutReport) bool) *app.LayoutReport {
	t.Helper()
	resized := time.Time{}
	if size != k.size {
		if k.size != (image.Point{}) {
			// The screen first, as a tap left it: a click still in flight
			// would land outside a window that shrank under it.
			k.layout(t, screen, k.size, ok)
		}
		k.resize(t, size)
		resized = time.Now()
	}
	r := k.layout(t, screen, size, func(r *app.LayoutReport) bool {
		// GTK may still apply its own first size: ask again.
		if (r.Width != size.X || r.Height != size.Y) && time.Since(resized) > 2*time.Second {
			k.resize(t, size)
			resized = time.Now()
		}
		return ok(r)
	})
	for _, p := range r.Problems {
		t.Errorf("%s %v: %s %v", screen, size, p.Code, p.IDs)
	}
	return r
}

// screenshot takes the window's picture (an artifact) and decodes it.
func (k *kiosk) screenshot(t *testing.T, screen string, size image.Point) *image.RGBA {
	t.Helper()
	k.last = filepath.Join(k.shots, fmt.Sprintf("window-%s-%dx%d.png", screen, size.X, size.Y))
	if n := 1; fileExists(k.last) {
		for fileExists(strings.TrimSuffix(k.last, ".png") + "-" + strconv.Itoa(n) + ".png") {
			n++
		}
		k.last = strings.TrimSuffix(k.last, ".png") + "-" + strconv.Itoa(n) + ".png"
	}
	cmd := exec.Command("import", "-display", k.display, "-window", "root", "-crop", fmt.Sprintf("%dx%d+0+0", size.X, size.Y), "+repage",
		"-define", "png:compression-level=1", k.last)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("screenshot: %v\n%s", err, out)
	}
	f, err := os.Open(k.last)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("decode %s: %v", k.last, err)
	}
	if b := img.Bounds(); b.Dx() != size.X || b.Dy() != size.Y {
		t.Fatalf("screenshot %s is %v, want %v", k.last, b, size)
	}
	rgba, ok := img.(*image.RGBA)
	if !ok {
		rgba = image.NewRGBA(img.Bounds())
		draw.Draw(rgba, rgba.Bounds(), img, img.Bounds().Min, draw.Src)
	}
	return rgba
}

// drawn checks that each element is drawn where the page says it is: its
// box is on the screenshot and not one flat colour.
func (k *kiosk) drawn(t *testing.T, r *app.LayoutReport, img *image.RGBA, ids ...string) {
	t.Helper()
	for _, id := range ids {
		e := r.Element(id)
		if e == nil {
			t.Errorf("%s %dx%d: no element %s", r.Screen, r.Width, r.Height, id)
			continue
		}
		box := image.Rect(e.X, e.Y, e.X+e.W, e.Y+e.H)
		if !box.In(img.Bounds()) {
			t.Errorf("%s %dx%d: %s at %v is not wholly on the %v screen", r.Screen, r.Width, r.Height, id, box, img.Bounds().Size())
			continue
		}
		if sd := spread(img, box); sd < 8 {
			t.Errorf("%s %dx%d: %s at %v is one flat colour (spread %.1f): not drawn (see %s)", r.Screen, r.Width, r.Height, id, box, sd, k.last)
		}
	}
}

// tap clicks the middle of an element of the last layout report.
func (k *kiosk) tap(t *testing.T, id string) {
	t.Helper()
	e := k.report.Element(id)
	if e == nil {
		t.Fatalf("%s: no element %s to tap", k.report.Screen, id)
	}
	k.xdotool(t, "mousemove", strconv.Itoa(e.X+e.W/2), strconv.Itoa(e.Y+e.H/2), "click", "1")
}

// spread is the standard deviation of the brightness in r.
func spread(img *image.RGBA, r image.Rectangle) float64 {
	var n, sum, sq float64
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := img.Pix[img.PixOffset(r.Min.X, y):img.PixOffset(r.Max.X, y)]
		for i := 0; i < len(row); i += 4 {
			v := (299*float64(row[i]) + 587*float64(row[i+1]) + 114*float64(row[i+2])) / 1000
			n++
			sum += v
			sq += v * v
		}
	}
	if n == 0 {
		return 0
	}
	m := sum / n
	return math.Sqrt(math.Max(0, sq/n-m*m))
}

// shareOf is the share of the pixels in r within tol of c.
func shareOf(img *image.RGBA, r image.Rectangle, c color.RGBA, tol int) float64 {
	n, hit := 0, 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		row := img.Pix[img.PixOffset(r.Min.X, y):img.PixOffset(r.Max.X, y)]
		for i := 0; i < len(row); i += 4 {
			n++
			if near(color.RGBA{row[i], row[i+1], row[i+2], 255}, c, tol) {
				hit++
			}
		}
	}
	if n == 0 {
		return 0
	}
	return float64(hit) / float64(n)
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// confirmOnPhone plays the phone: it opens the QR code's link and
// confirms a demo identity on the central's page.
func confirmOnPhone(t *testing.T, link string) {
	t.Helper()
	if link == "" {
		t.Fatal("the QR code has no link")
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	resp, err := c.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindSubmatch(page)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("phone page %s: %s\n%s", link, resp.Status, page)
	}
	resp, err = c.PostForm(link, url.Values{"csrf": {string(m[1])}, "name": {"张三"}, "id_number": {"11010519491231002X"}})
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("confirm on the phone page: %s\n%s", resp.Status, page)
	}
}
