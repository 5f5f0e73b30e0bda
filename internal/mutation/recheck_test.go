package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMutate applies each default mutator as gremlins does, at the
// 1-based line and byte column it reports, and refuses a position where
// the operator is not (the file changed since the run).
func TestMutate(t *testing.T) {
	src := "package p\n\nfunc f(a, b int, c chan int) bool {\n\ta += b - -a\n\tc <- a\n\ta++\n\treturn a%b >= 2 && a/b != a*b || a < b\n}\n"
	for _, c := range []struct {
		line, col int
		typ       string
		want      string // the mutated line, "" for a refusal
	}{
		{4, 9, "ARITHMETIC_BASE", "\ta += b + -a"},
		{4, 11, "INVERT_NEGATIVES", "\ta += b - +a"},
		{4, 11, "ARITHMETIC_BASE", "\ta += b - +a"},
		{4, 4, "ARITHMETIC_BASE", ""},       // "+=": not an operator of the default mutators
		{5, 4, "CONDITIONALS_BOUNDARY", ""}, // "<-" is a send, not "<"
		{6, 3, "INCREMENT_DECREMENT", "\ta--"},
		{7, 10, "ARITHMETIC_BASE", "\treturn a*b >= 2 && a/b != a*b || a < b"},
		{7, 13, "CONDITIONALS_BOUNDARY", "\treturn a%b > 2 && a/b != a*b || a < b"},
		{7, 13, "CONDITIONALS_NEGATION", "\treturn a%b < 2 && a/b != a*b || a < b"},
		{7, 22, "ARITHMETIC_BASE", "\treturn a%b >= 2 && a*b != a*b || a < b"},
		{7, 25, "CONDITIONALS_NEGATION", "\treturn a%b >= 2 && a/b == a*b || a < b"},
		{7, 29, "ARITHMETIC_BASE", "\treturn a%b >= 2 && a/b != a/b || a < b"},
		{7, 37, "CONDITIONALS_BOUNDARY", "\treturn a%b >= 2 && a/b != a*b || a <= b"},
		{7, 37, "CONDITIONALS_NEGATION", "\treturn a%b >= 2 && a/b != a*b || a >= b"},
		{7, 36, "CONDITIONALS_NEGATION", ""}, // a space
		{7, 90, "CONDITIONALS_NEGATION", ""}, // past the line
		{12, 1, "CONDITIONALS_NEGATION", ""}, // past the file
		{7, 36, "INVERT_LOGICAL", ""},        // not run by default
	} {
		out, _, err := mutate([]byte(src), c.line, c.col, c.typ)
		if c.want == "" {
			if err == nil {
				t.Errorf("%d:%d %s: mutated to %q, want a refusal", c.line, c.col, c.typ, strings.Split(string(out), "\n")[c.line-1])
			}
			continue
		}
		if err != nil {
			t.Errorf("%d:%d %s: %v", c.line, c.col, c.typ, err)
			continue
		}
		lines := strings.Split(string(out), "\n")
		if lines[c.line-1] != c.want {
			t.Errorf("%d:%d %s: %q, want %q", c.line, c.col, c.typ, lines[c.line-1], c.want)
		}
		orig := strings.Split(src, "\n")
		lines[c.line-1], orig[c.line-1] = "", ""
		if strings.Join(lines, "\n") != strings.Join(orig, "\n") {
			t.Errorf("%d:%d %s: the rest of the file changed", c.line, c.col, c.typ)
		}
	}
}

// TestRecount sets gremlins' figures from the statuses as gremlins does.
func TestRecount(t *testing.T) {
	doc := map[string]any{"files": []any{map[string]any{"mutations": []any{
		map[string]any{"status": "KILLED"}, map[string]any{"status": "KILLED"}, map[string]any{"status": "KILLED"},
		map[string]any{"status": "LIVED"}, map[string]any{"status": "NOT COVERED"},
		map[string]any{"status": "NOT VIABLE"}, map[string]any{"status": "TIMED OUT"},
	}}}}
	recount(doc)
	if doc["mutants_killed"] != 3 || doc["mutants_lived"] != 1 || doc["mutants_not_covered"] != 1 || doc["mutants_not_viable"] != 1 || doc["mutants_total"] != 5 {
		t.Errorf("counts %v", doc)
	}
	if doc["test_efficacy"] != 75.0 || doc["mutations_coverage"] != 80.0 {
		t.Errorf("efficacy %v coverage %v, want 75 and 80", doc["test_efficacy"], doc["mutations_coverage"])
	}
}

// TestStale: a result whose operators are all where it says is current;
// one whose file gained a line above them is stale, and the error names
// the mutant.
func TestStale(t *testing.T) {
	dir := t.TempDir()
	write := func(src string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, "f.go"), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var res result
	if err := json.Unmarshal([]byte(`{"files":[{"file_name":"f.go","mutations":[
		{"type":"CONDITIONALS_BOUNDARY","status":"KILLED","line":3,"column":11},
		{"type":"ARITHMETIC_BASE","status":"LIVED","line":4,"column":11}]}]}`), &res); err != nil {
		t.Fatal(err)
	}
	write("package p\n\nvar a = 1 < 2\nvar b = 1 + 2\n")
	if err := stale(dir, res); err != nil {
		t.Fatalf("current result: %v", err)
	}
	write("package p\n\n// a comment added\nvar a = 1 < 2\nvar b = 1 + 2\n")
	err := stale(dir, res)
	if err == nil || !strings.Contains(err.Error(), "f.go:3:11 CONDITIONALS_BOUNDARY") {
		t.Fatalf("a result of the file before a line was added: %v, want stale at f.go:3:11", err)
	}
}
