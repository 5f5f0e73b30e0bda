package central

import (
	"time"

	"examkiosk/idnumber"
)

// validIDNumber checks an 18-character resident identity number
// (GB 11643-1999) with the rules the kiosks use (package idnumber).
func validIDNumber(s string) bool {
	_, err := idnumber.Parse(s, time.Now())
	return err == nil
}
