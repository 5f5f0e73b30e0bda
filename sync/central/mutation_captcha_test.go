package central_test

import (
	"bytes"
	"image/png"
	"testing"

	"examkiosk/sync/central"
)

// The served captcha defeats the attacker's template match of the font
// (templateRead, TestAttack7CaptchaAndGuessing) while the same matcher
// reads the plain font: a quick sample of 16 of each, every digit in every
// slot (TestAttack7 draws 100 of each).
func TestCaptchaTemplateMatchQuick(t *testing.T) {
	const n = 16
	solved := map[bool]int{}
	for i := range n {
		digits := string([]byte{byte('0' + i%10), byte('0' + (i*7+3)%10), byte('0' + (i*3+1)%10), byte('0' + (i*9+5)%10)})
		for _, distort := range []bool{false, true} {
			b, err := central.RenderCaptcha(digits, distort)
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			if templateRead(img) == digits {
				solved[distort]++
			}
		}
	}
	t.Logf("template match solved %d/%d plain, %d/%d served", solved[false], n, solved[true], n)
	if solved[false] < n-2 {
		t.Errorf("the template match reads %d/%d plain captchas: it is no attacker", solved[false], n)
	}
	if solved[true] > 5 {
		t.Errorf("the template match reads %d/%d served captchas", solved[true], n)
	}
}
