package face

import (
	"context"
	"testing"
)

// BenchmarkMakeIDPhoto makes the ID photo from a 640×480 frame of the cap13
// clip with the room replaced (segmentation included) and, for comparison,
// with the room kept.
// Run: OPENBLAS_NUM_THREADS=1 go test ./device/face -run '^$' -bench MakeIDPhoto -benchtime 20x
func BenchmarkMakeIDPhoto(b *testing.B) {
	e := testEngine(b)
	frame := clipFrame(b, 100)
	for _, bc := range []struct {
		name string
		bg   string
	}{{"replace_room", BackgroundWhite}, {"keep_room", ""}} {
		b.Run(bc.name, func(b *testing.B) {
			spec := e.Config().Photo
			spec.MakeBackground = bc.bg
			for b.Loop() {
				if _, _, err := e.MakeIDPhoto(context.Background(), frame, spec); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPersonMask is the segmentation model alone on a 640×480 frame
// (letterbox to 256×256, one ONNX run, mask scaled back).
func BenchmarkPersonMask(b *testing.B) {
	e := testEngine(b)
	if e.seg == nil {
		b.Skip("no segmentation model loaded")
	}
	px := toRGB(clipFrame(b, 100))
	for b.Loop() {
		if _, err := e.seg.personMask(px); err != nil {
			b.Fatal(err)
		}
	}
}
