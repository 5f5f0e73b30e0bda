// Command facecheck runs the kiosk's face checks without the GUI.
//
//	facecheck compare A B                      compare the largest faces of two images
//	facecheck photo IN [--out OUT.jpg]         validate an ID photo; with --out make one from IN
//	facecheck eval --pairs P --root DIR [--folds 10]
//	                                           verification accuracy on LFW-style pairs
//	facecheck calibrate --pairs P --root DIR [--target-far 0.001] [--n 100]
//	                                           1:1 and 1:N thresholds for a target FAR
//
// Common flags: --models DIR (default $EXAMKIOSK_MODELS or
// ~/.local/share/examkiosk/models), --recognition-model FILE,
// --recognition-kind KIND and --recognition-sha256 HEX (for a model that is
// not shipped), --threshold T. Output is JSON on stdout. Exit status: 0 ok,
// 1 check failed, 2 bad input (with a message on stderr).
//
// A command is an entry of the commands table; a file of this package adds
// its own with register in an init function.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
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

// env is what every command gets: the face configuration built from the
// common flags, and stderr for remarks.
type env struct {
	cfg    face.Config
	stderr io.Writer
}

// runFunc runs a command on its positional arguments. It returns the JSON
// result, whether the check passed, and an error (usageError: exit 2).
type runFunc func(ctx context.Context, ev *env, pos []string) (result any, ok bool, err error)

// command is one facecheck subcommand.
type command struct {
	// flags declares the command's own flags on fs and returns the
	// function that runs it (reading those flags).
	flags func(fs *flag.FlagSet) runFunc
}

var commands = map[string]command{}

// register adds a subcommand; call it from an init function.
func register(name string, c command) {
	if _, dup := commands[name]; dup {
		panic("facecheck: command " + name + " registered twice")
	}
	commands[name] = c
}

func init() {
	register("compare", command{flags: func(*flag.FlagSet) runFunc {
		return func(ctx context.Context, ev *env, pos []string) (any, bool, error) {
			if len(pos) != 2 {
				return nil, false, bad("compare: want two image files, got %d arguments", len(pos))
			}
			// The images are read before the models load: a bad file is
			// told at once.
			ia, err := decodeFile(pos[0])
			if err != nil {
				return nil, false, err
			}
			ib, err := decodeFile(pos[1])
			if err != nil {
				return nil, false, err
			}
			return withEngine(ev.cfg, func(e *face.Engine) (any, bool, error) { return compare(ctx, e, ia, ib) })
		}
	}})
	register("photo", command{flags: func(fs *flag.FlagSet) runFunc {
		out := fs.String("out", "", "photo: write the ID photo made from IN here")
		return func(ctx context.Context, ev *env, pos []string) (any, bool, error) {
			if len(pos) != 1 {
				return nil, false, bad("photo: want one image file, got %d arguments", len(pos))
			}
			data, err := os.ReadFile(pos[0])
			if err != nil {
				return nil, false, bad("read %s: %v", pos[0], err)
			}
			return withEngine(ev.cfg, func(e *face.Engine) (any, bool, error) { return photo(ctx, e, pos[0], data, *out) })
		}
	}})
	pairsFlags := func(fs *flag.FlagSet) (*string, *string) {
		return fs.String("pairs", "", "LFW-style pairs file"), fs.String("root", "", "image root (DIR/name/name_000i.jpg)")
	}
	register("eval", command{flags: func(fs *flag.FlagSet) runFunc {
		pairsPath, root := pairsFlags(fs)
		nfolds := fs.Int("folds", 0, "cross-validate over this many folds (pair i in fold i mod N) instead of the file's")
		return func(ctx context.Context, ev *env, pos []string) (any, bool, error) {
			if len(pos) != 0 || *pairsPath == "" || *root == "" {
				return nil, false, bad("eval: want --pairs FILE --root DIR and no other arguments")
			}
			pairs, folds, err := readPairs(*pairsPath, *root)
			if err != nil {
				return nil, false, err
			}
			if *nfolds < 0 || *nfolds > len(pairs)/2 {
				return nil, false, bad("eval: --folds must be in 0..%d, got %d", len(pairs)/2, *nfolds)
			}
			if *nfolds > 0 {
				folds = *nfolds
				for i := range pairs {
					pairs[i].Fold = i % folds
				}
			}
			return withEngine(ev.cfg, func(e *face.Engine) (any, bool, error) {
				r, err := e.Evaluate(ctx, pairs, folds, *root)
				return r, err == nil, err
			})
		}
	}})
	register("calibrate", command{flags: func(fs *flag.FlagSet) runFunc {
		pairsPath, root := pairsFlags(fs)
		target := fs.Float64("target-far", face.DefaultTargetFAR, "target false-accept rate (1:1 per comparison, 1:N per search)")
		n := fs.Int("n", face.DefaultSearchSize, "stored faces searched by the 1:N operating point")
		return func(ctx context.Context, ev *env, pos []string) (any, bool, error) {
			if len(pos) != 0 || *pairsPath == "" || *root == "" {
				return nil, false, bad("calibrate: want --pairs FILE --root DIR and no other arguments")
			}
			if !(*target > 0 && *target < 1) {
				return nil, false, bad("calibrate: --target-far must be in (0, 1), got %g", *target)
			}
			if *n < 1 {
				return nil, false, bad("calibrate: --n must be at least 1, got %d", *n)
			}
			pairs, _, err := readPairs(*pairsPath, *root)
			if err != nil {
				return nil, false, err
			}
			return withEngine(ev.cfg, func(e *face.Engine) (any, bool, error) {
				return calibrate(ctx, e, ev.stderr, pairs, *root, *target, *n)
			})
		}
	}})
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	names := make([]string, 0, len(commands))
	for name := range commands {
		names = append(names, name)
	}
	sort.Strings(names)
	if len(args) == 0 {
		fmt.Fprintf(stderr, "usage: facecheck %s ... (see go doc examkiosk/cmd/facecheck)\n", strings.Join(names, "|"))
		return exitBad
	}
	name, args := args[0], args[1:]
	cmd, known := commands[name]
	if !known {
		fmt.Fprintf(stderr, "facecheck: unknown command %q: want %s\n", name, strings.Join(names, ", "))
		return exitBad
	}
	fs := flag.NewFlagSet("facecheck "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	models := fs.String("models", "", "models directory (default "+face.DefaultModelsDir()+", or $EXAMKIOSK_MODELS)")
	recModel := fs.String("recognition-model", "", "recognition model file name inside the models directory (default "+face.DefaultRecognitionModel+")")
	recKind := fs.String("recognition-kind", "", "kind of a recognition model that is not shipped: dlib, mobilefacenet or arcface512")
	recSHA := fs.String("recognition-sha256", "", "SHA-256 of an ONNX recognition model that is not shipped")
	threshold := fs.Float64("threshold", 0, "1:1 match threshold for the recognition model (default: the shipped, calibrated one)")
	runCmd := cmd.flags(fs)
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
	cfg.RecognitionKind = face.ModelKind(*recKind)
	cfg.RecognitionSHA256 = *recSHA
	if *threshold > 0 {
		cfg.Thresholds[cfg.RecognitionModel] = *threshold
	} else if _, err := cfg.Threshold(); err != nil && (name == "eval" || name == "calibrate") {
		// A model without a shipped threshold can still be measured: the
		// configured figures are then at 0.5, only reported.
		cfg.Thresholds[cfg.RecognitionModel] = 0.5
	}
	result, ok, err := runCmd(ctx, &env{cfg: cfg, stderr: stderr}, pos)
	if result != nil {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if encErr := enc.Encode(result); encErr != nil {
			fmt.Fprintln(stderr, "facecheck: write result:", encErr)
			return exitBad
		}
	}
	switch {
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

// openEngine loads the face engine a command runs on and returns it with
// the function that releases it. The tests replace it with one that hands
// every in-process run the same engine (the models load once per test
// binary instead of once per case).
var openEngine = func(cfg face.Config, log *slog.Logger) (*face.Engine, func(), error) {
	e, err := face.NewEngine(cfg, log)
	if err != nil {
		return nil, nil, err
	}
	return e, func() { e.Close() }, nil
}

func withEngine(cfg face.Config, f func(*face.Engine) (any, bool, error)) (any, bool, error) {
	if err := cfg.Validate(); err != nil {
		return nil, false, usageError{err.Error()}
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	e, release, err := openEngine(cfg, log)
	if err != nil {
		return nil, false, usageError{err.Error()}
	}
	defer release()
	return f(e)
}

type compareResult struct {
	Model     string   `json:"model"`
	Distance  *float64 `json:"distance"` // null when a face is missing
	Threshold float64  `json:"threshold"`
	Match     bool     `json:"match"`
	FacesA    int      `json:"faces_a"`
	FacesB    int      `json:"faces_b"`
}

func compare(ctx context.Context, e *face.Engine, ia, ib image.Image) (any, bool, error) {
	r := compareResult{Model: e.Model().ID, Threshold: e.Threshold()}
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
		d, err := face.Distance(*ds[0], *ds[1])
		if err != nil {
			return nil, false, err
		}
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

func photo(ctx context.Context, e *face.Engine, in string, data []byte, out string) (any, bool, error) {
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

// readPairs reads an LFW-style pairs file and checks the image root.
func readPairs(pairsPath, root string) ([]face.Pair, int, error) {
	f, err := os.Open(pairsPath)
	if err != nil {
		return nil, 0, bad("open pairs: %v", err)
	}
	pairs, folds, err := face.ParsePairs(f)
	f.Close()
	if err != nil {
		return nil, 0, bad("%s: %v", pairsPath, err)
	}
	if st, err := os.Stat(root); err != nil || !st.IsDir() {
		return nil, 0, bad("--root %s: not a directory", root)
	}
	return pairs, folds, nil
}

// operatingPoint is a threshold with the rates it gives on the pairs file.
type operatingPoint struct {
	// PerComparisonFAR is the false-accept rate per comparison the
	// threshold was chosen for.
	PerComparisonFAR float64 `json:"per_comparison_far"`
	Threshold        float64 `json:"threshold"`
	// ImpostorFAR is the false-accept rate at Threshold over every pair of
	// images of different people under --root.
	ImpostorFAR float64 `json:"impostor_far"`
	// PairsFAR and PairsFRR are the rates at Threshold on the pairs file.
	PairsFAR float64 `json:"pairs_far"`
	PairsFRR float64 `json:"pairs_frr"`
}

type calibrateResult struct {
	Model     string  `json:"model"`
	TargetFAR float64 `json:"target_far"`
	// OneToOne is the 1:1 operating point: per-comparison FAR = target.
	OneToOne operatingPoint `json:"one_to_one"`
	// OneToN is the 1:N operating point for a search over N stored faces:
	// per-comparison FAR = target / N.
	N      int            `json:"n"`
	OneToN operatingPoint `json:"one_to_n"`
	// Curve is the threshold at decreasing per-comparison FARs, down to
	// the smallest the impostor pairs resolve (10 false accepts), for the
	// shipped model table.
	Curve          []face.FARPoint `json:"curve"`
	SamePairs      int             `json:"same_pairs"`
	DifferentPairs int             `json:"different_pairs"`
	ImpostorPairs  int             `json:"impostor_pairs"`
	FailedImages   []string        `json:"failed_images,omitempty"`
}

// calibrate chooses the thresholds on the impostor distribution of every
// pair of images of different people under root (far more pairs than the
// file holds, which the 1:N point needs: its per-comparison FAR is small),
// and reports the rates they give on the pairs file.
func calibrate(ctx context.Context, e *face.Engine, stderr io.Writer, pairs []face.Pair, root string, target float64, n int) (any, bool, error) {
	all, err := filepath.Glob(filepath.Join(root, "*", "*.jpg"))
	if err != nil || len(all) == 0 {
		return nil, false, bad("--root %s: no DIR/name/*.jpg images", root)
	}
	paths := slices.Clone(all)
	for _, p := range pairs {
		paths = append(paths, face.PairImage(root, p.NameA, p.IndexA), face.PairImage(root, p.NameB, p.IndexB))
	}
	descs, failed, _, err := e.DescribeFiles(ctx, paths)
	if err != nil {
		return nil, false, err
	}
	if len(failed) > 0 {
		fmt.Fprintf(stderr, "facecheck: no face found in %d images: %s\n", len(failed), strings.Join(failed, ", "))
	}
	var impostors []face.Scored
	for i, a := range all {
		da := descs[a]
		if da == nil {
			continue
		}
		for _, b := range all[i+1:] {
			db := descs[b]
			if db == nil || filepath.Dir(a) == filepath.Dir(b) {
				continue
			}
			d, err := face.Distance(*da, *db)
			if err != nil {
				return nil, false, err
			}
			impostors = append(impostors, face.Scored{Distance: d})
		}
	}
	if len(impostors) == 0 {
		return nil, false, bad("--root %s: no two people with a face found", root)
	}
	scored := make([]face.Scored, len(pairs))
	for i, p := range pairs {
		scored[i] = face.Scored{Pair: p, Distance: math.Inf(1)}
		a, b := descs[face.PairImage(root, p.NameA, p.IndexA)], descs[face.PairImage(root, p.NameB, p.IndexB)]
		if a != nil && b != nil {
			if scored[i].Distance, err = face.Distance(*a, *b); err != nil {
				return nil, false, err
			}
		}
	}
	r := calibrateResult{Model: e.Model().ID, TargetFAR: target, N: n, ImpostorPairs: len(impostors), FailedImages: failed}
	for _, s := range scored {
		if s.Same {
			r.SamePairs++
		} else {
			r.DifferentPairs++
		}
	}
	point := func(far float64) operatingPoint {
		c := face.CalibrateFAR(impostors, far)
		op := operatingPoint{PerComparisonFAR: far, Threshold: c.Threshold, ImpostorFAR: c.FAR}
		op.PairsFAR, op.PairsFRR = face.RatesAt(scored, c.Threshold)
		return op
	}
	r.OneToOne = point(target)
	r.OneToN = point(face.SearchFAR(target, n))
	floor := 10 / float64(len(impostors))
	for _, far := range []float64{1e-2, 3e-3, 1e-3, 3e-4, 1e-4, 3e-5, 1e-5, 3e-6, 1e-6} {
		if far < floor {
			break
		}
		r.Curve = append(r.Curve, face.FARPoint{FAR: far, Threshold: face.CalibrateFAR(impostors, far).Threshold})
	}
	if r.OneToN.PerComparisonFAR < floor {
		fmt.Fprintf(stderr, "facecheck: the 1:N per-comparison FAR %.2g is below what %d impostor pairs resolve (%.2g): its threshold is the strictest measured\n",
			r.OneToN.PerComparisonFAR, len(impostors), floor)
	}
	return r, true, nil
}
