package kiosk

import (
	"fmt"

	qrcode "github.com/skip2/go-qrcode"
)

// QRCodePNG renders QR contents (a login link or a payment link) as a PNG
// of size×size pixels with medium error correction.
func QRCodePNG(content string, size int) ([]byte, error) {
	png, err := qrcode.Encode(content, qrcode.Medium, size)
	if err != nil {
		return nil, fmt.Errorf("render QR code: %w", err)
	}
	return png, nil
}
