// Package idnumber checks 18-character resident identity numbers of the
// People's Republic of China (GB 11643-1999) and reads what they encode:
// region, birth date and sex. It is the one place for that rule; the kiosk's
// registration model and the central server both use it.
package idnumber

import (
	"errors"
	"fmt"
	"time"
)

// Sex is the sex encoded in the 17th digit.
type Sex string

// Sexes.
const (
	Male   Sex = "male"
	Female Sex = "female"
)

// Info is what an ID number encodes.
type Info struct {
	Region    string    // six-digit administrative division code
	Province  string    // province-level name (zh-CN) of the first two digits
	BirthDate time.Time // UTC midnight of the birth date
	Sex       Sex
}

// Reasons an ID number is refused; Parse wraps exactly one of them.
var (
	ErrEmpty       = errors.New("empty")
	ErrLength      = errors.New("not 18 characters")
	ErrFormat      = errors.New("not 17 digits and a digit or X")
	ErrRegion      = errors.New("unknown province code")
	ErrBirthDate   = errors.New("not a valid birth date")
	ErrBirthFuture = errors.New("birth date in the future")
	ErrCheckDigit  = errors.New("wrong check character")
)

// provinces maps the province-level codes of GB/T 2260 (plus the 81/82/83
// prefixes of residence permits for Hong Kong, Macao and Taiwan residents)
// to their names. A constant table, never modified.
var provinces = map[string]string{
	"11": "北京", "12": "天津", "13": "河北", "14": "山西", "15": "内蒙古",
	"21": "辽宁", "22": "吉林", "23": "黑龙江",
	"31": "上海", "32": "江苏", "33": "浙江", "34": "安徽", "35": "福建", "36": "江西", "37": "山东",
	"41": "河南", "42": "湖北", "43": "湖南", "44": "广东", "45": "广西", "46": "海南",
	"50": "重庆", "51": "四川", "52": "贵州", "53": "云南", "54": "西藏",
	"61": "陕西", "62": "甘肃", "63": "青海", "64": "宁夏", "65": "新疆",
	"71": "台湾", "81": "香港", "82": "澳门", "83": "台湾居民居住证",
}

// weights are the ISO 7064 MOD 11-2 weights 2^(17-i) mod 11.
var weights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// checkChars maps the weighted sum mod 11 to the check character.
const checkChars = "10X98765432"

// CheckDigit returns the ISO 7064 MOD 11-2 check character for the first 17
// digits. It reports false if first17 is not 17 ASCII digits.
func CheckDigit(first17 string) (byte, bool) {
	if len(first17) != 17 {
		return 0, false
	}
	sum := 0
	for i := 0; i < 17; i++ {
		c := first17[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		sum += int(c-'0') * weights[i]
	}
	return checkChars[sum%11], true
}

// Parse checks s (normalized: upper-case X) as of today and returns what it
// encodes. The error wraps one of the Err values.
func Parse(s string, today time.Time) (Info, error) {
	fail := func(err error) (Info, error) { return Info{}, fmt.Errorf("ID number: %w", err) }
	if s == "" {
		return fail(ErrEmpty)
	}
	if len(s) != 18 {
		return fail(ErrLength)
	}
	for i := 0; i < 17; i++ {
		if s[i] < '0' || s[i] > '9' {
			return fail(ErrFormat)
		}
	}
	if c := s[17]; (c < '0' || c > '9') && c != 'X' {
		return fail(ErrFormat)
	}
	province, ok := provinces[s[:2]]
	if !ok {
		return fail(ErrRegion)
	}
	var y, m, d int
	if _, err := fmt.Sscanf(s[6:14], "%4d%2d%2d", &y, &m, &d); err != nil {
		return fail(ErrBirthDate)
	}
	birth := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if birth.Year() != y || int(birth.Month()) != m || birth.Day() != d || y < 1900 {
		return fail(ErrBirthDate)
	}
	ty, tm, td := today.Date()
	if birth.After(time.Date(ty, tm, td, 0, 0, 0, 0, time.UTC)) {
		return fail(ErrBirthFuture)
	}
	if want, _ := CheckDigit(s[:17]); want != s[17] {
		return fail(ErrCheckDigit)
	}
	sex := Female
	if (s[16]-'0')%2 == 1 {
		sex = Male
	}
	return Info{Region: s[:6], Province: province, BirthDate: birth, Sex: sex}, nil
}
