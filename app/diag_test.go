package app

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"image"
	"image/jpeg"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"examkiosk/app/registration"
	"examkiosk/app/store"
	"examkiosk/sync/wire"
)

// noisePhoto is a JPEG of at least 24 KB (noise compresses badly).
func noisePhoto(t *testing.T) []byte {
	rng := rand.New(rand.NewPCG(7, 1))
	img := image.NewRGBA(image.Rect(0, 0, 360, 504))
	for i := range img.Pix {
		img.Pix[i] = uint8(rng.UintN(256))
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 60}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestDiagnosticBundleHasNoPersonalData: a kiosk holding a submitted
// registration, whose log saw the candidate's name, ID number and phone in
// attributes and in an error, writes a bundle with the facts support needs
// and none of those.
func TestDiagnosticBundleHasNoPersonalData(t *testing.T) {
	ring := NewLogRing(slog.NewTextHandler(io.Discard, nil), 100)
	log := slog.New(ring)
	a := testApp(t, Options{Camera: replayCamera(t), Logger: log})
	a.opts.Config.Kiosk.StaffPINHash = mustHashPIN(t, "246810")

	const name, id, phone = testName, testIDNumber, testPhone
	photo, reg := submitTestRegistration(t, a.opts.Store)
	log.Info("registration submitted", "registration", reg.ID, "name", name, "id_number", id, "device", "kiosk-diag-7")
	log.Warn("delivery refused", "err", errors.New(`field name "`+name+`" for `+id+` phone `+phone+`: too long`), "component", "sync")

	var buf bytes.Buffer
	if err := a.writeDiagnostics(&buf); err != nil {
		t.Fatal(err)
	}
	z, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	files := map[string]string{}
	for _, f := range z.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r)
		r.Close()
		files[f.Name] = string(b)
		all.Write(b)
		if bytes.Contains(b, photo[200:264]) {
			t.Errorf("%s holds bytes of the candidate's photo", f.Name)
		}
	}
	text := all.String()
	for _, secret := range []string{name, id, phone, "argon2", "欧阳"} {
		if strings.Contains(text, secret) {
			t.Errorf("the bundle contains %q", secret)
		}
	}
	// The facts support needs are there.
	for file, want := range map[string][]string{
		"config.toml":      {"测试考试中心", `staff_pin_hash = "[redacted]"`, "[camera]"},
		"diagnostics.json": {`"version": "9.9.9"`, `"registrations": 1`, `"queued": 1`, `"key": "camera"`, "models"},
		"log.txt":          {"registration submitted", `device="kiosk-diag-7"`, "name=[omitted]", "delivery refused", `component="sync"`},
	} {
		for _, w := range want {
			if !strings.Contains(files[file], w) {
				t.Errorf("%s lacks %q:\n%s", file, w, files[file])
			}
		}
	}

	// Written to a folder (a USB stick's mount point) by the console.
	if _, err := a.StaffDiagnostics(t.TempDir()); err == nil {
		t.Fatal("the bundle needs an open staff session")
	}
	if err := a.StaffLogin("246810"); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path, err := a.StaffDiagnostics(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 || filepath.Dir(path) != dir || fi.Mode().Perm() != 0o600 {
		t.Fatalf("bundle file %s: %v %v", path, fi, err)
	}
	qr, err := a.StaffDiagnosticsQR()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(qr.PNG, "data:image/png;base64,") || !strings.Contains(qr.Summary, "v=9.9.9") ||
		!strings.Contains(qr.Summary, "regs=1 q=1") || !strings.Contains(qr.Summary, "camera=ok/") {
		t.Errorf("summary QR: %q (%d bytes of PNG)", qr.Summary, len(qr.PNG))
	}
	if strings.Contains(qr.Summary, name) || strings.Contains(qr.Summary, id) {
		t.Errorf("the summary holds personal data: %q", qr.Summary)
	}
}

// The candidate of submitTestRegistration.
const testName, testIDNumber, testPhone = "欧阳明月", "440305198001010013", "13912345678"

// submitTestRegistration stores a complete registration (name, ID number,
// phone, photo, face descriptor) and returns its photo and the record.
func submitTestRegistration(t *testing.T, st *store.Store) ([]byte, registration.Registration) {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	if c, ok := registration.CheckDigit(testIDNumber[:17]); !ok || string(c) != testIDNumber[17:] {
		t.Fatalf("test ID number %s is not valid (check digit %c)", testIDNumber, c)
	}
	if err := st.PutCatalog(ctx, wire.Catalog{Version: 1, Exams: []wire.Exam{{ID: "E1", Name: "2026 年事业单位公开招聘",
		RegisterFrom: now.AddDate(0, -1, 0), RegisterUntil: now.AddDate(0, 1, 0), Positions: []wire.Position{{ID: "P1", Name: "文秘"}}}}}); err != nil {
		t.Fatal(err)
	}
	photo := noisePhoto(t)
	desc := make([]float32, registration.DescriptorLen)
	reg, err := st.Submit(ctx, registration.Registration{
		Name: testName, IDNumber: testIDNumber, Phone: testPhone, Education: registration.EducationMaster, Major: "计算机科学与技术",
		GraduationYear: 2010, WorkExperience: "2010–2018 深圳某科技公司", ExamID: "E1", PositionID: "P1",
		Photo: photo, Descriptors: [][]float32{desc}, FaceDistance: 0.2, LivenessPassed: true,
		IdentitySource: registration.SourceSocialSecurityQR, DeviceID: "kiosk-1",
	})
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	return photo, reg
}

// TestHeartbeatHealth: the heartbeat says when the oldest undelivered item
// was queued (the central's "queue older than an hour" alert).
func TestHeartbeatHealth(t *testing.T) {
	a := testApp(t, Options{Camera: replayCamera(t)})
	if h := a.health(); !h.OldestQueued.IsZero() || h.Version != a.opts.Version || h.Camera != "ok" || h.DiskFreeBytes == 0 {
		t.Fatalf("empty outbox: %+v", h)
	}
	before := time.Now().Add(-time.Second)
	submitTestRegistration(t, a.opts.Store)
	h := a.health()
	if h.OldestQueued.Before(before) || h.OldestQueued.After(time.Now()) {
		t.Fatalf("oldest queued %v, want the submission's time", h.OldestQueued)
	}
}
