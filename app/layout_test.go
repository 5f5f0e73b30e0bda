package app

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The UI's layout report is written beside the ready file for the window
// smoke test, and its problems are logged once per screen and size.
func TestReportLayout(t *testing.T) {
	ready := filepath.Join(t.TempDir(), "ready")
	var logs bytes.Buffer
	a := testApp(t, Options{ReadyFile: ready, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	bad := LayoutReport{Screen: "password", Width: 1280, Height: 800,
		Elements: []LayoutElement{{ID: "pw-set", Tag: "button", X: 600, Y: 790, W: 120, H: 50}},
		Problems: []LayoutProblem{{Code: "off_screen", IDs: []string{"pw-set"}}}}
	for range 2 {
		if err := a.ReportLayout(bad); err != nil {
			t.Fatal(err)
		}
	}
	if n := strings.Count(logs.String(), "layout problem"); n != 1 {
		t.Errorf("problem logged %d times, want once:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "off_screen") {
		t.Errorf("the log does not say what is wrong:\n%s", logs.String())
	}
	ok := bad
	ok.Screen, ok.Problems = "face", nil
	if err := a.ReportLayout(ok); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(LayoutFile(ready))
	if err != nil {
		t.Fatal(err)
	}
	var got LayoutReport
	if err := json.Unmarshal(b, &got); err != nil || got.Screen != "face" || len(got.Elements) != 1 || got.Elements[0].ID != "pw-set" {
		t.Fatalf("layout file holds %s (%v)", b, err)
	}
	if strings.Count(logs.String(), "layout problem") != 1 {
		t.Errorf("a report without problems logged one")
	}
}
