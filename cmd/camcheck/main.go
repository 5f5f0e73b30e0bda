// Command camcheck checks a kiosk camera for installers: it lists the V4L2
// devices with their formats, frame sizes and rates, opens the camera the
// way the kiosk does, grabs frames, reports the achieved frame rate and
// saves a sample frame.
//
// Usage:
//
//	camcheck [-device auto|/dev/videoN|replay:PATH] [-n 60] [-out camcheck.jpg]
//	         [-width 640] [-height 480] [-fps 15] [-formats MJPG,YUYV]
//	         [-min-fps 12] [-timeout 15s] [-list]
//
// It exits 0 when the camera delivered n decodable frames at min-fps or
// better, 1 when it did not, and 2 on bad flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"time"

	"examkiosk/device/camera"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg := camera.DefaultConfig()
	fs := flag.NewFlagSet("camcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	device := fs.String("device", cfg.Device, `camera: "auto", a device path such as /dev/video0, or replay:PATH`)
	n := fs.Int("n", 60, "frames to grab")
	out := fs.String("out", "camcheck.jpg", "where to save a sample frame (JPEG); empty to skip")
	fs.IntVar(&cfg.Width, "width", cfg.Width, "preferred width")
	fs.IntVar(&cfg.Height, "height", cfg.Height, "preferred height")
	fs.Float64Var(&cfg.FPS, "fps", cfg.FPS, "preferred frame rate")
	formats := fs.String("formats", strings.Join(cfg.Formats, ","), "acceptable pixel formats in order of preference")
	minFPS := fs.Float64("min-fps", 12, "lowest acceptable achieved frame rate")
	timeout := fs.Duration("timeout", 15*time.Second, "give up after this long")
	listOnly := fs.Bool("list", false, "only list the devices")
	verbose := fs.Bool("v", false, "log camera state changes")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg.Device = *device
	cfg.Formats = strings.Split(*formats, ",")
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(stderr, "camcheck:", err)
		return 2
	}
	if *n < 1 {
		fmt.Fprintln(stderr, "camcheck: -n must be at least 1")
		return 2
	}

	if !strings.HasPrefix(*device, "replay:") || *listOnly {
		devs, err := camera.ListDevices(ctx)
		if err != nil {
			fmt.Fprintln(stderr, "camcheck: list devices:", err)
			return 1
		}
		printDevices(stdout, devs)
		if *listOnly {
			return 0
		}
	}

	level := slog.LevelError
	if *verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	cam, err := camera.Open(ctx, *device, cfg, camera.WithLogger(log))
	if err != nil {
		fmt.Fprintln(stderr, "camcheck:", err)
		return 2
	}
	defer cam.Close()
	gctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	res, err := grab(gctx, cam, *n)
	st := cam.Status()
	fmt.Fprintf(stdout, "\ncamera %s: %s\n", st.Device, st.State)
	if st.Name != "" {
		fmt.Fprintf(stdout, "  device name: %s, mode: %s\n", st.Name, st.Mode)
	}
	if st.Detail != "" {
		fmt.Fprintf(stdout, "  detail: %s\n", st.Detail)
	}
	if err != nil {
		fmt.Fprintf(stdout, "FAIL: %v\n", err)
		return 1
	}
	stats := cam.Stats()
	fmt.Fprintf(stdout, "grabbed %d frames (%dx%d %s) in %s after %s to the first frame: %.1f fps\n",
		res.frames, res.sample.Width, res.sample.Height, res.sample.Format, res.elapsed.Round(time.Millisecond), res.first.Round(time.Millisecond), res.fps)
	fmt.Fprintf(stdout, "bad frames %d, frames not decodable %d, reconnects %d\n", stats.BadFrames, res.undecodable, stats.Reconnects)
	if *out != "" {
		data, err := res.sample.JPEG(90)
		if err == nil {
			err = os.WriteFile(*out, data, 0o644)
		}
		if err != nil {
			fmt.Fprintf(stdout, "FAIL: save sample frame: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "sample frame saved to %s (%d bytes)\n", *out, len(data))
	}
	switch {
	case res.undecodable > 0:
		fmt.Fprintf(stdout, "FAIL: %d frames could not be decoded\n", res.undecodable)
		return 1
	case res.fps < *minFPS:
		fmt.Fprintf(stdout, "FAIL: %.1f fps is below the minimum %.1f (check light: many webcams halve the rate in the dark; check the USB port)\n", res.fps, *minFPS)
		return 1
	}
	fmt.Fprintln(stdout, "PASS")
	return 0
}

type result struct {
	frames      int
	undecodable int
	first       time.Duration
	elapsed     time.Duration
	fps         float64
	sample      camera.Frame
}

// grab takes n frames, decoding each one as the face analysis would.
func grab(ctx context.Context, cam *camera.Camera, n int) (result, error) {
	var r result
	k := cam.NewConsumer("camcheck")
	defer k.Close()
	start := time.Now()
	var first camera.Frame
	for r.frames < n {
		f, err := k.Next(ctx)
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				return r, fmt.Errorf("got %d of %d frames before the timeout", r.frames, n)
			}
			return r, fmt.Errorf("after %d frames: %w", r.frames, err)
		}
		if r.frames == 0 {
			first = f
			r.first = time.Since(start)
		}
		if _, err := f.Image(); err != nil {
			r.undecodable++
		}
		r.frames++
		r.sample = f
		r.elapsed = f.Time.Sub(first.Time)
	}
	if r.frames > 1 && r.elapsed > 0 {
		// Frames this loop was too slow to take still arrived: count them
		// by sequence number.
		r.fps = float64(r.sample.Seq-first.Seq) / r.elapsed.Seconds()
	}
	return r, nil
}

func printDevices(w io.Writer, devs []camera.DeviceInfo) {
	if len(devs) == 0 {
		fmt.Fprintln(w, "no /dev/video* devices found (is the camera plugged in? is the uvcvideo module loaded?)")
		return
	}
	for _, d := range devs {
		if !d.CanCapture {
			fmt.Fprintf(w, "%s: cannot be used: %s (%s)\n", d.Path, d.State, d.Error)
			continue
		}
		fmt.Fprintf(w, "%s: %s (driver %s)\n", d.Path, d.Name, d.Driver)
		for _, f := range d.Formats {
			fmt.Fprintf(w, "  %s %s:", f.Format, f.Description)
			for _, s := range f.Sizes {
				fmt.Fprintf(w, " %s", s.Size)
				if len(s.Rates) > 0 {
					fmt.Fprintf(w, "@%v", s.Rates)
				}
			}
			fmt.Fprintln(w)
		}
	}
}
