// Package tomlconf turns what the TOML decoder reports about a
// configuration file into errors that name the file, the key and, where it
// can be found, the line: the one shape of config error the kiosk and the
// central both report.
package tomlconf

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// Error names the file, the key (or, for a syntax error, the header's
// text), the line when known and what was expected.
type Error struct {
	File string
	Line int
	Key  string
	Msg  string
}

func (e *Error) Error() string {
	if e.File == "" { // a flag or a default, not a file
		if e.Key == "" {
			return e.Msg
		}
		return e.Key + ": " + e.Msg
	}
	if e.Line > 0 {
		return fmt.Sprintf("config %s line %d: %s: %s", e.File, e.Line, e.Key, e.Msg)
	}
	if e.Key == "" || strings.HasPrefix(e.Msg, e.Key) {
		return fmt.Sprintf("config %s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("config %s: key %s: %s", e.File, e.Key, e.Msg)
}

var lastKeyRE = regexp.MustCompile(`^toml: line (\d+) \(last key "([^"]*)"\): (.*)$`)

// Decode decodes data (the contents of file) into v. A syntax error comes
// back as an *Error with the line where the parser stopped and that line's
// key or header; a type mismatch with its key and line.
func Decode(file string, data []byte, v any) (toml.MetaData, error) {
	md, err := toml.Decode(string(data), v)
	if err == nil {
		return md, nil
	}
	var perr toml.ParseError
	if errors.As(err, &perr) {
		// The line is where the parser stopped; the key is that line's
		// text (LastKey would name the table before a bad header).
		line := perr.Position.Line
		if st := perr.Position.Start; st > 0 && st <= len(data) {
			line = strings.Count(string(data[:st]), "\n") + 1
		}
		text := ""
		if ls := strings.Split(string(data), "\n"); line >= 1 && line <= len(ls) {
			text = strings.TrimSpace(ls[line-1])
		}
		key := perr.LastKey
		if strings.HasPrefix(text, "[") || key == "" {
			key = strconv.Quote(text) // a table header: LastKey is the table before it
		}
		return md, &Error{File: file, Line: line, Key: key, Msg: perr.Message}
	}
	// Type mismatches come as plain errors: "toml: line N (last key "k"): msg".
	if m := lastKeyRE.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		return md, &Error{File: file, Line: line, Key: m[2], Msg: m[3]}
	}
	return md, &Error{File: file, Msg: err.Error()}
}

// SetFile names file in every *Error of err (a single one or errors.Join
// of several) that names none yet.
func SetFile(err error, file string) {
	var ce *Error
	if errors.As(err, &ce) && ce.File == "" {
		ce.File = file
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			SetFile(e, file)
		}
	}
}

// keyRE is a key path at the start of an error's text, as validation
// errors begin: "sync.batch_max_items: …", "camera.fps = 1000: …",
// "exam[0].site[1].room[2].capacity: …", "central.a, b: …" (several keys
// of one table, the first one the file sets gives the line).
var keyRE = regexp.MustCompile(`^([A-Za-z0-9_-]+(?:\[\d+\])?(?:\.[A-Za-z0-9_-]+(?:\[\d+\])?)*)((?:, [A-Za-z0-9_.\[\]-]+)*)(?: = [^:]*)?: (.*)$`)

// Annotate makes every error in err (one, or errors.Join of several) an
// *Error naming file, the key and the line where data (file's contents)
// sets it: an *Error gets the file when it names none and its line when it
// has none; an error whose text starts with a key path, as validation
// errors do ("sync.batch_max_items: 0 must be …"), becomes an *Error of
// that key; any other keeps its text as the message. A key the file does
// not set (a default, a flag) has no line. It returns nil for nil.
func Annotate(err error, file string, data []byte) error {
	if err == nil {
		return nil
	}
	var leaves []error
	var walk func(error)
	walk = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		leaves = append(leaves, e)
	}
	walk(err)
	out := make([]error, 0, len(leaves))
	for _, e := range leaves {
		var ce *Error
		if !errors.As(e, &ce) {
			ce = &Error{Msg: e.Error()}
			if m := keyRE.FindStringSubmatch(e.Error()); m != nil {
				// "key: msg" keeps msg, "key = value: msg" "value: msg".
				rest := strings.TrimPrefix(e.Error(), m[1]+m[2])
				ce.Key, ce.Msg = m[1]+m[2], strings.TrimPrefix(strings.TrimPrefix(rest, ": "), " = ")
			}
		}
		if ce.File == "" {
			ce.File = file
		}
		if ce.Line == 0 && ce.Key != "" {
			ce.Line = KeyLine(data, ce.Key)
		}
		out = append(out, ce)
	}
	return errors.Join(out...)
}

// KeyLine returns the line in data of the key written as a path
// ("central.fleet.queue_age", "exam[0].site[1].name"); for a list of keys
// of one table ("central.a, b" or "central.a, central.b") that of the
// first one data sets. 0 when data sets none of them on a line of its own.
func KeyLine(data []byte, keys string) int {
	list := strings.Split(keys, ", ")
	first := list[0]
	table := first[:strings.LastIndex(first, ".")+1]
	for i, k := range list {
		if i > 0 && !strings.Contains(k, ".") {
			k = table + k
		}
		if n := Line(data, ParseKey(k)...); n > 0 {
			return n
		}
	}
	return 0
}

// ParseKey is KeyPath's inverse: "exam[0].site[1].name" to its segments.
func ParseKey(path string) []Seg {
	var out []Seg
	for _, p := range strings.Split(path, ".") {
		seg := Seg{Name: p, Index: -1}
		if i := strings.IndexByte(p, '['); i > 0 && strings.HasSuffix(p, "]") {
			if n, err := strconv.Atoi(p[i+1 : len(p)-1]); err == nil {
				seg = Seg{Name: p[:i], Index: n}
			}
		}
		out = append(out, seg)
	}
	return out
}

// Seg is one step of a key path: a table or key name and, for an element of
// an array of tables ([[name]]), its index within its parent (-1 otherwise).
type Seg struct {
	Name  string
	Index int
}

// KeyPath formats a key path as a reader finds it in the file:
// exam[0].site[1].room[2].capacity.
func KeyPath(path ...Seg) string {
	var b strings.Builder
	for i, s := range path {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.Name)
		if s.Index >= 0 {
			fmt.Fprintf(&b, "[%d]", s.Index)
		}
	}
	return b.String()
}

// Line returns the line (1-based) in data of the key at path, the last
// segment being the key within its table; 0 when the file does not spell it
// as "key = value" under a [table] or [[array]] header (an inline table, a
// dotted key). With a path of tables only, it is the table's header line.
func Line(data []byte, path ...Seg) int {
	if len(path) == 0 {
		return 0
	}
	tables, key := path[:len(path)-1], path[len(path)-1].Name
	counts := map[string]int{} // elements seen of each array of tables, by dotted path
	var cur []Seg              // the table the lines below belong to
	for i, raw := range strings.Split(string(data), "\n") {
		line := strings.TrimSpace(raw)
		switch {
		case strings.HasPrefix(line, "[[") && strings.Contains(line, "]]"):
			name := strings.TrimSpace(line[2:strings.Index(line, "]]")])
			counts[name]++
			for k := range counts { // a new element starts its sub-arrays afresh
				if strings.HasPrefix(k, name+".") {
					delete(counts, k)
				}
			}
			cur = segsOf(name, counts)
			if equalSegs(cur, path) {
				return i + 1
			}
		case strings.HasPrefix(line, "["):
			end := strings.Index(line, "]")
			if end < 0 {
				continue
			}
			cur = segsOf(strings.TrimSpace(line[1:end]), counts)
			if last := len(cur) - 1; last >= 0 {
				cur[last].Index = -1
			}
			if equalSegs(cur, path) {
				return i + 1
			}
		default:
			k, _, ok := strings.Cut(line, "=")
			if ok && strings.Trim(strings.TrimSpace(k), `"'`) == key && equalSegs(cur, tables) {
				return i + 1
			}
		}
	}
	return 0
}

// segsOf names the table at a dotted header path, each array of tables at
// its current element.
func segsOf(dotted string, counts map[string]int) []Seg {
	var out []Seg
	parts := strings.Split(dotted, ".")
	for i, p := range parts {
		idx := -1
		if n, ok := counts[strings.Join(parts[:i+1], ".")]; ok {
			idx = n - 1
		}
		out = append(out, Seg{Name: strings.Trim(strings.TrimSpace(p), `"'`), Index: idx})
	}
	return out
}

func equalSegs(a, b []Seg) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
