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
	if !errors.As(err, &e) || e.Key != "a.n" || e.Line != 2 {
		t.Fatalf("type error: %v", err)
	}
	joined := errors.Join(&Error{Key: "x.y", Msg: "bad"}, &Error{Key: "z", Msg: "bad"})
	SetFile(joined, "g.toml")
	if !strings.Contains(joined.Error(), "config g.toml: key x.y: bad\nconfig g.toml: key z: bad") {
		t.Fatalf("SetFile: %v", joined)
	}
}

// Annotate names file, key and line in every error of a validation
// report, whatever its shape.
func TestAnnotate(t *testing.T) {
	data := []byte(`[sync]
central_url = "ftp://x"
batch_max_items = 0

[camera]
fps = 1000

[central]
max_concurrent = 5
max_concurrent_per_device = 10
[central.wechat]
app_id = "x"
` + plan)
	err := Annotate(errors.Join(
		errors.New("sync.batch_max_items: 0 must be between 1 and 500"),
		errors.Join(errors.New("camera.fps = 1000: want 1 to 60 frames per second")),
		errors.New("central.max_concurrent_per_device, max_concurrent: 10, 5 must be positive with per-device ≤ overall"),
		&Error{Key: "central.wechat", Msg: "unknown key"},
		&Error{Key: "exam[0].site[0].room[1].capacity", Msg: "at least 1"},
		&Error{Key: "sync.central_urls", Msg: "not set, so no line"},
		errors.New("something without a key"),
	), "k.toml", data)
	want := []string{
		"config k.toml line 3: sync.batch_max_items: 0 must be between 1 and 500",
		"config k.toml line 6: camera.fps: 1000: want 1 to 60 frames per second",
		"config k.toml line 10: central.max_concurrent_per_device, max_concurrent: 10, 5 must be positive with per-device ≤ overall",
		"config k.toml line 11: central.wechat: unknown key",
		"config k.toml line 24: exam[0].site[0].room[1].capacity: at least 1",
		"config k.toml: key sync.central_urls: not set, so no line",
		"config k.toml: something without a key",
	}
	if got := err.Error(); got != strings.Join(want, "\n") {
		t.Fatalf("Annotate:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	if Annotate(nil, "k.toml", data) != nil {
		t.Fatal("Annotate(nil) is not nil")
	}
	// Without a file (flags): the key and the message only.
	if got := (&Error{Key: "central.clock_skew", Msg: "too long"}).Error(); got != "central.clock_skew: too long" {
		t.Fatalf("error without a file: %q", got)
	}
}
