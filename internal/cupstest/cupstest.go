// Package cupstest starts a private CUPS scheduler for tests that print for
// real: its own cupsd in a temporary folder (own configuration, a Unix
// socket, no systemd) with a cups-pdf queue writing what it prints into that
// folder, and reads printed PDFs back with poppler's pdftotext and pdftoppm.
// Tests skip when the binaries are absent, except under CI (CI=true), where
// their absence is a failure (build/setup.sh installs cups,
// printer-driver-cups-pdf and poppler-utils).
package cupstest

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const cupsPDFBackend = "/usr/lib/cups/backend/cups-pdf"

// need skips (or, under CI, fails) unless every binary is there.
func need(t testing.TB, bins ...string) {
	t.Helper()
	var missing []string
	for _, b := range bins {
		if filepath.IsAbs(b) {
			if _, err := os.Stat(b); err != nil {
				missing = append(missing, b)
			}
		} else if _, err := exec.LookPath(b); err != nil {
			missing = append(missing, b)
		}
	}
	if len(missing) == 0 {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s required in CI (build/setup.sh deps installs them)", strings.Join(missing, ", "))
	}
	t.Skipf("skipping: %s not installed (build/setup.sh deps)", strings.Join(missing, ", "))
}

// Server is a running private cupsd with one cups-pdf queue.
type Server struct {
	Socket string // CUPS_SERVER: the scheduler's Unix socket
	Queue  string // the cups-pdf queue
	Out    string // where cups-pdf writes what the queue printed
	dir    string
}

// Start starts cupsd in a temporary folder with a cups-pdf queue and stops
// it when the test ends. cups-pdf reads its per-queue configuration from
// /etc/cups/cups-pdf-<queue>.conf (a fixed place): Start writes one for its
// uniquely named queue and removes it at the end. It needs root (as CUPS
// runs cups-pdf), as in CI.
func Start(t testing.TB) *Server {
	t.Helper()
	need(t, "cupsd", "lpadmin", "lp", "lpstat", cupsPDFBackend, "gs")
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("the CUPS tests run as root in CI (cups-pdf runs as root under cupsd)")
		}
		t.Skip("skipping: the private cupsd needs root (cups-pdf runs as root)")
	}
	dir, err := os.MkdirTemp("", "examkiosk-cups-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	s := &Server{Socket: filepath.Join(dir, "cups.sock"), Queue: fmt.Sprintf("examkiosk-test-%d-%d", os.Getpid(), time.Now().UnixNano()%1e6),
		Out: filepath.Join(dir, "out"), dir: dir}
	for _, d := range []string{"spool", "cache", "state", "log", "out", "spool/tmp", "ppd"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.Chmod(filepath.Join(dir, "spool"), 0o710)
	os.Chmod(filepath.Join(dir, "out"), 0o777)
	files := map[string]string{
		"cupsd.conf": fmt.Sprintf(`Listen %s
LogLevel warn
Browsing No
DefaultAuthType None
WebInterface No
MaxJobs 100
PreserveJobHistory Yes
<Location />
  Order allow,deny
  Allow all
</Location>
<Policy default>
  <Limit All>
    Order deny,allow
  </Limit>
</Policy>
`, s.Socket),
		"cups-files.conf": fmt.Sprintf(`ServerRoot %[1]s
RequestRoot %[1]s/spool
TempDir %[1]s/spool/tmp
CacheDir %[1]s/cache
StateDir %[1]s/state
AccessLog %[1]s/log/access_log
ErrorLog %[1]s/log/error_log
PageLog %[1]s/log/page_log
Sandboxing Relaxed
FileDevice Yes
`, dir),
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	conf := fmt.Sprintf("/etc/cups/cups-pdf-%s.conf", s.Queue)
	if err := os.WriteFile(conf, fmt.Appendf(nil, "Out %s\nAnonDirName %s\nLog %s/log\nLogType 3\nGrp root\n", s.Out, s.Out, dir), 0o644); err != nil {
		t.Fatalf("write %s: %v", conf, err)
	}
	cmd := exec.Command("cupsd", "-f", "-c", filepath.Join(dir, "cupsd.conf"), "-s", filepath.Join(dir, "cups-files.conf"))
	cmd.Env = append(os.Environ(), "CUPS_SERVERROOT="+dir)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start cupsd: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		os.Remove(conf)
		if t.Failed() {
			if log, err := os.ReadFile(filepath.Join(dir, "log", "error_log")); err == nil {
				t.Logf("cupsd error_log:\n%s", log)
			}
		}
		os.RemoveAll(dir)
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(s.Socket); err == nil {
			break
		}
		select {
		case <-exited:
			t.Fatalf("cupsd exited: %s", stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("cupsd did not start: %s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if out, err := s.Command("lpadmin", "-p", s.Queue, "-E", "-v", "cups-pdf:/"+s.Queue,
		"-P", "/usr/share/ppd/cups-pdf/CUPS-PDF_opt.ppd").CombinedOutput(); err != nil {
		t.Fatalf("lpadmin: %v: %s", err, out)
	}
	return s
}

// Command returns a CUPS client command talking to this scheduler.
func (s *Server) Command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "CUPS_SERVER="+s.Socket)
	return cmd
}

// Printed waits (up to timeout) for the n-th PDF the queue wrote and
// returns it.
func (s *Server) Printed(t testing.TB, n int, timeout time.Duration) []byte {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var pdfs []string
		filepath.WalkDir(s.Out, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(p, ".pdf") {
				pdfs = append(pdfs, p)
			}
			return nil
		})
		if len(pdfs) >= n {
			// cups-pdf writes, then hands the file over: wait until it is whole.
			data, err := os.ReadFile(pdfs[n-1])
			if err == nil && bytes.Contains(data[max(0, len(data)-64):], []byte("%%EOF")) {
				return data
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no PDF %d printed in %s (found %d in %s)", n, timeout, len(pdfs), s.Out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Text returns the text of a PDF (pdftotext, layout kept).
func Text(t testing.TB, pdf []byte) string {
	t.Helper()
	need(t, "pdftotext")
	cmd := exec.CommandContext(context.Background(), "pdftotext", "-layout", "-enc", "UTF-8", "-", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

// Page renders the first page of a PDF at dpi (pdftoppm).
func Page(t testing.TB, pdf []byte, dpi int) image.Image {
	t.Helper()
	need(t, "pdftoppm")
	cmd := exec.Command("pdftoppm", "-png", "-r", fmt.Sprint(dpi), "-f", "1", "-l", "1", "-singlefile", "-")
	cmd.Stdin = bytes.NewReader(pdf)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pdftoppm: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("pdftoppm output: %v", err)
	}
	return img
}
