package app

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
)

// LayoutReport is what the UI measured of the screen it shows: the
// viewport, the place of each element a person taps or reads, and what it
// found wrong (frontend/src/layout.ts). The window smoke test reads it
// beside the ready file; on a kiosk a problem is logged, since a button off
// the screen or under another is a tap that misses.
type LayoutReport struct {
	Screen   string          `json:"screen"` // the journey step, or "staff" with the console open
	Lang     string          `json:"lang"`
	Width    int             `json:"width"` // the viewport in CSS pixels
	Height   int             `json:"height"`
	Elements []LayoutElement `json:"elements"`
	Problems []LayoutProblem `json:"problems"`
}

// LayoutElement is one element of a LayoutReport: its data-testid (or its
// tag), its box in viewport pixels and its data-* attributes.
type LayoutElement struct {
	ID   string            `json:"id"`
	Tag  string            `json:"tag"`
	Text string            `json:"text"`
	X    int               `json:"x"`
	Y    int               `json:"y"`
	W    int               `json:"w"`
	H    int               `json:"h"`
	Data map[string]string `json:"data,omitempty"`
}

// LayoutProblem is a code (off_screen, covered, overlap) and the elements
// it concerns.
type LayoutProblem struct {
	Code string   `json:"code"`
	IDs  []string `json:"ids"`
}

// LayoutFile is where ReportLayout writes the report when the kiosk runs
// with a ready file (the window smoke test).
func LayoutFile(readyFile string) string { return readyFile + ".layout.json" }

// ReportLayout is called by the UI whenever what it shows changed: the
// problems are logged once per screen and size, and with a ready file the
// report is written beside it.
func (a *DeviceService) ReportLayout(r LayoutReport) error {
	key := fmt.Sprintf("%s %dx%d", r.Screen, r.Width, r.Height)
	a.mu.Lock()
	logged := a.layoutLogged
	if len(r.Problems) > 0 && !slices.Contains(logged, key) {
		a.layoutLogged = append(logged, key)
		a.mu.Unlock()
		a.log.Warn("layout problem", "screen", r.Screen, "width", r.Width, "height", r.Height, "problems", r.Problems)
	} else {
		a.mu.Unlock()
	}
	if a.opts.ReadyFile == "" {
		return nil
	}
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("layout report: %w", err)
	}
	path := LayoutFile(a.opts.ReadyFile)
	if err := os.WriteFile(path+".tmp", b, 0o644); err != nil {
		return fmt.Errorf("write layout report: %w", err)
	}
	return os.Rename(path+".tmp", path)
}

// Element returns the report's element with the id, or nil.
func (r *LayoutReport) Element(id string) *LayoutElement {
	for i := range r.Elements {
		if r.Elements[i].ID == id {
			return &r.Elements[i]
		}
	}
	return nil
}
