package tomlconf

import (
	"errors"
	"strings"
	"testing"
)

const plan = `# a plan
[[exam]]
id = "e1"

[[exam.site]]
id = "s1"
[[exam.site.room]]
id = "r1"
capacity = 3
[[exam.site.room]]
id = "r2"
"capacity" = 0

[[exam]]
id = "e2"
[[exam.site]]
id = "s1"
[exam.site.extra]
colour = "red"
`

func TestLine(t *testing.T) {
	s := func(name string, i int) Seg { return Seg{Name: name, Index: i} }
	k := func(name string) Seg { return Seg{Name: name, Index: -1} }
	for _, tt := range []struct {
		path []Seg
		want int
	}{
		{[]Seg{s("exam", 0), k("id")}, 3},
		{[]Seg{s("exam", 0), s("site", 0), s("room", 1), k("capacity")}, 12},
		{[]Seg{s("exam", 0), s("site", 0), s("room", 0), k("capacity")}, 9},
		{[]Seg{s("exam", 1), s("site", 0), k("id")}, 17},
		{[]Seg{s("exam", 1), s("site", 0)}, 16},
		{[]Seg{s("exam", 1), s("site", 0), k("extra"), k("colour")}, 19},
		{[]Seg{s("exam", 1), s("site", 1), k("id")}, 0}, // not in the file
	} {
		if got := Line([]byte(plan), tt.path...); got != tt.want {
			t.Errorf("Line(%s) = %d, want %d", KeyPath(tt.path...), got, tt.want)
		}
	}
	if got := KeyPath(s("exam", 0), s("site", 1), k("name")); got != "exam[0].site[1].name" {
		t.Errorf("KeyPath = %q", got)
	}
}

func TestDecodeErrors(t *testing.T) {
	var v struct {
		A struct {
			N int `toml:"n"`
		} `toml:"a"`
	}
	_, err := Decode("f.toml", []byte("[a]\nn = 1\n\n[b\nx = 1\n"), &v)
	var e *Error
	if !errors.As(err, &e) || e.File != "f.toml" || e.Line != 4 || !strings.Contains(e.Key, "[b") {
		t.Fatalf("syntax error: %#v", err)
	}
	_, err = Decode("f.toml", []byte("[a]\nn = \"x\"\n"), &v)
	if !errors.As(err, &e) || !strings.Contains(e.Key, "a.n (line 2)") {
		t.Fatalf("type error: %v", err)
	}
	joined := errors.Join(&Error{Key: "x.y", Msg: "bad"}, &Error{Key: "z", Msg: "bad"})
	SetFile(joined, "g.toml")
	if !strings.Contains(joined.Error(), "config g.toml: key x.y: bad\nconfig g.toml: key z: bad") {
		t.Fatalf("SetFile: %v", joined)
	}
}
