package central

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// ConfigError is a bad setting of the central's configuration: its key,
// what is expected, and the file and line it was read from when it came
// from a file (Line 0: the line is not known, or a flag set it).
type ConfigError struct {
	File string
	Line int
	Key  string
	Msg  string
}

func (e *ConfigError) Error() string {
	switch {
	case e.File != "" && e.Line > 0:
		return fmt.Sprintf("config %s line %d: %s: %s", e.File, e.Line, e.Key, e.Msg)
	case e.File != "":
		return fmt.Sprintf("config %s: %s: %s", e.File, e.Key, e.Msg)
	}
	return e.Key + ": " + e.Msg
}

// ConfigFile is a TOML file read into a Config: it knows the line of every
// key it set, to name file and line in the errors about those values.
type ConfigFile struct {
	Path  string
	lines map[string]int // full key ("central.fleet.queue_age") → line
}

// ReadConfigFile decodes the [central] table of the TOML file at path over
// cfg (keys it does not set keep cfg's values). A syntax error, a value of
// the wrong type and an unknown key under [central] are reported as
// *ConfigError with the file and line. Validate the result after applying
// flags, then pass the error to Annotate.
func ReadConfigFile(path string, cfg *Config) (*ConfigFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	f := &ConfigFile{Path: path, lines: keyLines(string(data))}
	var doc struct {
		Central *Config `toml:"central"`
	}
	doc.Central = cfg
	md, err := toml.Decode(string(data), &doc)
	if err != nil {
		var perr toml.ParseError
		if errors.As(err, &perr) {
			return nil, &ConfigError{File: path, Line: perr.Position.Line, Key: perr.LastKey, Msg: perr.Message}
		}
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	var errs []error
	for _, k := range md.Undecoded() {
		if len(k) > 0 && k[0] == "central" {
			errs = append(errs, &ConfigError{File: path, Line: f.lines[k.String()], Key: k.String(),
				Msg: "unknown key; see README.md, section Central server, for the keys the central understands"})
		}
	}
	return f, errors.Join(errs...)
}

// Annotate names f's file, and the line where f set the key, in each error
// of err (Config.Validate's errors.Join): a *ConfigError gets them filled
// in, an error in Validate's "central.key: what is wrong" form becomes a
// *ConfigError. A key the file did not set (a default or a flag) keeps
// Line 0. f may be nil (no file was read): err is returned as it is.
func (f *ConfigFile) Annotate(err error) error {
	if f == nil || err == nil {
		return err
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
		var ce *ConfigError
		if !errors.As(e, &ce) {
			keys, msg, ok := strings.Cut(e.Error(), ": ")
			if !ok || !strings.HasPrefix(keys, "central.") || strings.ContainsAny(keys, " ") && !strings.Contains(keys, ", ") {
				out = append(out, fmt.Errorf("config %s: %w", f.Path, e))
				continue
			}
			ce = &ConfigError{Key: keys, Msg: msg}
		}
		if ce.File == "" {
			ce.File = f.Path
		}
		if ce.Line == 0 {
			// "central.a, b: …" names several keys of one table: the
			// first one the file set gives the line.
			first, rest, _ := strings.Cut(ce.Key, ", ")
			table := first[:strings.LastIndex(first, ".")+1]
			for _, k := range append([]string{first}, strings.Split(rest, ", ")...) {
				if k == "" {
					continue
				}
				if !strings.HasPrefix(k, "central.") {
					k = table + k
				}
				if n := f.lines[k]; n > 0 {
					ce.Line = n
					break
				}
			}
		}
		out = append(out, ce)
	}
	return errors.Join(out...)
}

// keyLines maps each key assigned in a TOML text to its line: the
// enclosing [table] joined with the (dotted) key. Keys inside inline
// tables and arrays of tables are not located.
func keyLines(text string) map[string]int {
	m := map[string]int{}
	table := ""
	for i, line := range strings.Split(text, "\n") {
		l := strings.TrimSpace(line)
		switch {
		case l == "" || l[0] == '#':
		case strings.HasPrefix(l, "[["):
			table = "\x00" // an array of tables: its keys are not located
		case l[0] == '[':
			if end := strings.IndexByte(l, ']'); end > 0 {
				table = joinKey(l[1:end])
			}
		default:
			k, _, ok := strings.Cut(l, "=")
			if !ok || table == "\x00" {
				continue
			}
			full := joinKey(k)
			if table != "" {
				full = table + "." + full
			}
			if _, seen := m[full]; !seen {
				m[full] = i + 1
			}
		}
	}
	return m
}

// joinKey normalises a dotted TOML key: parts trimmed and unquoted.
func joinKey(k string) string {
	parts := strings.Split(k, ".")
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if u, err := strconv.Unquote(p); err == nil {
			p = u
		} else {
			p = strings.Trim(p, "'")
		}
		parts[i] = p
	}
	return strings.Join(parts, ".")
}
