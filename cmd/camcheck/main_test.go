package main

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeFrames(t *testing.T, n int) string {
	dir := t.TempDir()
	for i := range n {
		img := image.NewRGBA(image.Rect(0, 0, 320, 240))
		for p := range img.Pix {
			img.Pix[p] = byte(p*i + p/7)
		}
		img.Set(0, 0, color.White)
		var b bytes.Buffer
		jpeg.Encode(&b, img, nil)
		os.WriteFile(filepath.Join(dir, string(rune('a'+i))+".jpg"), b.Bytes(), 0o644)
	}
	return dir
}

func TestRun(t *testing.T) {
	frames := writeFrames(t, 3)
	sample := filepath.Join(t.TempDir(), "sample.jpg")
	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"replay passes", []string{"-device", "replay:" + frames, "-n", "12", "-fps", "30", "-min-fps", "20", "-out", sample},
			0, []string{"PASS", "grabbed 12 frames (320x240 MJPG)", ": ok\n", "sample frame saved"}},
		{"too slow fails", []string{"-device", "replay:" + frames, "-n", "4", "-fps", "5", "-min-fps", "20", "-out", ""},
			1, []string{"FAIL: ", "below the minimum"}},
		{"missing device", []string{"-device", "/dev/video77", "-n", "2", "-timeout", "300ms"},
			1, []string{": no_device\n", "FAIL: got 0 of 2 frames"}},
		{"bad flag", []string{"-device", "webcam"}, 2, nil},
		{"bad n", []string{"-n", "0"}, 2, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), tt.args, &out, &errb)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out.String(), errb.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
	f, err := os.Open(sample)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if c, err := jpeg.DecodeConfig(f); err != nil || c.Width != 320 {
		t.Errorf("sample frame: %v %v", c, err)
	}
}
