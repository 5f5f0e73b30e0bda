package ticket

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"strings"
	"testing"
	"time"

	"examkiosk/internal/cupstest"
	"examkiosk/sync/wire"
)

// Labels as the UI sends them (zh-CN); test files may hold words.
var zhLabels = Labels{Title: "准考证", Number: "准考证号", Name: "姓名", IDNumber: "身份证号", Exam: "考试名称", Position: "报考岗位",
	Site: "考点", Address: "考点地址", Room: "考场", Seat: "座位号", Time: "考试时间", Verify: "扫码核验", Notes: "1. 考生凭准考证和身份证入场。\n2. 开考 30 分钟后不得入场。"}

// bluePhoto is a 300×420 JPEG of one strong blue, easy to find on the page.
func bluePhoto(t testing.TB) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 300, 420))
	for y := range 420 {
		for x := range 300 {
			img.Set(x, y, color.RGBA{20, 40, 220, 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// SampleTicket is a ticket as the central sends it.
func sampleTicket(t testing.TB) wire.Ticket {
	cst := time.FixedZone("CST", 8*3600)
	return wire.Ticket{Number: "2026010020017", ExamID: "e1", ExamName: "2026年度事业单位公开招聘考试", PositionID: "P002", PositionName: "财务会计岗",
		SiteName: "第一中学", SiteAddress: "人民路 1 号", Room: "第 2 考场", Seat: 17,
		StartsAt: time.Date(2026, 12, 12, 9, 0, 0, 0, cst), EndsAt: time.Date(2026, 12, 12, 11, 30, 0, 0, cst),
		VerifyURL: "http://127.0.0.1:8700/tickets/verify/0190-abc.sig", Photo: bluePhoto(t)}
}

func loadFont(t testing.TB) *Font {
	t.Helper()
	f, err := LoadFont(DefaultFont)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the ticket font is required in CI (build/setup.sh deps: fonts-wqy-microhei): %v", err)
		}
		t.Skipf("skipping: %v (build/setup.sh deps installs fonts-wqy-microhei)", err)
	}
	return f
}

// The PDF read back (pdftotext) says what the ticket must say, and the
// photo is on the page (pdftoppm).
func TestRenderReadBack(t *testing.T) {
	var pdf bytes.Buffer
	if err := Render(&pdf, loadFont(t), sampleTicket(t), Candidate{Name: "张三丰", MaskedID: "110***********1234"}, zhLabels); err != nil {
		t.Fatal(err)
	}
	text := cupstest.Text(t, pdf.Bytes())
	for _, want := range []string{"准考证", "2026010020017", "张三丰", "110***********1234", "2026年度事业单位公开招聘考试", "P002 财务会计岗",
		"第一中学", "人民路 1 号", "第 2 考场", "17", "2026-12-12 09:00 - 11:30", "座位号", "开考 30 分钟后不得入场"} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF does not say %q; it reads:\n%s", want, text)
		}
	}
	if strings.Contains(text, "110101") {
		t.Error("the ID number is printed unmasked")
	}
	// The photo box is at x 146–188 mm, y 50–106 mm of the A4 page.
	img := cupstest.Page(t, pdf.Bytes(), 40)
	b := img.Bounds()
	at := func(xmm, ymm float64) color.Color {
		return img.At(b.Min.X+int(xmm/210*float64(b.Dx())), b.Min.Y+int(ymm/297*float64(b.Dy())))
	}
	blue := func(c color.Color) bool {
		r, g, bl, _ := c.RGBA()
		return bl>>8 > 180 && r>>8 < 80 && g>>8 < 90
	}
	if !blue(at(167, 78)) || !blue(at(150, 55)) {
		t.Errorf("no photo rendered in its box: %v at the centre", at(167, 78))
	}
	if blue(at(100, 78)) || blue(at(167, 140)) {
		t.Error("blue outside the photo box: the photo is not where the ticket puts it")
	}
}

func TestRenderRefusesMissingLabelsAndPhoto(t *testing.T) {
	f := loadFont(t)
	l := zhLabels
	l.Seat = ""
	if err := Render(&bytes.Buffer{}, f, sampleTicket(t), Candidate{Name: "x"}, l); !errors.Is(err, ErrLabels) || !strings.Contains(err.Error(), "seat") {
		t.Fatalf("missing label: %v", err)
	}
	tk := sampleTicket(t)
	tk.Photo = nil
	if err := Render(&bytes.Buffer{}, f, tk, Candidate{Name: "x"}, zhLabels); err == nil {
		t.Fatal("a ticket without a photo was made")
	}
}

func TestLoadFontRefusesCFFAndBrokenCollections(t *testing.T) {
	for name, data := range map[string]string{"x.otf": "OTTO\x00\x01\x00\x00\x00\x00\x00\x00", "x.ttc": "ttcf\x00\x01\x00\x00\x00\x00\x00\x01\x00\x00\x10\x00"} {
		p := t.TempDir() + "/" + name
		os.WriteFile(p, []byte(data), 0o600)
		if _, err := LoadFont(p); err == nil {
			t.Fatalf("%s was accepted", name)
		}
	}
}
