package exam

import (
	"bytes"
	"fmt"
	"image/jpeg"
)

// The ID photo rules of the exam notice: a recent, bareheaded, frontal
// colour photo on a red, blue or white background, JPEG, more than 20 KB,
// at least 300 px wide and 420 px high.
const (
	PhotoMinBytes  = 20*1024 + 1 // "more than 20 KB": 20,480 bytes is refused
	PhotoMinWidth  = 300
	PhotoMinHeight = 420
)

// Background colours the notice accepts.
const (
	BackgroundRed   = "red"
	BackgroundBlue  = "blue"
	BackgroundWhite = "white"
)

// PhotoBackgrounds lists the accepted background colours.
func PhotoBackgrounds() []string { return []string{BackgroundRed, BackgroundBlue, BackgroundWhite} }

// Codes of a photo file refusal (the frontend's i18n has their words).
const (
	PhotoNotJPEG    = "photo_not_jpeg"
	PhotoFileSmall  = "photo_file_too_small"
	PhotoFileLarge  = "photo_file_too_large"
	PhotoDimensions = "photo_too_small"
)

// PhotoRefusal is why a photo file breaks the notice's rules: a code and
// the measured value with the limit, for the words of the UI or a reviewer.
type PhotoRefusal struct {
	Code  string `json:"code"`
	Got   string `json:"got"`
	Limit string `json:"limit"`
}

func (r *PhotoRefusal) Error() string {
	return fmt.Sprintf("%s: %s (limit %s)", r.Code, r.Got, r.Limit)
}

// CheckPhotoFile checks what the notice says of the photo file itself:
// JPEG, more than 20 KB (and at most maxBytes when maxBytes > 0), at least
// 300×420 px. The kiosk checks its photo with it before it submits and the
// central when it ingests, so the two never disagree. It returns nil or a
// *PhotoRefusal.
func CheckPhotoFile(p []byte, maxBytes int) *PhotoRefusal {
	if len(p) < 3 || p[0] != 0xFF || p[1] != 0xD8 || p[2] != 0xFF {
		return &PhotoRefusal{Code: PhotoNotJPEG, Limit: "JPEG"}
	}
	if len(p) < PhotoMinBytes {
		return &PhotoRefusal{Code: PhotoFileSmall, Got: fmt.Sprint(len(p)), Limit: fmt.Sprint(PhotoMinBytes)}
	}
	if maxBytes > 0 && len(p) > maxBytes {
		return &PhotoRefusal{Code: PhotoFileLarge, Got: fmt.Sprint(len(p)), Limit: fmt.Sprint(maxBytes)}
	}
	c, err := jpeg.DecodeConfig(bytes.NewReader(p))
	if err != nil {
		return &PhotoRefusal{Code: PhotoNotJPEG, Got: "", Limit: "JPEG"}
	}
	if c.Width < PhotoMinWidth || c.Height < PhotoMinHeight {
		return &PhotoRefusal{Code: PhotoDimensions, Got: fmt.Sprintf("%d×%d", c.Width, c.Height),
			Limit: fmt.Sprintf("%d×%d", PhotoMinWidth, PhotoMinHeight)}
	}
	return nil
}
