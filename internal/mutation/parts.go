package main

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
)

// expand replaces a package of Parts by its parts followed by the package
// itself (the marker after which main makes the union of the parts).
func expand(pkgs []string) []string {
	var out []string
	for _, p := range pkgs {
		if parts, ok := Parts[p]; ok {
			out = append(out, parts...)
		}
		out = append(out, p)
	}
	return out
}

// partOf reports the package of Parts whose part spec is, if any.
func partOf(spec string) (string, bool) {
	for dir, parts := range Parts {
		if slices.Contains(parts, spec) {
			return dir, true
		}
	}
	return "", false
}

// union makes a package's row from the reports of its parts: every count,
// mutant list and note of the parts together, the efficacy and coverage
// computed again from the sums. It has an error (so the gate fails) when a
// part has no result, or when a file of the package is in no part or in
// two (the union would miss or double-count its mutants).
func union(dir string, parts []pkgReport) pkgReport {
	u := pkgReport{Dir: dir, Equivalent: map[string]string{}}
	var missing []string
	for _, p := range parts {
		if p.Err != nil {
			missing = append(missing, p.Files)
			continue
		}
		u.Res.Files = append(u.Res.Files, p.Res.Files...)
		u.Res.Total += p.Res.Total
		u.Res.Killed += p.Res.Killed
		u.Res.Lived += p.Res.Lived
		u.Res.NotViable += p.Res.NotViable
		u.Res.NotCovered += p.Res.NotCovered
		u.Res.Elapsed += p.Res.Elapsed
		u.TimedOut += p.TimedOut
		u.TimedOutIDs = append(u.TimedOutIDs, p.TimedOutIDs...)
		u.Lived = append(u.Lived, p.Lived...)
		u.NotCovered = append(u.NotCovered, p.NotCovered...)
		maps.Copy(u.Equivalent, p.Equivalent)
	}
	if d := u.Res.Killed + u.Res.Lived; d > 0 {
		u.Res.Efficacy = 100 * float64(u.Res.Killed) / float64(d)
	}
	if d := u.Res.Killed + u.Res.Lived + u.Res.NotCovered; d > 0 {
		u.Res.Coverage = 100 * float64(u.Res.Killed+u.Res.Lived) / float64(d)
	}
	u.Union = fmt.Sprintf("all: the union of the %d file sets below", len(parts))
	var problems []string
	if len(missing) > 0 {
		u.Union = fmt.Sprintf("%d of the %d file sets below", len(parts)-len(missing), len(parts))
		problems = append(problems, fmt.Sprintf("no result for %s", strings.Join(missing, ", ")))
	}
	none, twice, err := fileSets(dir, parts)
	switch {
	case err != nil:
		problems = append(problems, err.Error())
	case len(none) > 0:
		u.Union += "; in no file set: " + strings.Join(none, ", ")
		problems = append(problems, "files in no file set: "+strings.Join(none, ", "))
	case len(twice) > 0:
		problems = append(problems, "files in two file sets: "+strings.Join(twice, ", "))
	}
	if len(problems) > 0 {
		u.Err = errors.New(strings.Join(problems, "; "))
	}
	return u
}

// fileSets checks that the parts' file patterns divide the package's
// non-test Go files: none lists the files no part mutates, twice those
// two parts mutate.
func fileSets(dir string, parts []pkgReport) (none, twice []string, err error) {
	var res []*regexp.Regexp
	for _, p := range parts {
		re, err := regexp.Compile(p.Files)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: files %q: %w", dir, p.Files, err)
		}
		res = append(res, re)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", dir, err)
	}
	for _, e := range ents {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
			continue
		}
		k := 0
		for _, re := range res {
			if re.MatchString(n) {
				k++
			}
		}
		switch {
		case k == 0:
			none = append(none, n)
		case k > 1:
			twice = append(twice, n)
		}
	}
	return none, twice, nil
}

// unionFirst moves each package's union row before the rows of its parts
// (main adds it after them).
func unionFirst(reports []pkgReport) []pkgReport {
	var out []pkgReport
	for _, r := range reports {
		if r.Union == "" {
			out = append(out, r)
			continue
		}
		n := min(len(Parts[r.Dir]), len(out))
		parts := slices.Clone(out[len(out)-n:])
		out = append(append(out[:len(out)-n], r), parts...)
	}
	return out
}

// hasUnion reports whether reports hold a union row for dir.
func hasUnion(reports []pkgReport, dir string) bool {
	return slices.ContainsFunc(reports, func(r pkgReport) bool { return r.Union != "" && r.Dir == dir })
}
