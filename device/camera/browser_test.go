package camera

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// stampedOpener is a 640x480 MJPEG camera at fps whose frames show a real
// picture with the capture time (ms since epoch0) stamped as 32 black/white
// blocks along the top, so a page can read it back from the screen.
func stampedOpener(bg image.Image, epoch0 time.Time, fps float64) Opener {
	return func(context.Context) (Source, error) {
		img := image.NewRGBA(image.Rect(0, 0, 640, 480))
		var due time.Time
		period := time.Duration(float64(time.Second) / fps)
		return &fakeSource{info: SourceInfo{Device: "stamped", Mode: Mode{FormatMJPEG, 640, 480, fps}}, read: func(ctx context.Context) (Frame, error) {
			if due.IsZero() {
				due = time.Now()
			}
			if !sleep(ctx, time.Until(due)) {
				return Frame{}, ctx.Err()
			}
			due = due.Add(period)
			stamp := uint32(time.Since(epoch0).Milliseconds())
			draw.Draw(img, img.Rect, bg, bg.Bounds().Min, draw.Src)
			for bit := range 32 {
				c := color.Gray{0}
				if stamp>>(31-bit)&1 == 1 {
					c = color.Gray{255}
				}
				draw.Draw(img, image.Rect(bit*20, 0, bit*20+20, 20), image.NewUniform(c), image.Point{}, draw.Src)
			}
			var b bytes.Buffer
			if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 85}); err != nil {
				return Frame{}, err
			}
			return Frame{Format: FormatMJPEG, Width: 640, Height: 480, Data: b.Bytes()}, nil
		}}, nil
	}
}

// page shows the stream in an <img> as the kiosk UI does, copies it to a
// canvas at every animation frame, reads the stamp and reports when each new
// frame first reached the screen. It is served from the stream's origin only
// because reading pixels back needs an untainted canvas: WebKitGTK refuses
// a crossorigin="anonymous" multipart image, while a plain cross-origin
// <img> (what the kiosk UI uses) displays fine.
const benchPage = `<!doctype html><html><body style="margin:0;background:#000">
<img id="v" width="640" height="480">
<canvas id="c" width="640" height="20" style="display:none"></canvas>
<script>
const q = new URLSearchParams(location.search);
const epoch0 = Number(q.get("epoch0")), want = Number(q.get("n"));
const img = document.getElementById("v"), ctx = document.getElementById("c").getContext("2d", {willReadFrequently: true});
img.onerror = (e) => { err = "img error"; };
img.src = q.get("stream");
let last = -1, lat = [], first = 0, err = "";
function stamp() {
  ctx.drawImage(img, 0, 0);
  const d = ctx.getImageData(0, 0, 640, 20).data;
  let v = 0;
  for (let bit = 0; bit < 32; bit++) { v = v * 2 + (d[(10 * 640 + bit * 20 + 10) * 4] > 127 ? 1 : 0); }
  return v;
}
function tick() {
  try {
    if (img.naturalWidth > 0) {
      const s = stamp(), now = Date.now() - epoch0;
      if (s !== last && s > 0 && s <= now) {
        if (last >= 0) { lat.push(now - s); if (!first) { first = now; fetch("/mark", {method: "POST"}); } }
        last = s;
      }
    }
  } catch (e) { err = String(e); }
  if (lat.length >= want || err) {
    fetch("/report", {method: "POST", body: JSON.stringify({lat, elapsed: Date.now() - epoch0 - first, err, ua: navigator.userAgent})});
    return;
  }
  requestAnimationFrame(tick);
}
if (q.get("probe") === "0") {
  // Display only, as the kiosk UI does: no canvas read-back, CPU measured.
  setTimeout(() => fetch("/mark", {method: "POST"}), 2000);
  setTimeout(() => fetch("/report", {method: "POST", body: JSON.stringify({lat: [], elapsed: 0, err: "", ua: navigator.userAgent})}), 2000 + want * 1000 / 15);
} else {
  requestAnimationFrame(tick);
}
</script></body></html>`

type browserReport struct {
	Lat     []float64 `json:"lat"`
	Elapsed float64   `json:"elapsed"`
	Err     string    `json:"err"`
	UA      string    `json:"ua"`
}

// browsers finds the engines to measure: WebKitGTK's MiniBrowser (the
// engine Wails uses on Linux, run under xvfb-run) and headless Chromium.
func browsers() map[string][]string {
	out := map[string][]string{}
	xvfb, xerr := exec.LookPath("xvfb-run")
	mini := "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.0/MiniBrowser"
	if _, err := os.Stat(mini); err == nil && xerr == nil {
		out["webkitgtk"] = []string{xvfb, "-a", "-s", "-screen 0 1280x800x24", mini}
	}
	if c, err := exec.LookPath("chromium"); err == nil {
		out["chromium"] = []string{c, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=" + filepath.Join(os.TempDir(), "camera-bench-chromium")}
	}
	return out
}

// BenchmarkPreviewBrowser measures capture to screen in a real browser
// engine: the page reads the capture time stamped into each frame from the
// pixels it draws and compares it with the clock when the frame first shows
// (requestAnimationFrame; the display adds at most one vsync). It also
// reports the CPU used meanwhile by this process (camera, pipeline, HTTP;
// the stamping encode included) and by the browser's process group (for
// WebKitGTK including Xvfb). Slow (15 fps real time); needs xvfb-run and
// WebKitGTK's MiniBrowser and/or chromium:
//
//	go test -run '^$' -bench PreviewBrowser -benchtime 150x ./device/camera
func BenchmarkPreviewBrowser(b *testing.B) {
	live := filepath.Join(facesDir(b), "live", "cap13_blink_turn")
	clip := filepath.Join(live, "cap13_blink_turn.mjpeg")
	data, err := os.ReadFile(filepath.Join(live, "frames", "000062.jpg"))
	if err != nil {
		b.Skip(err)
	}
	bg, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		b.Fatal(err)
	}
	engines := browsers()
	if len(engines) == 0 {
		b.Skip("no browser engine found (WebKitGTK MiniBrowser with xvfb-run, or chromium)")
	}
	for _, name := range []string{"webkitgtk", "chromium"} {
		argv, ok := engines[name]
		if !ok {
			continue
		}
		b.Run(name, func(b *testing.B) {
			epoch0 := time.Now()
			benchBrowser(b, stampedOpener(bg, epoch0, 15), epoch0, argv, true)
		})
		b.Run(name+"-display-only-clip", func(b *testing.B) {
			benchBrowser(b, replayOpener(clip, replayConfig(15, true)), time.Now(), argv, false)
		})
	}
}

// benchBrowser runs one engine on the page; with probe false the page only
// displays the stream (the kiosk's case) and only CPU is reported.
func benchBrowser(b *testing.B, open Opener, epoch0 time.Time, argv []string, probe bool) {
	cfg := testConfig()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cam := New(ctx, open, "bench", cfg, WithLogger(slog.New(slog.DiscardHandler)))
	defer cam.Close()
	p, err := NewPreview(cam, cfg)
	if err != nil {
		b.Fatal(err)
	}
	reports := make(chan browserReport, 1)
	mux := http.NewServeMux()
	mux.Handle("/camera/", p)
	mux.HandleFunc("/page", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, benchPage)
	})
	type mark struct {
		at                time.Time
		goCPU, browserCPU time.Duration
		byName            map[string]time.Duration
	}
	var pgid int
	marks := make(chan mark, 1)
	mux.HandleFunc("/mark", func(w http.ResponseWriter, r *http.Request) {
		select {
		case marks <- mark{time.Now(), cpuTime(b), groupCPU(pgid), groupCPUByName(pgid)}:
		default:
		}
	})
	mux.HandleFunc("/report", func(w http.ResponseWriter, r *http.Request) {
		var rep browserReport
		if err := json.NewDecoder(r.Body).Decode(&rep); err != nil {
			rep.Err = err.Error()
		}
		select {
		case reports <- rep:
		default:
		}
	})
	page := httptest.NewServer(mux)
	defer page.Close()
	stream := page.URL + "/camera/stream.mjpeg?token=" + p.Token()
	q := fmt.Sprintf("%s/page?epoch0=%d&n=%d&stream=%s", page.URL, epoch0.UnixMilli(), max(b.N, 30), urlQueryEscape(stream))
	if !probe {
		q += "&probe=0"
	}
	cmd := exec.Command(argv[0], append(argv[1:], q)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	pgid = cmd.Process.Pid
	defer func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) // the browser and its helpers only
		cmd.Wait()
	}()
	b.ResetTimer()
	var rep browserReport
	select {
	case rep = <-reports:
	case <-time.After(time.Duration(max(b.N, 30))*time.Second/15 + 60*time.Second):
		b.Fatalf("no report from the page; browser stderr:\n%s", stderr.String())
	}
	end := mark{time.Now(), cpuTime(b), groupCPU(pgid), groupCPUByName(pgid)}
	b.StopTimer()
	var start mark
	select {
	case start = <-marks:
	default:
		b.Fatal("page sent no start mark")
	}
	wall := end.at.Sub(start.at).Seconds()
	b.ReportMetric(100*(end.goCPU-start.goCPU).Seconds()/wall, "go-cpu-%core")
	b.ReportMetric(100*(end.browserCPU-start.browserCPU).Seconds()/wall, "browser-cpu-%core")
	for name, d := range end.byName {
		if b.N == 1 {
			break // the sizing run
		}
		if pct := 100 * (d - start.byName[name]).Seconds() / wall; pct >= 0.5 {
			b.Logf("%s: %.1f%% of a core", name, pct)
		}
	}
	if !probe {
		return
	}
	if rep.Err != "" || len(rep.Lat) == 0 {
		b.Fatalf("page error %q after %d frames (%s)", rep.Err, len(rep.Lat), rep.UA)
	}
	slices.Sort(rep.Lat)
	b.ReportMetric(float64(len(rep.Lat)-1)/(rep.Elapsed/1000), "fps-shown")
	b.ReportMetric(rep.Lat[len(rep.Lat)/2], "screen-lat-p50-ms")
	b.ReportMetric(rep.Lat[len(rep.Lat)*95/100], "screen-lat-p95-ms")
	b.ReportMetric(rep.Lat[len(rep.Lat)-1], "screen-lat-max-ms")
	if b.N > 1 {
		b.Logf("%s", rep.UA)
	}
}

func urlQueryEscape(s string) string {
	var b bytes.Buffer
	for _, c := range []byte(s) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// groupCPU sums the CPU time (user + system) of the live processes in
// process group pgid, from /proc (clock ticks of 10 ms).
func groupCPU(pgid int) time.Duration {
	var total time.Duration
	for _, d := range groupCPUByName(pgid) {
		total += d
	}
	return total
}

// groupCPUByName is groupCPU per command name.
func groupCPUByName(pgid int) map[string]time.Duration {
	out := map[string]time.Duration{}
	if pgid == 0 {
		return out
	}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// Fields after the command name: state ppid pgrp … utime(14) stime(15).
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 13 {
			continue
		}
		if g, _ := strconv.Atoi(f[2]); g != pgid {
			continue
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		s, _ := strconv.ParseInt(f[12], 10, 64)
		name := string(b[bytes.IndexByte(b, '(')+1 : i])
		out[name] += time.Duration(u+s) * 10 * time.Millisecond
	}
	return out
}
