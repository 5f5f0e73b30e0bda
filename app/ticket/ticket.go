// Package ticket makes the admission ticket (准考证) a candidate prints at
// the kiosk: an A4 PDF with the exam, the candidate's name and masked ID
// number, the position, the exam site, room, seat and time, the ID photo
// the central approved and a QR code holding the central's signed
// verification link. The words on it (field labels, notes) come from the
// caller, as the UI's vue-i18n has them: Go owns no sentence a person reads.
//
// fpdf embeds (a subset of) a TrueType font: a CJK font with TrueType
// outlines and Latin letters and digits is needed. The default is Debian's
// fonts-wqy-microhei (Apache-2.0 or GPLv3, the font the UI uses too);
// DroidSansFallbackFull.ttf has no digits, CFF fonts such as Noto CJK cannot
// be read by fpdf.
package ticket

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/go-pdf/fpdf"

	"examkiosk/sync/kiosk"
	"examkiosk/sync/wire"
)

// DefaultFont is the CJK TrueType font used when the config names none.
const DefaultFont = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"

// Labels are the words printed on the ticket, in the candidate's language.
type Labels struct {
	Title    string `json:"title"`
	Number   string `json:"number"`
	Name     string `json:"name"`
	IDNumber string `json:"idNumber"`
	Exam     string `json:"exam"`
	Position string `json:"position"`
	Site     string `json:"site"`
	Address  string `json:"address"`
	Room     string `json:"room"`
	Seat     string `json:"seat"`
	Time     string `json:"time"`
	Verify   string `json:"verify"`
	Notes    string `json:"notes"` // the candidates' instructions, one per line
}

// ErrLabels is returned when a label the ticket needs is empty.
var ErrLabels = errors.New("ticket labels missing")

func (l Labels) check() error {
	var missing []string
	for name, v := range map[string]string{"title": l.Title, "number": l.Number, "name": l.Name, "idNumber": l.IDNumber,
		"exam": l.Exam, "position": l.Position, "site": l.Site, "room": l.Room, "seat": l.Seat, "time": l.Time} {
		if strings.TrimSpace(v) == "" {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s", ErrLabels, strings.Join(missing, ", "))
	}
	return nil
}

// Candidate is who the ticket is for, as the kiosk holds it.
type Candidate struct {
	Name     string
	MaskedID string // the ID number as printed: masked by the caller
}

// Font is a loaded TrueType font file.
type Font struct {
	path string
	data []byte
}

// LoadFont reads a TrueType font: a .ttf with glyf outlines, or the first
// font of a TrueType collection (.ttc, such as wqy-microhei.ttc), which
// fpdf cannot read itself and is unpacked here into a .ttf of its own.
func LoadFont(path string) (*Font, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("ticket font: %w", err)
	}
	if len(data) >= 4 && string(data[:4]) == "ttcf" {
		if data, err = firstOfCollection(data); err != nil {
			return nil, fmt.Errorf("ticket font %s: %w", path, err)
		}
	}
	// A TrueType font starts with version 1.0 or "true"; OpenType with CFF
	// outlines ("OTTO") cannot be embedded by fpdf.
	if len(data) < 12 || !(bytes.Equal(data[:4], []byte{0, 1, 0, 0}) || string(data[:4]) == "true") {
		return nil, fmt.Errorf("ticket font %s: not a TrueType font with glyf outlines (a CFF .otf such as Noto CJK cannot be embedded)", path)
	}
	return &Font{path: path, data: data}, nil
}

// firstOfCollection returns the first font of a TrueType collection as a
// font file of its own: its table directory, then its tables (the
// collection's offsets are from the start of the collection).
func firstOfCollection(ttc []byte) ([]byte, error) {
	be := binary.BigEndian
	if len(ttc) < 16 || be.Uint32(ttc[8:]) == 0 {
		return nil, errors.New("empty font collection")
	}
	off := int(be.Uint32(ttc[12:]))
	if off+12 > len(ttc) {
		return nil, errors.New("font collection truncated")
	}
	n := int(be.Uint16(ttc[off+4:]))
	dir := off + 12
	if dir+16*n > len(ttc) {
		return nil, errors.New("font collection truncated")
	}
	out := bytes.Clone(ttc[off : dir+16*n]) // offset table and table records
	for i := range n {
		rec := out[12+16*i:]
		start, length := int(be.Uint32(rec[8:])), int(be.Uint32(rec[12:]))
		if start < 0 || length < 0 || start+length > len(ttc) {
			return nil, errors.New("font collection truncated")
		}
		be.PutUint32(rec[8:], uint32(len(out)))
		out = append(out, ttc[start:start+length]...)
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
	}
	return out, nil
}

const family = "cjk"

// Render writes the ticket PDF to w.
func Render(w io.Writer, font *Font, t wire.Ticket, c Candidate, l Labels) error {
	if err := l.check(); err != nil {
		return err
	}
	if len(t.Photo) == 0 {
		return errors.New("ticket: no ID photo")
	}
	qr, err := kiosk.QRCodePNG(t.VerifyURL, 480)
	if err != nil {
		return fmt.Errorf("ticket QR: %w", err)
	}
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetTitle(l.Title+" "+t.Number, true)
	pdf.SetCreator("ExamKiosk", true)
	pdf.SetMargins(18, 18, 18)
	pdf.SetAutoPageBreak(false, 18)
	pdf.AddUTF8FontFromBytes(family, "", font.data)
	pdf.AddPage()
	pw, _ := pdf.GetPageSize()

	pdf.SetFont(family, "", 15)
	pdf.SetXY(18, 20)
	pdf.MultiCell(pw-36, 7, t.ExamName, "", "C", false)
	pdf.SetFont(family, "", 24)
	pdf.SetX(18)
	pdf.CellFormat(pw-36, 14, l.Title, "", 1, "C", false, 0, "")

	// The photo (3:4, like the ID photo) and the QR code on the right.
	const px, py, pwid, phei = 146, 50, 42, 56
	pdf.RegisterImageOptionsReader("photo", fpdf.ImageOptions{ImageType: "JPG"}, bytes.NewReader(t.Photo))
	pdf.ImageOptions("photo", px, py, pwid, phei, false, fpdf.ImageOptions{ImageType: "JPG"}, 0, "")
	pdf.Rect(px, py, pwid, phei, "D")
	pdf.RegisterImageOptionsReader("qr", fpdf.ImageOptions{ImageType: "PNG"}, bytes.NewReader(qr))
	pdf.ImageOptions("qr", px, py+phei+6, pwid, pwid, false, fpdf.ImageOptions{ImageType: "PNG"}, 0, "")
	if l.Verify != "" {
		pdf.SetFont(family, "", 8)
		pdf.SetXY(px-4, py+phei+6+pwid+1)
		pdf.MultiCell(pwid+8, 4, l.Verify, "", "C", false)
	}

	// The fields on the left.
	when := t.StartsAt.Format("2006-01-02 15:04") + " - " + t.EndsAt.Format("15:04")
	if t.EndsAt.YearDay() != t.StartsAt.YearDay() {
		when = t.StartsAt.Format("2006-01-02 15:04") + " - " + t.EndsAt.Format("2006-01-02 15:04")
	}
	rows := [][2]string{
		{l.Number, t.Number}, {l.Name, c.Name}, {l.IDNumber, c.MaskedID}, {l.Exam, t.ExamName},
		{l.Position, strings.TrimSpace(t.PositionID + " " + t.PositionName)}, {l.Site, t.SiteName},
	}
	if t.SiteAddress != "" && l.Address != "" {
		rows = append(rows, [2]string{l.Address, t.SiteAddress})
	}
	rows = append(rows, [2]string{l.Room, t.Room}, [2]string{l.Seat, strconv.Itoa(t.Seat)}, [2]string{l.Time, when})
	const lx, lw, vw, rowH = 18, 30, 92, 9
	y := float64(py)
	for _, r := range rows {
		pdf.SetFont(family, "", 11)
		pdf.SetXY(lx, y)
		pdf.CellFormat(lw, rowH, r[0], "1", 0, "C", false, 0, "")
		// Values in plain ASCII (number, ID, seat, time) are set in a
		// standard font: their text survives a printer's PostScript.
		if ascii(r[1]) {
			pdf.SetFont("Helvetica", "", 12)
		} else {
			pdf.SetFont(family, "", 12)
		}
		lines := pdf.SplitText(r[1], vw-4)
		h := float64(rowH)
		if n := len(lines); n > 1 {
			h = float64(n) * 6
		}
		pdf.SetXY(lx+lw, y)
		if len(lines) > 1 {
			pdf.MultiCell(vw, 6, r[1], "1", "L", false)
			pdf.Rect(lx, y, lw, h, "D")
		} else {
			pdf.CellFormat(vw, rowH, r[1], "1", 0, "L", false, 0, "")
		}
		y += h
	}

	if strings.TrimSpace(l.Notes) != "" {
		pdf.SetFont(family, "", 10)
		pdf.SetXY(lx, max(y, py+phei+6+pwid+10)+10)
		pdf.MultiCell(pw-36, 6, l.Notes, "", "L", false)
	}
	if err := pdf.Error(); err != nil {
		return fmt.Errorf("ticket PDF: %w", err)
	}
	if err := pdf.Output(w); err != nil {
		return fmt.Errorf("ticket PDF: %w", err)
	}
	return nil
}

func ascii(s string) bool {
	for _, r := range s {
		if r < ' ' || r > '~' {
			return false
		}
	}
	return true
}
