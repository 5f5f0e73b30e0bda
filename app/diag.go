package app

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/BurntSushi/toml"
	qrcode "github.com/skip2/go-qrcode"

	"examkiosk/app/store"
)

// The staff console's diagnostic bundle: what support needs to tell what is
// wrong with a kiosk, and no personal data. It holds the configuration
// (the PIN hash redacted), the device status, versions and the model
// manifest, the store's counts and the sync state, and the recent log with
// only the attributes known to carry no personal data. It is written as one
// zip file to a USB stick (or any folder), or shown as a QR code of a short
// summary for a phone.

// usbMountRoots are where the kiosk looks for a USB stick: the package's
// udev rule mounts sticks at /media/examkiosk-usb.
var usbMountRoots = []string{"/media", "/run/media"}

// logAttrAllowed are the log attributes whose values go into the bundle;
// others keep their key and lose their value.
var logAttrAllowed = map[string]bool{
	"component": true, "part": true, "device": true, "state": true, "screen": true, "version": true,
	"demo": true, "url": true, "interval": true, "count": true, "kind": true, "status": true,
	"attempt": true, "delay": true, "items": true, "queued": true, "quarantined": true, "fps": true,
}

// idNumberLike matches an 18-character Chinese ID number, and phoneLike a
// mainland mobile number, wherever they appear in a kept value.
var (
	idNumberLike = regexp.MustCompile(`\d{17}[\dXx]`)
	phoneLike    = regexp.MustCompile(`1[3-9]\d{9}`)
)

// LogRing is a slog.Handler that keeps the last records in memory for the
// diagnostic bundle and passes every record on to the next handler.
type LogRing struct {
	next  slog.Handler
	attrs []slog.Attr
	ring  *ring
}

type ring struct {
	mu   sync.Mutex
	recs []string
	pos  int
	full bool
}

// NewLogRing keeps the last n records handled by next.
func NewLogRing(next slog.Handler, n int) *LogRing {
	return &LogRing{next: next, ring: &ring{recs: make([]string, n)}}
}

// Enabled implements slog.Handler.
func (h *LogRing) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

// Handle implements slog.Handler: the record is kept scrubbed.
func (h *LogRing) Handle(ctx context.Context, r slog.Record) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s", r.Time.UTC().Format(time.RFC3339), r.Level, scrub(r.Message))
	write := func(a slog.Attr) bool {
		if logAttrAllowed[a.Key] {
			fmt.Fprintf(&b, " %s=%q", a.Key, scrub(a.Value.String()))
		} else if a.Key == "err" {
			fmt.Fprintf(&b, " err=%q", scrubErr(a.Value.String()))
		} else {
			fmt.Fprintf(&b, " %s=[omitted]", a.Key)
		}
		return true
	}
	for _, a := range h.attrs {
		write(a)
	}
	r.Attrs(write)
	h.ring.add(b.String())
	return h.next.Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (h *LogRing) WithAttrs(as []slog.Attr) slog.Handler {
	return &LogRing{next: h.next.WithAttrs(as), attrs: append(slices.Clone(h.attrs), as...), ring: h.ring}
}

// WithGroup implements slog.Handler (groups are flattened in the ring).
func (h *LogRing) WithGroup(name string) slog.Handler {
	return &LogRing{next: h.next.WithGroup(name), attrs: h.attrs, ring: h.ring}
}

// Lines returns the kept records, oldest first.
func (h *LogRing) Lines() []string {
	r := h.ring
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.full {
		return slices.Clone(r.recs[:r.pos])
	}
	return append(slices.Clone(r.recs[r.pos:]), r.recs[:r.pos]...)
}

func (r *ring) add(s string) {
	r.mu.Lock()
	r.recs[r.pos] = s
	r.pos = (r.pos + 1) % len(r.recs)
	if r.pos == 0 {
		r.full = true
	}
	r.mu.Unlock()
}

func scrub(s string) string {
	return phoneLike.ReplaceAllString(idNumberLike.ReplaceAllString(s, "[id]"), "[phone]")
}

// scrubErr keeps an error's words but drops quoted values (where names and
// field contents appear in Go errors) and ID and phone numbers.
func scrubErr(s string) string {
	return scrub(quoted.ReplaceAllString(s, `"…"`))
}

var quoted = regexp.MustCompile(`"[^"]*"|“[^”]*”|「[^」]*」`)

// Diagnostics is what the bundle holds besides the config and the log.
type Diagnostics struct {
	At        time.Time    `json:"at"`
	Hostname  string       `json:"hostname"`
	Version   string       `json:"version"`
	GoVersion string       `json:"go_version"`
	OS        string       `json:"os"`
	Status    StatusReport `json:"status"`
	Store     any          `json:"store"`
	Sync      any          `json:"sync,omitempty"`
	Camera    any          `json:"camera,omitempty"`
	Models    []ModelFile  `json:"models"`
}

// diagnostics gathers the bundle's facts: no registration, no candidate.
func (a *core) diagnostics() Diagnostics {
	d := Diagnostics{At: a.opts.Now(), Version: a.opts.Version, GoVersion: runtime.Version(), Status: a.status(), Models: a.models}
	d.Hostname, _ = os.Hostname()
	if b, err := os.ReadFile("/etc/os-release"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "PRETTY_NAME="); ok {
				d.OS = strings.Trim(v, `"`)
			}
		}
	}
	if st, err := a.opts.Store.Stats(a.context()); err == nil {
		d.Store = st
	} else {
		d.Store = map[string]string{"error": err.Error()}
	}
	if c := a.sync.Load(); c != nil {
		d.Sync = c.State()
	}
	if a.opts.Camera != nil {
		d.Camera = map[string]any{"status": a.opts.Camera.Status(), "stats": a.opts.Camera.Stats()}
	}
	return d
}

// writeDiagnostics writes the bundle as a zip archive to w.
func (a *core) writeDiagnostics(w io.Writer) error {
	z := zip.NewWriter(w)
	add := func(name string, body []byte) error {
		f, err := z.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: a.opts.Now()})
		if err != nil {
			return err
		}
		_, err = f.Write(body)
		return err
	}
	var cfg bytes.Buffer
	if err := toml.NewEncoder(&cfg).Encode(a.opts.Config); err != nil {
		return fmt.Errorf("diagnostics: config: %w", err)
	}
	facts, err := json.MarshalIndent(a.diagnostics(), "", "  ")
	if err != nil {
		return fmt.Errorf("diagnostics: %w", err)
	}
	var logs []string
	if r, ok := a.log.Handler().(*LogRing); ok {
		logs = r.Lines()
	}
	for _, f := range []struct {
		name string
		body []byte
	}{
		{"README.txt", []byte("ExamKiosk diagnostic bundle: configuration (secrets redacted), status, versions, counts and the recent log. It holds no personal data.\n")},
		{"config.toml", cfg.Bytes()},
		{"diagnostics.json", facts},
		{"log.txt", []byte(strings.Join(logs, "\n") + "\n")},
	} {
		if err := add(f.name, f.body); err != nil {
			return fmt.Errorf("diagnostics: %s: %w", f.name, err)
		}
	}
	return z.Close()
}

// FindUSBStick returns the first mounted file system under /media or
// /run/media the kiosk may write to, or "".
func FindUSBStick() string {
	f, err := os.Open("/proc/self/mounts")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 2 {
			continue
		}
		mp := strings.ReplaceAll(fs[1], `\040`, " ")
		for _, root := range usbMountRoots {
			if strings.HasPrefix(mp, root+"/") && writable(mp) {
				return mp
			}
		}
	}
	return ""
}

func writable(dir string) bool {
	f, err := os.CreateTemp(dir, ".examkiosk-probe-*")
	if err != nil {
		return false
	}
	f.Close()
	os.Remove(f.Name())
	return true
}

// StaffDiagnostics writes the diagnostic bundle to dir, or to the USB stick
// found when dir is empty, and returns the file's path.
func (a *StaffService) StaffDiagnostics(dir string) (string, error) {
	if err := a.staffCheck(); err != nil {
		return "", err
	}
	if dir == "" {
		if dir = FindUSBStick(); dir == "" {
			return "", refuse("usb_not_found")
		}
	}
	host, _ := os.Hostname()
	path := filepath.Join(dir, fmt.Sprintf("examkiosk-diag-%s-%s.zip", host, a.opts.Now().UTC().Format("20060102-150405")))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", refuse("usb_write_failed", "dir", dir).because(err)
	}
	if err := a.writeDiagnostics(f); err != nil {
		f.Close()
		os.Remove(path)
		return "", err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	a.audit("staff_diagnostics", filepath.Base(path), "")
	return path, nil
}

// DiagnosticsQR is the short summary and its QR code (PNG data URL).
type DiagnosticsQR struct {
	Summary string `json:"summary"`
	PNG     string `json:"png"`
}

// diagnosticSummary is one line support can read from a phone photo:
// version, each status item's state, the queue and the last sync.
func (a *core) diagnosticSummary() string {
	d := a.diagnostics()
	parts := []string{"EK1", "host=" + d.Hostname, "v=" + d.Version}
	for _, it := range d.Status.Items {
		if it.Key != "version" {
			parts = append(parts, fmt.Sprintf("%s=%s/%s", it.Key, it.State, it.Code))
		}
	}
	if st, ok := d.Store.(store.Stats); ok {
		parts = append(parts, fmt.Sprintf("regs=%d q=%d quar=%d", st.Registrations, st.Queued, st.Quarantined))
	}
	return strings.Join(parts, " ")
}

// StaffDiagnosticsQR returns the summary and its QR code for the console.
func (a *StaffService) StaffDiagnosticsQR() (DiagnosticsQR, error) {
	if err := a.staffCheck(); err != nil {
		return DiagnosticsQR{}, err
	}
	s := a.diagnosticSummary()
	png, err := qrcode.Encode(s, qrcode.Medium, 320)
	if err != nil {
		return DiagnosticsQR{}, fmt.Errorf("summary QR: %w", err)
	}
	return DiagnosticsQR{Summary: s, PNG: "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)}, nil
}
