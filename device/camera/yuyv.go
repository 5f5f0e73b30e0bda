package camera

import "fmt"

// YUYVToRGBA converts a packed YUYV 4:2:2 picture (Y0 U Y1 V per two
// pixels, the V4L2 V4L2_PIX_FMT_YUYV layout) to RGBA with opaque alpha.
// It uses the ITU-R BT.601 limited-range matrix that UVC webcams use, in
// 8-bit fixed point:
//
//	R = 1.164(Y-16)                + 1.596(V-128)
//	G = 1.164(Y-16) - 0.391(U-128) - 0.813(V-128)
//	B = 1.164(Y-16) + 2.018(U-128)
//
// dst must hold width*height*4 bytes and src width*height*2; width must be
// even.
func YUYVToRGBA(dst, src []byte, width, height int) error {
	if width <= 0 || height <= 0 || width%2 != 0 {
		return fmt.Errorf("yuyv: bad size %dx%d (width must be even)", width, height)
	}
	n := width * height
	if len(src) < n*2 {
		return fmt.Errorf("yuyv: source is %d bytes, want %d for %dx%d", len(src), n*2, width, height)
	}
	if len(dst) < n*4 {
		return fmt.Errorf("yuyv: destination is %d bytes, want %d", len(dst), n*4)
	}
	src = src[:n*2]
	dst = dst[:n*4]
	for i, j := 0, 0; i+3 < len(src); i, j = i+4, j+8 {
		d := int32(src[i+1]) - 128
		e := int32(src[i+3]) - 128
		rc := 409*e + 128
		gc := -100*d - 208*e + 128
		bc := 516*d + 128

		c := 298 * (int32(src[i]) - 16)
		p := dst[j : j+8 : j+8]
		p[0] = clamp8((c + rc) >> 8)
		p[1] = clamp8((c + gc) >> 8)
		p[2] = clamp8((c + bc) >> 8)
		p[3] = 0xff
		c = 298 * (int32(src[i+2]) - 16)
		p[4] = clamp8((c + rc) >> 8)
		p[5] = clamp8((c + gc) >> 8)
		p[6] = clamp8((c + bc) >> 8)
		p[7] = 0xff
	}
	return nil
}

func clamp8(v int32) uint8 {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}
