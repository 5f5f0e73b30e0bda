package printer_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/go-pdf/fpdf"

	"examkiosk/device/printer"
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
	p := printer.NewCUPS(printer.Config{Queue: srv.Queue, Server: srv.Socket, TimeoutSeconds: 60})
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
		if err := p.Print(ctx, "ticket 2", samplePDF(t, "x")); printer.CodeOf(err) != printer.CodeOffline {
			t.Errorf("after %s: %v, want %s", c.stop, err, printer.CodeOffline)
		}
		if out, err := srv.Command(c.start, srv.Queue).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v %s", c.start, err, out)
		}
	}
	if err := printer.NewCUPS(printer.Config{Queue: "no-such-queue", Server: srv.Socket, TimeoutSeconds: 5}).Print(ctx, "x", samplePDF(t, "x")); printer.CodeOf(err) != printer.CodeOffline {
		t.Errorf("unknown queue: %v, want %s", err, printer.CodeOffline)
	}
	if err := printer.NewCUPS(printer.DefaultConfig()).Print(ctx, "x", nil); printer.CodeOf(err) != printer.CodeNotConfigured {
		t.Errorf("no queue: %v, want %s", err, printer.CodeNotConfigured)
	}
}
