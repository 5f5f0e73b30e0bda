// Package ort runs ONNX models on ONNX Runtime for the kiosk's device code
// (face recognition, anti-spoofing, person segmentation). It wraps
// github.com/yalue/onnxruntime_go, which loads the runtime's shared
// library at run time: build/setup.sh installs that library
// (libonnxruntime.so.1 from the npm package onnxruntime-node@1.30.0) into
// DefaultLibraryPath, and Init refuses a library whose SHA-256 is not the
// one this package was built and tested against.
//
// The runtime is initialised once per process (Init is idempotent); each
// model gets a Session, created once and safe for concurrent Run calls.
// Sessions default to one intra-op thread: the kiosk has two cores and the
// camera, UI and dlib share them.
package ort

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	ort "github.com/yalue/onnxruntime_go"

	"examkiosk/internal/paths"
)

// LibraryName is the file name of the ONNX Runtime shared library.
const LibraryName = "libonnxruntime.so.1"

// LibraryVersion is the ONNX Runtime release the library comes from. Its C
// API serves every API version up to its own; onnxruntime_go v1.27.0 asks
// for API version 24 (ONNX Runtime 1.24), so 1.30 serves it.
const LibraryVersion = "1.30.0"

// LibrarySHA256 is the SHA-256 of LibraryName as shipped in
// onnxruntime-node@1.30.0 (bin/napi-v6/linux/x64/).
const LibrarySHA256 = "ffb75a925ba05e47b235bb66e3e3911714a80b328a9c9425539feb204aa32a23"

// InstallHint is the command that installs the runtime library.
const InstallHint = "make models (or: build/setup.sh onnxruntime)"

// DefaultLibraryPath is where build/setup.sh installs the runtime:
// $EXAMKIOSK_ORT_DIR/libonnxruntime.so.1, else
// ${XDG_DATA_HOME:-~/.local/share}/examkiosk/onnxruntime/libonnxruntime.so.1
// (beside the models directory).
func DefaultLibraryPath() string {
	dir := os.Getenv("EXAMKIOSK_ORT_DIR")
	if dir == "" {
		dir = filepath.Join(paths.DataHome(), "onnxruntime")
	}
	return filepath.Join(dir, LibraryName)
}

var (
	initMu   sync.Mutex
	initPath string // library the runtime was initialised with
)

// Init loads the runtime library at libPath ("" means DefaultLibraryPath)
// after checking its SHA-256, and initialises the process-wide runtime
// environment. Later calls with the same path do nothing; a call with a
// different path is an error, since a process holds one runtime. The
// error names the path and the install command.
func Init(libPath string) error {
	if libPath == "" {
		libPath = DefaultLibraryPath()
	}
	abs, err := filepath.Abs(libPath)
	if err != nil {
		return fmt.Errorf("onnxruntime: library path %s: %w", libPath, err)
	}
	initMu.Lock()
	defer initMu.Unlock()
	if initPath == abs {
		return nil
	}
	if err := VerifyFile(abs, LibrarySHA256, InstallHint); err != nil {
		return fmt.Errorf("onnxruntime %s: %w", LibraryVersion, err)
	}
	if initPath != "" {
		return fmt.Errorf("onnxruntime: already initialised with %s, cannot switch to %s", initPath, abs)
	}
	ort.SetSharedLibraryPath(abs)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		return fmt.Errorf("onnxruntime: initialise %s: %w; reinstall with: %s", abs, err, InstallHint)
	}
	initPath = abs
	return nil
}

// Version is the loaded runtime's version string ("" before Init).
func Version() string {
	initMu.Lock()
	defer initMu.Unlock()
	if initPath == "" {
		return ""
	}
	return ort.GetVersion()
}

// VerifyFile checks that path exists and has the SHA-256 want. The error
// names the path, both digests and the command (hint) that installs it.
func VerifyFile(path, want, hint string) error {
	_, err := fileSHA256(path, want, hint)
	return err
}

// fileSHA256 reads path, checks its SHA-256 against want and returns the
// bytes.
func fileSHA256(path, want, hint string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%s is missing or unreadable (%v); install it with: %s", path, errors.Unwrap(err), hint)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != want {
		return nil, fmt.Errorf("%s is corrupt (SHA-256 %s, expected %s); reinstall it with: %s", path, got, want, hint)
	}
	return data, nil
}
