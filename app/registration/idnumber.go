package registration

import (
	"fmt"
	"time"
)

// Sex is the sex encoded in a resident ID number.
type Sex string

// Sexes derived from the 17th digit of an ID number.
const (
	Male   Sex = "male"
	Female Sex = "female"
)

// IDInfo is what an 18-digit GB 11643 citizen ID number encodes.
type IDInfo struct {
	Region    string    // six-digit administrative division code
	Province  string    // province-level name (zh-CN) of the first two digits
	BirthDate time.Time // UTC midnight of the birth date
	Sex       Sex
}

// provinces maps the province-level codes of GB/T 2260 (plus the 81/82/83
// prefixes of residence permits for Hong Kong, Macao and Taiwan residents)
// to their names. It is a constant table, never modified.
var provinces = map[string]string{
	"11": "北京", "12": "天津", "13": "河北", "14": "山西", "15": "内蒙古",
	"21": "辽宁", "22": "吉林", "23": "黑龙江",
	"31": "上海", "32": "江苏", "33": "浙江", "34": "安徽", "35": "福建", "36": "江西", "37": "山东",
	"41": "河南", "42": "湖北", "43": "湖南", "44": "广东", "45": "广西", "46": "海南",
	"50": "重庆", "51": "四川", "52": "贵州", "53": "云南", "54": "西藏",
	"61": "陕西", "62": "甘肃", "63": "青海", "64": "宁夏", "65": "新疆",
	"71": "台湾", "81": "香港", "82": "澳门", "83": "台湾居民居住证",
}

// idWeights are the ISO 7064 MOD 11-2 weights 2^(17-i) mod 11 for the first
// 17 digits.
var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// idCheckChars maps the weighted sum mod 11 to the check character.
const idCheckChars = "10X98765432"

// CheckDigit returns the ISO 7064 MOD 11-2 check character for the first 17
// digits of an ID number. It reports false if first17 is not 17 ASCII digits.
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
		sum += int(c-'0') * idWeights[i]
	}
	return idCheckChars[sum%11], true
}

// ParseIDNumber checks an 18-digit GB 11643 ID number (already normalized:
// upper-case X) against today's date and returns what it encodes. The error
// is a *FieldError for the field "id_number".
func ParseIDNumber(s string, today time.Time) (IDInfo, error) {
	fail := func(code string) (IDInfo, error) {
		return IDInfo{}, newFieldError(FieldIDNumber, code)
	}
	if s == "" {
		return fail(CodeRequired)
	}
	if len(s) != 18 {
		return fail(CodeIDLength)
	}
	for i := 0; i < 17; i++ {
		if s[i] < '0' || s[i] > '9' {
			return fail(CodeIDFormat)
		}
	}
	if c := s[17]; (c < '0' || c > '9') && c != 'X' {
		return fail(CodeIDFormat)
	}
	province, ok := provinces[s[:2]]
	if !ok {
		return fail(CodeIDRegion)
	}
	var y, m, d int
	if _, err := fmt.Sscanf(s[6:14], "%4d%2d%2d", &y, &m, &d); err != nil {
		return fail(CodeIDBirthDate)
	}
	birth := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
	if birth.Year() != y || int(birth.Month()) != m || birth.Day() != d || y < 1900 {
		return fail(CodeIDBirthDate)
	}
	ty, tm, td := today.Date()
	if birth.After(time.Date(ty, tm, td, 0, 0, 0, 0, time.UTC)) {
		return fail(CodeIDBirthFuture)
	}
	if want, _ := CheckDigit(s[:17]); want != s[17] {
		return fail(CodeIDCheckDigit)
	}
	sex := Female
	if (s[16]-'0')%2 == 1 {
		sex = Male
	}
	return IDInfo{Region: s[:6], Province: province, BirthDate: birth, Sex: sex}, nil
}
