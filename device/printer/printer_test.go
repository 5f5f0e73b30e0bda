package printer

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/go-pdf/fpdf"

	"examkiosk/internal/cupstest"
)

func samplePDF(t *testing.T, text string) []byte {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.AddPage()
	pdf.SetFont("Helvetica", "", 20)
	pdf.Cell(100, 20, text)
	var b bytes.Buffer
	if err := pdf.Output(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// A job goes through a real CUPS scheduler to the cups-pdf queue; the PDF
// it wrote says what was sent. A stopped or rejecting queue is "offline".
func TestCUPSPrint(t *testing.T) {
	srv := cupstest.Start(t)
	p := NewCUPS(Config{Queue: srv.Queue, Server: srv.Socket, TimeoutSeconds: 60})
	ctx := context.Background()
	start := time.Now()
	if err := p.Print(ctx, "ticket 1", samplePDF(t, "EXAMKIOSK PRINT 4711")); err != nil {
		t.Fatal(err)
	}
	t.Logf("printed through CUPS in %s", time.Since(start).Round(time.Millisecond))
	if text := cupstest.Text(t, srv.Printed(t, 1, 20*time.Second)); !strings.Contains(text, "EXAMKIOSK PRINT 4711") {
		t.Fatalf("the printed PDF reads %q", text)
	}

	for _, c := range []struct{ stop, start string }{{"cupsdisable", "cupsenable"}, {"cupsreject", "cupsaccept"}} {
		if out, err := srv.Command(c.stop, srv.Queue).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v %s", c.stop, err, out)
		}
		if err := p.Print(ctx, "ticket 2", samplePDF(t, "x")); CodeOf(err) != CodeOffline {
			t.Errorf("after %s: %v, want %s", c.stop, err, CodeOffline)
		}
		if out, err := srv.Command(c.start, srv.Queue).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v %s", c.start, err, out)
		}
	}
	if err := NewCUPS(Config{Queue: "no-such-queue", Server: srv.Socket, TimeoutSeconds: 5}).Print(ctx, "x", samplePDF(t, "x")); CodeOf(err) != CodeOffline {
		t.Errorf("unknown queue: %v, want %s", err, CodeOffline)
	}
	if err := NewCUPS(DefaultConfig()).Print(ctx, "x", nil); CodeOf(err) != CodeNotConfigured {
		t.Errorf("no queue: %v, want %s", err, CodeNotConfigured)
	}
}

func TestReasons(t *testing.T) {
	for lpstat, want := range map[string]string{
		"printer p is idle.\n\tAlerts: media-empty-error\n":              CodeNoPaper,
		"printer p is idle.\n\tAlerts: none media-needed-warning\n":      CodeNoPaper,
		"printer p now printing.\n\tAlerts: media-jam-error\n":           CodeJammed,
		"printer p is idle.\n\tAlerts: offline-report\n":                 CodeOffline,
		"printer p is idle.  enabled since x\n\tAlerts: none\n":          "",
		"printer p is idle.\n\tAlerts: cups-waiting-for-job-completed\n": "",
	} {
		got := ""
		if e := reasons(lpstat); e != nil {
			got = e.Code
		}
		if got != want {
			t.Errorf("%q: %q, want %q", lpstat, got, want)
		}
	}
}
