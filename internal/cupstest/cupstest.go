// Package cupstest starts a private CUPS scheduler for tests that print for
// real (printer.StartLocal: its own cupsd in a temporary folder, with a
// cups-pdf queue writing what it prints into that folder) and reads printed
// PDFs back with poppler's pdftotext and pdftoppm. Tests skip when the
// binaries (or root, which CUPS needs to run cups-pdf) are absent, except
// under CI (CI=true), where their absence is a failure (build/setup.sh
// installs cups, printer-driver-cups-pdf and poppler-utils).
package cupstest

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"examkiosk/device/printer"
)

// skip skips (or, under CI, fails) the test for what is missing.
func skip(t testing.TB, missing string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s required in CI (build/setup.sh deps installs it; CI runs as root)", missing)
	}
	t.Skipf("skipping: %s missing (build/setup.sh deps)", missing)
}

// Server is a running private cupsd with one cups-pdf queue.
type Server struct {
	*printer.Local
}

// Start starts a private cupsd with a cups-pdf queue and stops it when the
// test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	if m := printer.LocalMissing(); m != "" {
		skip(t, m)
	}
	dir, err := os.MkdirTemp("", "examkiosk-cups-")
	if err != nil {
		t.Fatal(err)
	}
	l, err := printer.StartLocal(filepath.Join(dir, "out"), fmt.Sprintf("examkiosk-test-%d-%d", os.Getpid(), time.Now().UnixNano()%1e6))
	if err != nil {
		os.RemoveAll(dir)
		t.Fatal(err)
	}
	t.Cleanup(func() {
		l.Close()
		if t.Failed() {
			t.Logf("cupsd error_log:\n%s", l.ErrorLog())
		}
		os.RemoveAll(dir)
	})
	return &Server{l}
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
		pdfs := PDFs(s.Out)
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

// PDFs lists the PDF files under dir, oldest first.
func PDFs(dir string) []string {
	type f struct {
		path string
		mod  time.Time
	}
	var fs []f
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".pdf") {
			if info, err := d.Info(); err == nil {
				fs = append(fs, f{p, info.ModTime()})
			}
		}
		return nil
	})
	for i := 1; i < len(fs); i++ {
		for j := i; j > 0 && fs[j].mod.Before(fs[j-1].mod); j-- {
			fs[j], fs[j-1] = fs[j-1], fs[j]
		}
	}
	out := make([]string, len(fs))
	for i := range fs {
		out[i] = fs[i].path
	}
	return out
}

// Text returns the text of a PDF (pdftotext, layout kept).
func Text(t testing.TB, pdf []byte) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		skip(t, "pdftotext (poppler-utils)")
	}
	cmd := exec.Command("pdftotext", "-layout", "-enc", "UTF-8", "-", "-")
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
	if _, err := exec.LookPath("pdftoppm"); err != nil {
		skip(t, "pdftoppm (poppler-utils)")
	}
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
