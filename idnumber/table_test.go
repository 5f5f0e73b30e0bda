package idnumber

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// The oracle below does not share code or tables with the package: the
// check character is computed by the ISO 7064 MOD 11-2 recursion (Horner's
// scheme, p ← 2(p + d) mod 11), not by the weight table, and the province
// codes are the GB/T 2260 list written out again from the standard.

// gbProvinces is GB/T 2260's province-level codes, with the 81/82/83
// prefixes of the residence permits for Hong Kong, Macao and Taiwan
// residents (GB 11643 as amended for those permits).
var gbProvinces = strings.Fields(`
	11 12 13 14 15
	21 22 23
	31 32 33 34 35 36 37
	41 42 43 44 45 46
	50 51 52 53 54
	61 62 63 64 65
	71 81 82 83`)

// mod112 is the check character of 17 digits by the MOD 11-2 recursion.
func mod112(first17 string) byte {
	p := 0
	for i := 0; i < len(first17); i++ {
		p = (p + int(first17[i]-'0')) * 2 % 11
	}
	v := (12 - p) % 11
	if v == 10 {
		return 'X'
	}
	return byte('0' + v)
}

// TestMod112Oracle pins the oracle to numbers published with the standard
// (GB 11643-1999's example) and a well-known one, so the oracle is not merely self-consistent.
func TestMod112Oracle(t *testing.T) {
	for _, id := range []string{"11010519491231002X", "440524188001010014"} {
		if c := mod112(id[:17]); c != id[17] {
			t.Fatalf("oracle: mod112(%s) = %c; want %c", id[:17], c, id[17])
		}
	}
}

// TestEveryProvinceEveryCheckValue generates, for every province code and
// every one of the 11 check values, valid numbers with random digits in
// every other position (the region's 3rd to 6th digits, the birth date, the
// sequence), and checks that Parse accepts them with what they encode, and
// refuses each of the 10 wrong check characters and every single-digit
// change of the first 17.
func TestEveryProvinceEveryCheckValue(t *testing.T) {
	today := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(2026, 11))
	const checks = "0123456789X"
	for _, prov := range gbProvinces {
		for _, want := range []byte(checks) {
			for range 3 {
				var body string
				var birth time.Time
				for {
					birth = time.Date(1930, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, rng.IntN(35000))
					body = fmt.Sprintf("%s%04d%s%03d", prov, rng.IntN(10000), birth.Format("20060102"), rng.IntN(1000))
					if mod112(body) == want {
						break
					}
				}
				id := body + string(want)
				info, err := Parse(id, today)
				if err != nil {
					t.Fatalf("Parse(%s) = %v; valid by MOD 11-2 (check %c)", id, err, want)
				}
				if c, ok := CheckDigit(body); !ok || c != want {
					t.Fatalf("CheckDigit(%s) = %c, %v; want %c", body, c, ok, want)
				}
				sex := Female
				if (body[16]-'0')%2 == 1 {
					sex = Male
				}
				if info.Region != id[:6] || info.Province == "" || !info.BirthDate.Equal(birth) || info.Sex != sex {
					t.Fatalf("Parse(%s) = %+v; want region %s, birth %s, %s", id, info, id[:6], birth.Format(time.DateOnly), sex)
				}
				for _, wrong := range []byte(checks) {
					if wrong == want {
						continue
					}
					if _, err := Parse(body+string(wrong), today); !errors.Is(err, ErrCheckDigit) {
						t.Fatalf("Parse(%s%c) = %v; want ErrCheckDigit", body, wrong, err)
					}
				}
				// MOD 11-2 catches every single-digit error; a wrong weight
				// would let some through (or refuse the valid number above).
				for i := 2; i < 17; i++ {
					for d := byte('0'); d <= '9'; d++ {
						if d == body[i] {
							continue
						}
						b := []byte(id)
						b[i] = d
						if _, err := Parse(string(b), today); err == nil {
							t.Fatalf("Parse(%s) accepted: digit %d of %s changed", b, i+1, id)
						}
					}
				}
			}
		}
	}
}

// TestProvinceNames: every province code has its own name, and every other
// two-digit prefix is refused as ErrRegion.
func TestProvinceNames(t *testing.T) {
	today := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	known := map[string]bool{}
	names := map[string]string{}
	for _, p := range gbProvinces {
		known[p] = true
	}
	for p := 0; p < 100; p++ {
		body := fmt.Sprintf("%02d0105199001010%02d", p, 12)
		id := body + string(mod112(body))
		info, err := Parse(id, today)
		if !known[fmt.Sprintf("%02d", p)] {
			if !errors.Is(err, ErrRegion) {
				t.Errorf("Parse(%s) = %v; want ErrRegion for prefix %02d", id, err, p)
			}
			continue
		}
		if err != nil {
			t.Fatalf("Parse(%s) = %v", id, err)
		}
		if other, dup := names[info.Province]; dup {
			t.Errorf("prefixes %s and %02d share the name %q", other, p, info.Province)
		}
		names[info.Province] = fmt.Sprintf("%02d", p)
	}
	for p, name := range map[string]string{"11": "北京", "44": "广东", "65": "新疆", "81": "香港"} {
		if names[name] != p {
			t.Errorf("province %s: name %q not found for it", p, name)
		}
	}
}

// TestBirthDateEdges: leap days, month ends, 1900, today and tomorrow.
func TestBirthDateEdges(t *testing.T) {
	today := time.Date(2026, 11, 26, 23, 59, 0, 0, time.UTC)
	tests := []struct {
		date string
		want error
	}{
		{"20000229", nil}, {"19000101", nil}, {"20261126", nil},
		{"19000229", ErrBirthDate}, {"20010229", ErrBirthDate}, {"18991231", ErrBirthDate},
		{"19900431", ErrBirthDate}, {"19901301", ErrBirthDate}, {"19900001", ErrBirthDate}, {"19900100", ErrBirthDate},
		{"20261127", ErrBirthFuture},
	}
	for _, tt := range tests {
		body := "440305" + tt.date + "123"
		id := body + string(mod112(body))
		if _, err := Parse(id, today); !errors.Is(err, tt.want) && !(tt.want == nil && err == nil) {
			t.Errorf("Parse(%s) = %v; want %v", id, err, tt.want)
		}
	}
}

// FuzzParse checks every accepted number against the oracle: 17 digits and
// the MOD 11-2 character by the recursion, a listed province, a real birth
// date from 1900 to today, and the sex of the 17th digit.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"11010519491231002X", "110101199003074477", "", "99999999999999999X", "440305200002290018"} {
		f.Add(s)
	}
	today := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	known := map[string]bool{}
	for _, p := range gbProvinces {
		known[p] = true
	}
	f.Fuzz(func(t *testing.T, s string) {
		info, err := Parse(s, today)
		if err != nil {
			return
		}
		if len(s) != 18 || strings.Trim(s[:17], "0123456789") != "" || mod112(s[:17]) != s[17] {
			t.Fatalf("accepted %q: its check character by MOD 11-2 is not %q", s, s[17:])
		}
		birth, perr := time.Parse("20060102", s[6:14])
		if !known[s[:2]] || perr != nil || birth.Year() < 1900 || birth.After(today) || !info.BirthDate.Equal(birth) {
			t.Fatalf("accepted %q: province %s, birth %v (%v)", s, s[:2], birth, perr)
		}
		if male := (s[16]-'0')%2 == 1; male != (info.Sex == Male) {
			t.Fatalf("accepted %q: sex %s", s, info.Sex)
		}
	})
}
