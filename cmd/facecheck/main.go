// Command facecheck runs the kiosk's face checks without the GUI.
//
//	facecheck compare A B                      compare the largest faces of two images
//	facecheck photo IN [--out OUT.jpg]         validate an ID photo; with --out make one from IN
//	facecheck eval --pairs P --root DIR        verification accuracy on LFW-style pairs
//	facecheck calibrate --pairs P --root DIR --target-far 0.001
//
// Common flags: --models DIR (default $EXAMKIOSK_MODELS or
// ~/.local/share/examkiosk/models), --recognition-model FILE, --threshold T.
// Output is JSON on stdout. Exit status: 0 ok, 1 check failed, 2 bad input
// (with a message on stderr).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"

	"image"

	"examkiosk/device/face"
)

const (
	exitOK     = 0
	exitFailed = 1
	exitBad    = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// usageError is bad input: exit 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func bad(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: facecheck compare|photo|eval|calibrate ... (see go doc examkiosk/cmd/facecheck)")
		return exitBad
	}
	cmd, args := args[0], args[1:]
	fs := flag.NewFlagSet("facecheck "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	models := fs.String("models", "", "models directory (default "+face.DefaultModelsDir()+", or $EXAMKIOSK_MODELS)")
	recModel := fs.String("recognition-model", "", "recognition model file name inside the models directory")
	threshold := fs.Float64("threshold", 0, "match threshold for the recognition model (default: configured)")
	out := fs.String("out", "", "photo: write the ID photo made from IN here")
	pairsPath := fs.String("pairs", "", "eval/calibrate: LFW-style pairs file")
	root := fs.String("root", "", "eval/calibrate: image root (DIR/name/name_000i.jpg)")
	targetFAR := fs.Float64("target-far", 0.001, "calibrate: target false-accept rate")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return exitBad // flag has printed the problem
	}
	cfg := face.DefaultConfig() // models dir from $EXAMKIOSK_MODELS or the set-up default
	if *models != "" {
		cfg.ModelsDir = *models
	}
	if *recModel != "" {
		cfg.RecognitionModel = *recModel
	}
	if *threshold > 0 {
		cfg.Thresholds[cfg.RecognitionModel] = *threshold
	} else if _, ok := cfg.Thresholds[cfg.RecognitionModel]; !ok && (cmd == "eval" || cmd == "calibrate") {
		cfg.Thresholds[cfg.RecognitionModel] = face.StockThreshold // only reported, not used to decide
	}
	var result any
	var ok bool
	switch cmd {
	case "compare":
		if len(pos) != 2 {
			err = bad("compare: want two image files, got %d arguments", len(pos))
			break
		}
		result, ok, err = withEngine(cfg, func(e *face.Engine) (any, bool, error) { return compare(ctx, e, pos[0], pos[1]) })
	case "photo":
		if len(pos) != 1 {
			err = bad("photo: want one image file, got %d arguments", len(pos))
			break
		}
		result, ok, err = withEngine(cfg, func(e *face.Engine) (any, bool, error) { return photo(ctx, e, pos[0], *out) })
	case "eval", "calibrate":
		if len(pos) != 0 || *pairsPath == "" || *root == "" {
			err = bad("%s: want --pairs FILE --root DIR and no other arguments", cmd)
			break
		}
		if cmd == "calibrate" && !(*targetFAR > 0 && *targetFAR < 1) {
			err = bad("calibrate: --target-far must be in (0, 1), got %g", *targetFAR)
			break
		}
		result, ok, err = withEngine(cfg, func(e *face.Engine) (any, bool, error) {
			return evaluate(ctx, e, cmd, *pairsPath, *root, *targetFAR)
		})
	default:
		err = bad("unknown command %q: want compare, photo, eval or calibrate", cmd)
	}
	if result != nil {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if encErr := enc.Encode(result); encErr != nil {
			fmt.Fprintln(stderr, "facecheck: write result:", encErr)
			return exitBad
		}
	}
	var ue usageError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, "facecheck:", err)
		return exitBad
	case err != nil:
		fmt.Fprintln(stderr, "facecheck:", err)
		return exitBad
	case !ok:
		return exitFailed
	}
	return exitOK
}

// parseInterspersed parses flags placed anywhere among the arguments.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

func withEngine(cfg face.Config, f func(*face.Engine) (any, bool, error)) (any, bool, error) {
	if err := cfg.Validate(); err != nil {
		return nil, false, usageError{err.Error()}
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	e, err := face.NewEngine(cfg, log)
	if err != nil {
		return nil, false, usageError{err.Error()}
	}
	defer e.Close()
	return f(e)
}

type compareResult struct {
	Distance  *float64 `json:"distance"` // null when a face is missing
	Threshold float64  `json:"threshold"`
	Match     bool     `json:"match"`
	FacesA    int      `json:"faces_a"`
	FacesB    int      `json:"faces_b"`
}

func compare(ctx context.Context, e *face.Engine, a, b string) (any, bool, error) {
	ia, err := decodeFile(a)
	if err != nil {
		return nil, false, err
	}
	ib, err := decodeFile(b)
	if err != nil {
		return nil, false, err
	}
	r := compareResult{Threshold: e.Threshold()}
	var ds [2]*face.Descriptor
	for i, img := range []image.Image{ia, ib} {
		faces, err := e.DetectPhoto(img)
		if err != nil {
			return nil, false, err
		}
		if i == 0 {
			r.FacesA = len(faces)
		} else {
			r.FacesB = len(faces)
		}
		if len(faces) == 0 {
			continue
		}
		d, err := e.DescribeFace(ctx, img, faces[0])
		if err != nil && !errors.Is(err, face.ErrNoFace) {
			return nil, false, err
		}
		if err == nil {
			ds[i] = &d
		}
	}
	if ds[0] != nil && ds[1] != nil {
		d := face.Distance(*ds[0], *ds[1])
		r.Distance = &d
		r.Match = e.Match(d)
	}
	return r, r.Match, nil
}

func decodeFile(path string) (image.Image, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, bad("read %s: %v", path, err)
	}
	img, err := face.DecodeImage(data)
	if err != nil {
		return nil, bad("%s: %v", path, err)
	}
	return img, nil
}

type photoResult struct {
	face.PhotoReport
	// Out is the report of the photo made from IN (with --out).
	Out *madeReport `json:"out,omitempty"`
}

type madeReport struct {
	Path string `json:"path"`
	face.PhotoReport
}

func photo(ctx context.Context, e *face.Engine, in, out string) (any, bool, error) {
	data, err := os.ReadFile(in)
	if err != nil {
		return nil, false, bad("read %s: %v", in, err)
	}
	spec := e.Config().Photo
	rep, err := e.ValidatePhoto(data, spec)
	if err != nil {
		return nil, false, err
	}
	rep.Face = nil // landmarks are noise in CLI output
	res := photoResult{PhotoReport: rep}
	if rep.Has(face.CodeCorrupt) {
		return res, false, bad("%s: %s", in, rep.Problems[0].Limit)
	}
	if out == "" {
		return res, rep.OK, nil
	}
	img, err := face.DecodeImage(data)
	if err != nil {
		return res, false, bad("%s: %v", in, err)
	}
	jpg, made, err := e.MakeIDPhoto(ctx, img, spec)
	if err != nil {
		if errors.Is(err, face.ErrNoFace) || errors.Is(err, face.ErrMultipleFaces) {
			fmt.Fprintln(os.Stderr, "facecheck: cannot make a photo:", err)
			return res, false, nil
		}
		return res, false, err
	}
	if err := os.WriteFile(out, jpg, 0o644); err != nil {
		return res, false, fmt.Errorf("write %s: %w", out, err)
	}
	made.Face = nil
	res.Out = &madeReport{Path: out, PhotoReport: made}
	return res, made.OK, nil
}

type calibrateResult struct {
	face.Calibration
	Model string `json:"recognition_model"`
}

func evaluate(ctx context.Context, e *face.Engine, cmd, pairsPath, root string, target float64) (any, bool, error) {
	f, err := os.Open(pairsPath)
	if err != nil {
		return nil, false, bad("open pairs: %v", err)
	}
	pairs, folds, err := face.ParsePairs(f)
	f.Close()
	if err != nil {
		return nil, false, bad("%s: %v", pairsPath, err)
	}
	if st, err := os.Stat(root); err != nil || !st.IsDir() {
		return nil, false, bad("--root %s: not a directory", root)
	}
	if cmd == "eval" {
		r, err := e.Evaluate(ctx, pairs, folds, root)
		if err != nil {
			return nil, false, err
		}
		return r, true, nil
	}
	scored, failed, _, err := e.ScorePairs(ctx, pairs, root)
	if err != nil {
		return nil, false, err
	}
	if len(failed) > 0 {
		fmt.Fprintf(os.Stderr, "facecheck: no face found in %d images: %s\n", len(failed), strings.Join(failed, ", "))
	}
	c := face.CalibrateFAR(scored, target)
	return calibrateResult{Calibration: c, Model: e.Config().RecognitionModel}, c.Different > 0, nil
}
