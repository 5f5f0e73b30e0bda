package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// part makes the report of one file set with the given counts; its
// mutants are named after file.
func part(dir, files, file string, killed, lived, notCovered int) pkgReport {
	r := pkgReport{Dir: dir, Files: files, Part: true, Equivalent: map[string]string{}}
	r.Res.Killed, r.Res.Lived, r.Res.NotCovered = killed, lived, notCovered
	r.Res.Total = killed + lived + notCovered
	r.Res.Elapsed = 10
	for i := range lived {
		id := file + ":" + string(rune('1'+i)) + ":1 CONDITIONALS_NEGATION"
		r.Lived = append(r.Lived, id)
	}
	for i := range notCovered {
		r.NotCovered = append(r.NotCovered, file+":"+string(rune('1'+i))+":2 ARITHMETIC_BASE")
	}
	return r
}

// pkgDir makes a package directory holding the named files (and a test
// file and a sub-package, which no file set has to name).
func pkgDir(t *testing.T, files ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range append(files, "a_test.go", "sub/x.go") {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("package p\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestUnionSumsTheParts(t *testing.T) {
	dir := pkgDir(t, "a.go", "b.go", "c.go")
	a := part(dir, `^a\.go$`, "a.go", 8, 2, 0)
	bc := part(dir, `^(b|c)\.go$`, "b.go", 10, 0, 10)
	bc.Equivalent[bc.NotCovered[0]] = "checked by hand"
	bc.TimedOut, bc.TimedOutIDs = 1, []string{"c.go:9:9 CONDITIONALS_NEGATION"}
	u := union(dir, []pkgReport{a, bc})
	if u.Err != nil {
		t.Fatalf("union of parts that divide the package: %v", u.Err)
	}
	if u.Res.Killed != 18 || u.Res.Lived != 2 || u.Res.NotCovered != 10 || u.TimedOut != 1 || u.Res.Elapsed != 20 {
		t.Errorf("sums: %+v, timed out %d", u.Res, u.TimedOut)
	}
	// 18 / 20 killed; 20 of 30 covered (not 8/10 and 10/20 averaged).
	if u.Res.Efficacy != 90 || u.Res.Coverage < 66.6 || u.Res.Coverage > 66.7 {
		t.Errorf("efficacy %.2f, coverage %.2f; want 90 and 66.67", u.Res.Efficacy, u.Res.Coverage)
	}
	if got := checkedCoverage(u); got < 69.9 || got > 70.1 {
		t.Errorf("hand-checked coverage %.2f, want 70 (one not-covered mutant noted)", got)
	}
	if len(u.Lived) != 2 || len(u.NotCovered) != 10 || len(u.TimedOutIDs) != 1 {
		t.Errorf("mutant lists: %d lived, %d not covered, %d timed out", len(u.Lived), len(u.NotCovered), len(u.TimedOutIDs))
	}
	if !strings.Contains(u.Union, "all") {
		t.Errorf("label %q", u.Union)
	}
}

func TestUnionRefusesGapsOverlapsAndMissingResults(t *testing.T) {
	dir := pkgDir(t, "a.go", "b.go", "c.go")
	a := part(dir, `^a\.go$`, "a.go", 1, 0, 0)
	b := part(dir, `^b\.go$`, "b.go", 1, 0, 0)
	ab := part(dir, `^(a|b|c)\.go$`, "a.go", 1, 0, 0)
	if u := union(dir, []pkgReport{a, b}); u.Err == nil || !strings.Contains(u.Err.Error(), "c.go") || !strings.Contains(u.Union, "c.go") {
		t.Errorf("c.go in no file set: err %v, label %q", u.Err, u.Union)
	}
	if u := union(dir, []pkgReport{a, ab}); u.Err == nil || !strings.Contains(u.Err.Error(), "two") {
		t.Errorf("a.go in two file sets: err %v", u.Err)
	}
	missing := part(dir, `^(b|c)\.go$`, "b.go", 0, 0, 0)
	missing.Err, missing.NoResult = os.ErrNotExist, true
	u := union(dir, []pkgReport{a, missing})
	if u.Err == nil || !strings.HasPrefix(u.Union, "1 of the 2") || u.Res.Killed != 1 {
		t.Errorf("a part without result: err %v, label %q, killed %d", u.Err, u.Union, u.Res.Killed)
	}
}

func TestPartsExpandAndUnionRowFirst(t *testing.T) {
	old := Parts
	t.Cleanup(func() { Parts = old })
	Parts = map[string][]string{"p": {`p=^a\.go$@^TestA`, `p=^b\.go$@^TestB!/^slow$`}}
	got := expand([]string{"q", "p"})
	want := []string{"q", `p=^a\.go$@^TestA`, `p=^b\.go$@^TestB!/^slow$`, "p"}
	if !slices.Equal(got, want) {
		t.Fatalf("expand: %q, want %q", got, want)
	}
	if dir, ok := partOf(`p=^b\.go$@^TestB!/^slow$`); !ok || dir != "p" {
		t.Errorf("partOf: %q %v", dir, ok)
	}
	if _, ok := partOf("q"); ok {
		t.Error("q is no part")
	}
	rs := []pkgReport{{Dir: "q"}, {Dir: "p", Files: "a", Part: true}, {Dir: "p", Files: "b", Part: true}, {Dir: "p", Union: "all"}}
	var order []string
	for _, r := range unionFirst(rs) {
		order = append(order, r.Dir+r.Files+r.Union)
	}
	if !slices.Equal(order, []string{"q", "pall", "pa", "pb"}) {
		t.Errorf("rows: %q", order)
	}
	if !hasUnion(rs, "p") || hasUnion(rs, "q") {
		t.Error("hasUnion")
	}
	out := render(unionFirst(rs), nil, "")
	if !strings.Contains(out, "| p | all |") {
		t.Errorf("no union row in:\n%s", out)
	}
}
