package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"examkiosk/device/camera"
	"examkiosk/device/face"
	"examkiosk/internal/testenv"
)

// TestMain runs the test binary as facecheck itself when asked to (the
// subprocess test), and otherwise makes every in-process run share one
// engine per configuration and one analysis per clip: the models load
// once per test binary, not once per case, and a clip given twice (as an
// .mjpeg file and as its folder of frames) is analysed once. What each
// case checks (flags, exit codes, JSON) still goes through run.
func TestMain(m *testing.M) {
	if os.Getenv("FACECHECK_TEST_AS_MAIN") == "1" {
		main()
		return
	}
	engines := map[string]*face.Engine{}
	var mu sync.Mutex
	openEngine = func(cfg face.Config, log *slog.Logger) (*face.Engine, func(), error) {
		key, err := json.Marshal(cfg)
		if err != nil {
			return nil, nil, err
		}
		mu.Lock()
		defer mu.Unlock()
		if e := engines[string(key)]; e != nil {
			return e, func() {}, nil
		}
		e, err := face.NewEngine(cfg, log)
		if err != nil {
			return nil, nil, err
		}
		engines[string(key)] = e
		return e, func() {}, nil
	}
	analysed := map[[32]byte]clipAnalysis{}
	analyse := analyseClip
	analyseClip = func(ctx context.Context, e *face.Engine, cfg face.Config, clip string, frames []camera.Frame, stderr io.Writer) (clipAnalysis, error) {
		h := sha256.New()
		fmt.Fprintf(h, "%p\n", e)
		for _, f := range frames {
			fmt.Fprintf(h, "%d %d %d %d\n", f.Format, f.Width, f.Height, len(f.Data))
			h.Write(f.Data)
		}
		key := [32]byte(h.Sum(nil))
		mu.Lock()
		a, ok := analysed[key]
		mu.Unlock()
		if ok {
			analysisHits++
			return a, nil
		}
		a, err := analyse(ctx, e, cfg, clip, frames, stderr)
		if err == nil {
			mu.Lock()
			analysed[key] = a
			mu.Unlock()
		}
		return a, err
	}
	code := m.Run()
	for _, e := range engines {
		e.Close()
	}
	os.Exit(code)
}

// analysisHits counts the clip analyses the tests reused.
var analysisHits int

func fixtures(t *testing.T) string { return testenv.FacesDir(t) }

func models(t *testing.T) { testenv.ModelsDir(t) }

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestCLI(t *testing.T) {
	fx := fixtures(t)
	models(t)
	v := filepath.Join(fx, "verify")
	outJPG := filepath.Join(t.TempDir(), "id.jpg")
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout []string // substrings
		stderr string
	}{
		{"no command", nil, exitBad, nil, "usage"},
		{"unknown command", []string{"frobnicate"}, exitBad, nil, "unknown command"},
		{"compare same", []string{"compare", v + "/Angelina_Jolie/Angelina_Jolie_0001.jpg", v + "/Angelina_Jolie/Angelina_Jolie_0002.jpg"}, exitOK, []string{`"match": true`, `"faces_a": 1`, `"model": "` + face.DefaultRecognitionModel + `"`}, ""},
		{"compare different", []string{"compare", v + "/Angelina_Jolie/Angelina_Jolie_0001.jpg", v + "/Matt_Damon/Matt_Damon_0001.jpg"}, exitFailed, []string{`"match": false`}, ""},
		{"compare no face", []string{"compare", fx + "/idphoto/no-face/compreface_landscape.jpg", v + "/Matt_Damon/Matt_Damon_0001.jpg"}, exitFailed, []string{`"distance": null`, `"faces_a": 0`}, ""},
		{"compare one arg", []string{"compare", "x.jpg"}, exitBad, nil, "two image files"},
		{"compare missing file", []string{"compare", "/nonexistent.jpg", "/nonexistent2.jpg"}, exitBad, nil, "nonexistent"},
		{"compare not an image", []string{"compare", "/etc/hostname", v + "/Matt_Damon/Matt_Damon_0001.jpg"}, exitBad, nil, "not a usable image"},
		{"photo refused", []string{"photo", fx + "/idphoto/wrong-background/compreface_personB-img1.jpg"}, exitFailed, []string{`"code": "background"`, `"ok": false`}, ""},
		{"photo corrupt", []string{"photo", fx + "/idphoto/corrupt/compreface_truncated_CORRUPT.jpg"}, exitBad, []string{`"code": "corrupt"`}, "not a usable image"},
		{"photo made", []string{"photo", fx + "/idphoto/portrait/deepface_img13.jpg", "--out", outJPG}, exitOK, []string{`"out"`, `"background": "white"`}, ""},
		{"eval needs pairs", []string{"eval", "--root", v}, exitBad, nil, "--pairs"},
		{"calibrate bad far", []string{"calibrate", "--pairs", v + "/pairs.txt", "--root", v, "--target-far", "2"}, exitBad, nil, "target-far"},
		{"bad flag", []string{"photo", "--nope"}, exitBad, nil, "nope"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCLI(t, tc.args...)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out, errs)
			}
			for _, s := range tc.stdout {
				if !strings.Contains(out, s) {
					t.Errorf("stdout lacks %s:\n%s", s, out)
				}
			}
			if tc.stderr != "" && !strings.Contains(errs, tc.stderr) {
				t.Errorf("stderr lacks %q: %s", tc.stderr, errs)
			}
			if code != exitBad && !json.Valid([]byte(out)) {
				t.Errorf("stdout is not JSON: %s", out)
			}
		})
	}
	// The made photo passes the same check.
	if code, out, _ := runCLI(t, "photo", outJPG); code != exitOK {
		t.Errorf("made photo refused: %s", out)
	}
}

// TestCLIEvalAndCalibrate runs eval on a fold of the verify set's pairs
// (device/face's TestVerifySetAccuracy scores all of them: the same
// ScorePairs and Summarise) and calibrate over the whole set, which needs
// every impostor pair.
func TestCLIEvalAndCalibrate(t *testing.T) {
	fx := fixtures(t)
	models(t)
	if testing.Short() {
		t.Skip("short")
	}
	v := filepath.Join(fx, "verify")
	all, err := os.ReadFile(filepath.Join(v, "pairs.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var same, diff []string
	for _, line := range strings.Split(string(all), "\n")[1:] {
		switch len(strings.Fields(line)) {
		case 3:
			same = append(same, line)
		case 4:
			diff = append(diff, line)
		}
	}
	const n = 12
	if len(same) < n || len(diff) < n {
		t.Fatalf("verify pairs: %d same, %d different, want %d of each", len(same), len(diff), n)
	}
	fold := filepath.Join(t.TempDir(), "pairs.txt")
	text := fmt.Sprintf("1 %d\n%s\n%s\n", n, strings.Join(same[:n], "\n"), strings.Join(diff[:n], "\n"))
	if err := os.WriteFile(fold, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "eval", "--pairs", fold, "--root", v, "--folds", "3")
	if code != exitOK {
		t.Fatalf("eval exit %d: %s", code, errs)
	}
	var r face.EvalResult
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if r.Pairs != 2*n || r.Folds != 3 || r.Accuracy < 0.99 || r.FailToDetect != 0 || r.MsPerImage <= 0 || r.Model != face.DefaultRecognitionModel {
		t.Errorf("eval: %+v", r)
	}
	code, out, errs = runCLI(t, "calibrate", "--pairs", v+"/pairs.txt", "--root", v, "--target-far", "0.001", "--n", "50")
	if code != exitOK {
		t.Fatalf("calibrate exit %d: %s", code, errs)
	}
	var c calibrateResult
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatal(err)
	}
	if c.Model != face.DefaultRecognitionModel || c.N != 50 || c.OneToOne.ImpostorFAR > 0.001 || c.OneToOne.Threshold <= 0 ||
		c.OneToN.PerComparisonFAR != 0.001/50 || c.OneToN.Threshold > c.OneToOne.Threshold || c.ImpostorPairs < c.DifferentPairs || len(c.Curve) == 0 {
		t.Errorf("calibrate: %+v", c)
	}
}

// A pairs file naming a photo without a face gives a result, not a crash:
// the pair counts as a rejection and no figure is infinite.
func TestCLIEvalMissingFace(t *testing.T) {
	fx := fixtures(t)
	models(t)
	root := t.TempDir()
	link := func(src, name string) {
		if err := os.MkdirAll(filepath.Join(root, name), 0o755); err != nil {
			t.Fatal(err)
		}
		for i := 1; i <= 2; i++ {
			if err := os.Symlink(src, face.PairImage(root, name, i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	link(filepath.Join(fx, "idphoto/no-face/compreface_landscape.jpg"), "Nobody")
	link(filepath.Join(fx, "verify/Matt_Damon/Matt_Damon_0001.jpg"), "Matt")
	pairs := filepath.Join(root, "pairs.txt")
	if err := os.WriteFile(pairs, []byte("1 2\nNobody 1 2\nMatt 1 2\nNobody 1 Matt 1\nMatt 2 Nobody 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "eval", "--pairs", pairs, "--root", root)
	if code != exitOK {
		t.Fatalf("eval exit %d: %s\n%s", code, errs, out)
	}
	var r face.EvalResult
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if r.FailedPairs != 3 || r.FailToDetect != 2 || r.ConfiguredFRR != 0.5 || r.ConfiguredFAR != 0 || r.Model != face.DefaultRecognitionModel {
		t.Errorf("eval: %+v", r)
	}
}

// TestBinary runs facecheck as a process (this test binary re-executed as
// its main): the exit status and the JSON on stdout are the interface
// scripts use, and the models load as in a real run.
func TestBinary(t *testing.T) {
	fx := fixtures(t)
	models(t)
	v := filepath.Join(fx, "verify")
	for _, tc := range []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{[]string{"compare", v + "/Angelina_Jolie/Angelina_Jolie_0001.jpg", v + "/Matt_Damon/Matt_Damon_0001.jpg"}, exitFailed, `"match": false`, ""},
		{[]string{"compare", "/nonexistent.jpg", v + "/Matt_Damon/Matt_Damon_0001.jpg"}, exitBad, "", "nonexistent"},
	} {
		cmd := exec.Command(os.Args[0], tc.args...)
		cmd.Env = append(os.Environ(), "FACECHECK_TEST_AS_MAIN=1")
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			code = exit.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		if code != tc.code || !strings.Contains(out.String(), tc.stdout) || !strings.Contains(errb.String(), tc.stderr) {
			t.Errorf("facecheck %v: exit %d (want %d)\nstdout: %s\nstderr: %s", tc.args, code, tc.code, out.String(), errb.String())
		}
		if tc.code != exitBad && !json.Valid(out.Bytes()) {
			t.Errorf("facecheck %v: stdout is not JSON: %s", tc.args, out.String())
		}
	}
}
