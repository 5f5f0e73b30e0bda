package app

import (
	"os/exec"
	"strings"
	"testing"
)

// The kiosk application depends on the central only through the protocol
// (sync/wire, sync/kiosk, exam): the demo's in-process central lives in
// package demo, beside main (DESIGN.md, "The house").
func TestNoCentralDependency(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if dep == "examkiosk/sync/central" || dep == "examkiosk/demo" {
			t.Errorf("package app depends on %s", dep)
		}
	}
}
