package idnumber

import (
	"errors"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	today := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want error
	}{
		{"11010519491231002X", nil},
		{"440524188001010014", ErrBirthDate}, // before 1900
		{"", ErrEmpty},
		{"1101051949123100", ErrLength},
		{"11010519491231002Y", ErrFormat},
		{"1101051949123A002X", ErrFormat},
		{"99010519491231002X", ErrRegion},
		{"110105194902300028", ErrBirthDate}, // 30 February
		{"110105203001010010", ErrBirthFuture},
		{"110105194912310021", ErrCheckDigit},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in, today)
		if !errors.Is(err, tt.want) && !(tt.want == nil && err == nil) {
			t.Errorf("Parse(%q) = %v, want %v", tt.in, err, tt.want)
		}
	}
	info, err := Parse("11010519491231002X", today)
	if err != nil || info.Province != "北京" || info.Sex != Female || info.Region != "110105" || !info.BirthDate.Equal(time.Date(1949, 12, 31, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("got %+v, %v", info, err)
	}
}

func TestCheckDigit(t *testing.T) {
	for _, id := range []string{"11010519491231002X", "440524188001010014", "110101199003074477"} {
		if c, ok := CheckDigit(id[:17]); !ok || c != id[17] {
			t.Errorf("CheckDigit(%s) = %c, %v; want %c", id[:17], c, ok, id[17])
		}
	}
	if _, ok := CheckDigit("1234"); ok {
		t.Error("a short input must not be ok")
	}
}
