package app

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"examkiosk/device/face"
)

// ModelsManifest is the file in the models directory that lists every model
// file with its SHA-256, in sha256sum format. build/setup.sh installs it
// from build/models.sha256 together with the files; a centre that swaps a
// model file updates the manifest beside it.
const ModelsManifest = "models.sha256"

// InstallModelsHint is the command that installs the model files.
const InstallModelsHint = face.InstallModelsHint

// ModelFile is one verified model file.
type ModelFile struct {
	Name   string
	Path   string
	SHA256 string
	Bytes  int64
}

// VerifyModels checks that every file named in dir's manifest exists and
// has the listed SHA-256. The error names the path and the command that
// installs the models.
func VerifyModels(dir string) ([]ModelFile, error) {
	manifest := filepath.Join(dir, ModelsManifest)
	f, err := os.Open(manifest)
	if err != nil {
		return nil, fmt.Errorf("face models: %s is missing (%v); install the models with: %s", manifest, err, InstallModelsHint)
	}
	defer f.Close()
	var files []ModelFile
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		sum, name, ok := strings.Cut(text, "  ")
		if !ok || len(sum) != 64 || strings.ContainsAny(name, "/\\") {
			return nil, fmt.Errorf("face models: %s line %d: expected \"<sha256>  <file name>\"; reinstall with: %s", manifest, line, InstallModelsHint)
		}
		files = append(files, ModelFile{Name: name, Path: filepath.Join(dir, name), SHA256: sum})
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("face models: read %s: %w", manifest, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("face models: %s lists no files; reinstall with: %s", manifest, InstallModelsHint)
	}
	for i := range files {
		n, sum, err := hashFile(files[i].Path)
		if err != nil {
			return nil, fmt.Errorf("face models: %s is missing or unreadable (%v); install the models with: %s", files[i].Path, err, InstallModelsHint)
		}
		if sum != files[i].SHA256 {
			return nil, fmt.Errorf("face models: %s is corrupt (SHA-256 %s, expected %s); reinstall with: %s", files[i].Path, sum, files[i].SHA256, InstallModelsHint)
		}
		files[i].Bytes = n
	}
	return files, nil
}

func hashFile(path string) (int64, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return 0, "", err
	}
	return n, hex.EncodeToString(h.Sum(nil)), nil
}
