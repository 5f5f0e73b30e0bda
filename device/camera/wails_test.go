package camera

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The kiosk page is served as wails://wails/ in WebKitGTK. This test loads
// such a page in a real WebKitGTK web view (testdata/wailsprobe.c, under
// Xvfb) and checks the UI contract end to end: the <img> shows the loopback
// MJPEG stream (no mixed-content or CORS refusal), and an EventSource gets
// the camera status and the overlay metadata.
func TestPreviewInWailsWebView(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a WebKitGTK web view; skipped in -short mode")
	}
	xvfb, err := exec.LookPath("xvfb-run")
	if err != nil {
		t.Skip("xvfb-run not installed (apt install xvfb xauth)")
	}
	cc, err := exec.LookPath("cc")
	if err != nil {
		t.Skip("no C compiler")
	}
	flags, err := exec.Command("pkg-config", "--cflags", "--libs", "webkit2gtk-4.0").Output()
	if err != nil {
		t.Skip("webkit2gtk-4.0 development files not installed (apt install libwebkit2gtk-4.0-dev)")
	}
	probe := filepath.Join(t.TempDir(), "wailsprobe")
	args := append([]string{"-o", probe, filepath.Join("testdata", "wailsprobe.c")}, strings.Fields(string(flags))...)
	if out, err := exec.Command(cc, args...).CombinedOutput(); err != nil {
		t.Fatalf("build wailsprobe: %v\n%s", err, out)
	}

	cfg := replayConfig(15, true)
	cam, p, srv := startPreview(t, replayOpener(frameDir(t, 3, 64, 48), cfg), cfg)
	waitState(t, cam.Watch(t.Context()), StateOK)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() { // the app publishing guidance for the overlay
		for seq := uint64(1); ctx.Err() == nil; seq++ {
			p.SetMeta(seq, map[string]string{"code": "ok"})
			time.Sleep(100 * time.Millisecond)
		}
	}()

	page := `<!doctype html><html><body><img id="v" src="` + srv.StreamURL() + `"><script>
let status = "", meta = 0;
const es = new EventSource("` + srv.EventsURL() + `");
es.addEventListener("status", e => { status = JSON.parse(e.data).state; });
es.addEventListener("meta", e => { if (JSON.parse(e.data).data.code === "ok") meta++; });
const img = document.getElementById("v");
function check() {
  if (img.naturalWidth > 0 && status === "ok" && meta > 1) {
    document.title = "done ok " + img.naturalWidth + "x" + img.naturalHeight + " origin=" + location.origin;
  } else {
    setTimeout(check, 100);
  }
}
check();
setTimeout(() => { document.title = "done fail img=" + img.naturalWidth + " status=" + status + " meta=" + meta; }, 15000);
</script></body></html>`
	cmd := exec.CommandContext(ctx, xvfb, "-a", probe, page)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	got := strings.TrimSpace(string(out))
	if err != nil || !strings.HasPrefix(got, "done ok 64x48") {
		t.Fatalf("web view reported %q (%v)\nstderr:\n%s", got, err, stderr.String())
	}
	t.Log(got)
}
