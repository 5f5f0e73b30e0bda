package registration

import (
	"errors"
	"time"

	"examkiosk/idnumber"
)

// Sex is the sex encoded in a resident ID number.
type Sex = idnumber.Sex

// Sexes derived from the 17th digit of an ID number.
const (
	Male   = idnumber.Male
	Female = idnumber.Female
)

// IDInfo is what an 18-digit GB 11643 citizen ID number encodes.
type IDInfo = idnumber.Info

// CheckDigit returns the ISO 7064 MOD 11-2 check character for the first 17
// digits of an ID number. It reports false if first17 is not 17 ASCII digits.
func CheckDigit(first17 string) (byte, bool) { return idnumber.CheckDigit(first17) }

// idCodes maps the reasons of package idnumber to the refusal codes.
var idCodes = []struct {
	err  error
	code string
}{
	{idnumber.ErrEmpty, CodeRequired},
	{idnumber.ErrLength, CodeIDLength},
	{idnumber.ErrFormat, CodeIDFormat},
	{idnumber.ErrRegion, CodeIDRegion},
	{idnumber.ErrBirthDate, CodeIDBirthDate},
	{idnumber.ErrBirthFuture, CodeIDBirthFuture},
	{idnumber.ErrCheckDigit, CodeIDCheckDigit},
}

// ParseIDNumber checks an 18-digit GB 11643 ID number (already normalized:
// upper-case X) against today's date and returns what it encodes. The error
// is a *FieldError for the field "id_number".
func ParseIDNumber(s string, today time.Time) (IDInfo, error) {
	info, err := idnumber.Parse(s, today)
	if err == nil {
		return info, nil
	}
	for _, c := range idCodes {
		if errors.Is(err, c.err) {
			return IDInfo{}, newFieldError(FieldIDNumber, c.code)
		}
	}
	return IDInfo{}, newFieldError(FieldIDNumber, CodeIDFormat)
}
