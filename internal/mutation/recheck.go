package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// A recheck re-runs, against the tests as they are now, the mutants of a
// stored result that no test killed when gremlins ran: the survivors, and
// the mutants not covered then that the set's tests now reach. It applies
// each mutant the way gremlins does (one operator token replaced at the
// file:line:col of the result) with `go test -overlay`, so a set whose
// survivors were answered by new tests need not run its hundreds of killed
// mutants again. Every mutant gremlins killed stays killed as long as no
// test is removed. Each recheck is logged in the result ("rechecked"), and
// the report says so beside the set.

// recheckLog is one recheck of a stored result.
type recheckLog struct {
	At        string `json:"at"`         // UTC, RFC 3339
	Commit    string `json:"commit"`     // git describe --always --dirty of the tests
	Rechecked int    `json:"rechecked"`  // mutants run again
	Killed    int    `json:"killed"`     // of them, now killed
	Lived     int    `json:"lived"`      // of them, still alive
	NotViable int    `json:"not_viable"` // killed mutants found not to compile
	TimedOut  int    `json:"timed_out"`
	Load      string `json:"load"`
}

// mutation is gremlins' replacement of one operator token by another for
// each mutator type it runs by default (engine/mappings.go in gremlins
// v0.6.0): the type, then the original token's text and its mutant.
var mutation = map[string]map[string]string{
	"ARITHMETIC_BASE":       {"+": "-", "-": "+", "*": "/", "/": "*", "%": "*"},
	"CONDITIONALS_BOUNDARY": {">=": ">", ">": ">=", "<=": "<", "<": "<="},
	"CONDITIONALS_NEGATION": {"==": "!=", "!=": "==", ">=": "<", ">": "<=", "<=": ">", "<": ">="},
	"INCREMENT_DECREMENT":   {"++": "--", "--": "++"},
	"INVERT_NEGATIVES":      {"-": "+"},
}

// twoChar is every Go operator of two or more characters that begins with
// one of the one-character operators above.
var twoChar = map[string]bool{"+=": true, "++": true, "-=": true, "--": true, "*=": true, "/=": true,
	"//": true, "/*": true, "%=": true, "<=": true, "<<": true, "<-": true, ">=": true, ">>": true}

// mutate returns src with the operator at line:col (1-based, in bytes, as
// gremlins reports it) replaced as typ says. It refuses when no operator
// that typ mutates starts there: the file changed since the result was
// taken, and the set must be run again.
func mutate(src []byte, line, col int, typ string) ([]byte, string, error) {
	repl, ok := mutation[typ]
	if !ok {
		return nil, "", fmt.Errorf("mutator %s: not one of gremlins' default mutators", typ)
	}
	off, l := 0, 1
	for l < line {
		i := bytes.IndexByte(src[off:], '\n')
		if i < 0 {
			return nil, "", fmt.Errorf("line %d: the file has %d lines", line, l)
		}
		off += i + 1
		l++
	}
	off += col - 1
	end := bytes.IndexByte(src[off-col+1:], '\n')
	if end >= 0 && col-1 >= end || off >= len(src) {
		return nil, "", fmt.Errorf("%d:%d: past the end of the line", line, col)
	}
	// The longest operator first: ">=" before ">", "++" before "+".
	for _, n := range []int{2, 1} {
		if off+n > len(src) {
			continue
		}
		orig := string(src[off : off+n])
		to, ok := repl[orig]
		if !ok {
			continue
		}
		if n == 1 && off+2 <= len(src) && twoChar[string(src[off:off+2])] {
			continue // "+=", "<-", "<<" …: another operator, not this one
		}
		out := make([]byte, 0, len(src)+1)
		out = append(append(append(out, src[:off]...), to...), src[off+n:]...)
		return out, orig, nil
	}
	return nil, "", fmt.Errorf("%d:%d: no operator %s mutates starts there (%q): the file changed since the run", line, col, typ, string(src[off:min(off+4, len(src))]))
}

// recheck re-runs the survivors (and the mutants not covered then that the
// tests now reach) of the stored result of dir/files against the tests
// matched by runPat and skipPat, and writes the result back.
// With viableOnly it only looks for killed mutants that do not compile
// (after a gremlins run, whose survivors need no second run).
func recheck(results, dir, files, runPat, skipPat string, coefficient int, viableOnly bool) (recheckLog, error) {
	lg := recheckLog{At: time.Now().UTC().Format(time.RFC3339), Load: loadavg()}
	path := resultPath(results, dir, files)
	raw, err := os.ReadFile(path)
	if err != nil {
		return lg, fmt.Errorf("recheck: %w", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return lg, fmt.Errorf("recheck %s: %w", path, err)
	}
	lg.Commit = "(not a git checkout)"
	if out, err := exec.Command("git", "describe", "--always", "--dirty").Output(); err == nil {
		lg.Commit = strings.TrimSpace(string(out))
	}
	// The mutant files go outside the module: a recheck cut short (its
	// temp dir left) must not leave Go files that ./... would build.
	tmp, err := os.MkdirTemp("", "mutation-recheck-")
	if err != nil {
		return lg, err
	}
	defer os.RemoveAll(tmp)

	// One run on the original: it must pass, its time sets the limit of a
	// mutant's run (as gremlins' coverage run does), and its profile says
	// which of the not-covered mutants the tests reach now.
	var limit time.Duration
	covered := func(string, int, int) bool { return false }
	if !viableOnly {
		profile := filepath.Join(tmp, "cover.out")
		start := time.Now()
		if out, status, err := goTest(context.Background(), dir, runPat, skipPat, "", "-coverprofile="+profile); status != "pass" {
			return lg, fmt.Errorf("recheck %s: the tests fail on the original (%v):\n%s", dir, err, tail(out))
		}
		limit = max(time.Duration(coefficient)*time.Since(start), 30*time.Second)
		if covered, err = readProfile(profile); err != nil {
			return lg, err
		}
	}

	// A mutant that fails to build is not viable only if the original builds.
	if out, err := exec.Command("go", "build", "./"+dir).CombinedOutput(); err != nil {
		return lg, fmt.Errorf("recheck %s: the original does not build: %w\n%s", dir, err, tail(string(out)))
	}
	for _, f := range list(doc["files"]) {
		fm, _ := f.(map[string]any)
		name, _ := fm["file_name"].(string)
		file, err := filepath.Abs(filepath.Join(dir, name))
		if err != nil {
			return lg, err
		}
		src, err := os.ReadFile(file)
		if err != nil {
			return lg, fmt.Errorf("recheck: %w", err)
		}
		for _, m := range list(fm["mutations"]) {
			mm, _ := m.(map[string]any)
			status, _ := mm["status"].(string)
			typ, _ := mm["type"].(string)
			line, col := toInt(mm["line"]), toInt(mm["column"])
			id := fmt.Sprintf("%s:%d:%d %s", name, line, col, typ)
			mutant, orig, err := mutate(src, line, col, typ)
			if err != nil {
				return lg, fmt.Errorf("recheck %s %s: %w; the result is stale: run the set again", dir, id, err)
			}
			switch {
			case status == "KILLED" && orig == "+" && typ == "ARITHMETIC_BASE":
				// A "+" of strings made "-" does not compile: gremlins
				// counts a build failure as a kill.
				ok, err := compiles(dir, file, mutant, tmp)
				if err != nil {
					return lg, fmt.Errorf("recheck %s %s: %w", dir, id, err)
				}
				if !ok {
					mm["status"] = "NOT VIABLE"
					lg.NotViable++
					slog.Info("recheck", "mutant", id, "now", "NOT VIABLE")
				}
				continue
			case viableOnly:
				continue
			case status == "LIVED":
			case status == "NOT COVERED" && covered(name, line, col):
			default:
				continue
			}
			lg.Rechecked++
			ctx, cancel := context.WithTimeout(context.Background(), limit)
			ov, err := overlay(tmp, file, mutant)
			if err != nil {
				cancel()
				return lg, err
			}
			out, st, err := goTest(ctx, dir, runPat, skipPat, ov)
			cancel()
			now := map[string]string{"pass": "LIVED", "fail": "KILLED", "build": "NOT VIABLE", "timeout": "TIMED OUT"}[st]
			if now == "" {
				return lg, fmt.Errorf("recheck %s %s: %v\n%s", dir, id, err, tail(out))
			}
			if status == "NOT COVERED" && now == "LIVED" {
				now = "NOT COVERED" // reached now, but only a coverage run would say it is covered: keep the stricter figure
			}
			mm["status"] = now
			switch now {
			case "KILLED":
				lg.Killed++
			case "LIVED", "NOT COVERED":
				lg.Lived++
			case "NOT VIABLE":
				lg.NotViable++
			case "TIMED OUT":
				lg.TimedOut++
			}
			slog.Info("recheck", "mutant", id, "was", status, "now", now)
		}
	}
	recount(doc)
	if viableOnly {
		if lg.NotViable == 0 {
			return lg, nil
		}
		lg.Commit += " (compiled only)"
	}
	logs := list(doc["rechecked"])
	b, _ := json.Marshal(lg)
	var entry map[string]any
	_ = json.Unmarshal(b, &entry)
	doc["rechecked"] = append(logs, entry)
	out, err := json.Marshal(doc)
	if err != nil {
		return lg, err
	}
	return lg, os.WriteFile(path, out, 0o644)
}

// recount sets gremlins' totals and figures from the mutants' statuses
// (gremlins' report.go: efficacy = killed / (killed + lived), coverage =
// (killed + lived) / (killed + lived + not covered), total = killed +
// lived + not viable).
func recount(doc map[string]any) {
	n := map[string]int{}
	for _, f := range list(doc["files"]) {
		fm, _ := f.(map[string]any)
		for _, m := range list(fm["mutations"]) {
			mm, _ := m.(map[string]any)
			s, _ := mm["status"].(string)
			n[s]++
		}
	}
	k, l, nv, nc := n["KILLED"], n["LIVED"], n["NOT VIABLE"], n["NOT COVERED"]
	doc["mutants_killed"], doc["mutants_lived"], doc["mutants_not_viable"], doc["mutants_not_covered"] = k, l, nv, nc
	doc["mutants_total"] = k + l + nv
	if k+l > 0 {
		doc["test_efficacy"] = 100 * float64(k) / float64(k+l)
		doc["mutations_coverage"] = 100 * float64(k+l) / float64(k+l+nc)
	}
}

// goTest runs the package's tests (GOMAXPROCS=1, testFlags, the caller's
// GOFLAGS) and reports "pass", "fail", "build" (the package or its
// tests do not compile) or "timeout".
func goTest(ctx context.Context, dir, runPat, skipPat, overlayFile string, extra ...string) (string, string, error) {
	args := append([]string{"test"}, testFlags(runPat, skipPat)...)
	if overlayFile != "" {
		args = append(args, "-overlay="+overlayFile)
	}
	args = append(append(args, extra...), "./"+dir)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	// go test starts the test binary as a child: on a timeout the whole
	// process group goes.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	switch {
	case ctx.Err() != nil:
		return string(out), "timeout", ctx.Err()
	case err == nil:
		return string(out), "pass", nil
	case bytes.Contains(out, []byte("[build failed]")) || bytes.Contains(out, []byte("[setup failed]")):
		return string(out), "build", err
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(out), "fail", err
	}
	return string(out), "", err
}

// compiles reports whether the package builds with file replaced by src.
func compiles(dir, file string, src []byte, tmp string) (bool, error) {
	ov, err := overlay(tmp, file, src)
	if err != nil {
		return false, err
	}
	out, err := exec.Command("go", "build", "-overlay="+ov, "./"+dir).CombinedOutput()
	if err == nil {
		return true, nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) && len(out) > 0 {
		return false, nil
	}
	return false, fmt.Errorf("go build: %w", err)
}

// overlay writes src as the replacement of file and the overlay file that
// says so, and returns the overlay file's path.
func overlay(tmp, file string, src []byte) (string, error) {
	mut := filepath.Join(tmp, "mutant.go")
	if err := os.WriteFile(mut, src, 0o644); err != nil {
		return "", err
	}
	b, err := json.Marshal(map[string]map[string]string{"Replace": {file: mut}})
	if err != nil {
		return "", err
	}
	ov := filepath.Join(tmp, "overlay.json")
	return ov, os.WriteFile(ov, b, 0o644)
}

// readProfile reads a coverage profile and returns whether a position of a
// file (named by its base name, as gremlins names it) lies in a block that
// ran. (golang.org/x/tools/cover parses the same format, but requiring it
// here raises x/crypto, x/sys and x/net by dozens of versions for every
// binary of the module: the format is one line a block.)
func readProfile(path string) (func(file string, line, col int) bool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("coverage profile: %w", err)
	}
	type block struct{ l0, c0, l1, c1 int }
	ran := map[string][]block{}
	for _, ln := range strings.Split(string(b), "\n")[1:] {
		// name.go:l0.c0,l1.c1 statements count
		colon := strings.LastIndex(ln, ":")
		f := strings.Fields(ln)
		if colon < 0 || len(f) != 3 || f[2] == "0" {
			continue
		}
		var bl block
		if _, err := fmt.Sscanf(ln[colon+1:], "%d.%d,%d.%d", &bl.l0, &bl.c0, &bl.l1, &bl.c1); err != nil {
			return nil, fmt.Errorf("coverage profile %q: %w", ln, err)
		}
		name := filepath.Base(ln[:colon])
		ran[name] = append(ran[name], bl)
	}
	return func(file string, line, col int) bool {
		for _, bl := range ran[filepath.Base(file)] {
			after := line > bl.l0 || line == bl.l0 && col >= bl.c0
			before := line < bl.l1 || line == bl.l1 && col <= bl.c1
			if after && before {
				return true
			}
		}
		return false
	}, nil
}

func list(v any) []any {
	l, _ := v.([]any)
	return l
}

func toInt(v any) int {
	switch n := v.(type) {
	case float64:
		return int(n)
	case string:
		i, _ := strconv.Atoi(n)
		return i
	}
	return 0
}

func tail(s string) string {
	if len(s) > 2000 {
		return "…" + s[len(s)-2000:]
	}
	return s
}

// stale reports the first mutant of a stored result whose operator is no
// longer at its file:line:col: the source changed since gremlins ran, so
// the result's figures are not those of the code (the set must be run
// again). A source changed elsewhere is not seen; this catches the usual
// case of lines moved by an edit.
func stale(dir string, res result) error {
	for _, f := range res.Files {
		src, err := os.ReadFile(filepath.Join(dir, f.FileName))
		if err != nil {
			return fmt.Errorf("stale result: %w", err)
		}
		for _, m := range f.Mutations {
			if _, _, err := mutate(src, m.Line, m.Column, m.Type); err != nil {
				return fmt.Errorf("stale result (the source changed since gremlins ran): %s:%d:%d %s: %w", f.FileName, m.Line, m.Column, m.Type, err)
			}
		}
	}
	return nil
}
