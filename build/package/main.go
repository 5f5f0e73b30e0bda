// Command package builds ExamKiosk's two Debian packages with nFPM used as
// a library (github.com/goreleaser/nfpm/v2: one well-kept Go packager for
// deb, no debian/ tree and no debhelper on the build host):
//
//   - examkiosk_<version>_amd64.deb: the portable kiosk binary, the face
//     models with their manifest, /etc/examkiosk/config.toml (a conffile),
//     the system user and data directory (sysusers.d, tmpfiles.d), the
//     systemd unit that runs the kiosk inside cage, the webcam udev rule;
//   - examkiosk-central_<version>_amd64.deb: the central, its unit, config,
//     user and data directory; PostgreSQL recommended.
//
// Depends are what dpkg-shlibdeps finds the binaries need, plus cage for the
// kiosk. `make package` runs it; build/package/package_test.go installs the
// result into a throwaway root.
//
//	go run . --version V --out DIR --repo ROOT --kiosk BIN --central BIN --models DIR
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/deb" // registers the deb packager
	"github.com/goreleaser/nfpm/v2/files"
)

const maintainer = "ExamKiosk maintainers <examkiosk@example.org>"

// ortLibrary is ONNX Runtime's shared library (device/face/ort.LibraryName)
// and ortDest where the kiosk package installs it.
const (
	ortLibrary = "libonnxruntime.so.1"
	ortDest    = "/usr/lib/examkiosk/" + ortLibrary
)

// opts are the command-line options.
type opts struct {
	version, out, repo, kiosk, central, models, ort string
	compression                                     string
}

func main() {
	var o opts
	flag.StringVar(&o.version, "version", "", "Debian package version, e.g. 0.1.0+57.g3d86f2f")
	flag.StringVar(&o.out, "out", "", "output directory for the .deb files")
	flag.StringVar(&o.repo, "repo", "../..", "repository root (README.md, build/config.example.toml)")
	flag.StringVar(&o.kiosk, "kiosk", "", "the portable kiosk binary (built with CXX=build/package/cxx-portable)")
	flag.StringVar(&o.central, "central", "", "the central binary")
	flag.StringVar(&o.models, "models", "", "face models directory with models.sha256")
	flag.StringVar(&o.ort, "ort", "", "directory holding ONNX Runtime's libonnxruntime.so.1 (build/setup.sh onnxruntime)")
	flag.StringVar(&o.compression, "compression", "gzip", "data.tar compression: gzip (what ships), or none for a quick check build (make package-check)")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "package:", err)
		os.Exit(1)
	}
}

func run(o opts) error {
	if o.version == "" || o.out == "" || o.kiosk == "" || o.central == "" || o.models == "" || o.ort == "" {
		return errors.New("--version, --out, --kiosk, --central, --models and --ort are required")
	}
	if o.compression != "gzip" && o.compression != "none" {
		return fmt.Errorf("--compression %q: want gzip or none", o.compression)
	}
	if !regexp.MustCompile(`^[0-9][A-Za-z0-9.+~-]*$`).MatchString(o.version) {
		return fmt.Errorf("version %q is not a Debian version (starts with a digit; letters, digits, . + ~ -)", o.version)
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	here, err := filepath.Abs(filepath.Join(o.repo, "build", "package", "files"))
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "examkiosk-package-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for _, p := range []pkg{kioskPkg(o, here), centralPkg(o, here)} {
		path, err := p.build(o, tmp)
		if err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
		fmt.Println(path)
	}
	return nil
}

// pkg describes one package.
type pkg struct {
	name, description string
	binary, binDest   string   // the executable and where it goes
	extraDepends      []string // besides what dpkg-shlibdeps finds
	recommends        []string
	confDir           string   // /etc/<name>
	configs           []string // conffiles, installed root:<name> 0640
	dataDir           string
	contents          files.Contents
	reloadUdev        bool
	filesDir          string // build/package/files: units, maintainer script templates
}

func kioskPkg(o opts, here string) pkg {
	p := pkg{
		name: "examkiosk",
		description: "ExamKiosk exam registration kiosk\n" +
			" Walk-in registration kiosk for personnel-exam test centres: QR or account\n" +
			" login, on-device live face check, ID photo, application, offline queue\n" +
			" delivered to the central system. Runs full-screen in the cage compositor.",
		binary: o.kiosk, binDest: "/usr/bin/examkiosk",
		extraDepends: []string{"cage", "systemd", "udev", "fonts-wqy-microhei"},
		// OpenBLAS answers libblas.so.3 about twice as fast as the reference
		// BLAS for dlib here (docs/BENCHMARKS.md).
		recommends: []string{"libopenblas0-pthread"},
		confDir:    "/etc/examkiosk",
		configs:    []string{"/etc/examkiosk/config.toml"},
		dataDir:    "/var/lib/examkiosk",
		reloadUdev: true,
		filesDir:   here,
	}
	p.contents = files.Contents{
		config(filepath.Join(o.repo, "build", "config.example.toml"), "/etc/examkiosk/config.toml"),
		file(filepath.Join(here, "examkiosk.service"), "/usr/lib/systemd/system/examkiosk.service", 0o644),
		file(filepath.Join(here, "70-examkiosk.rules"), "/usr/lib/udev/rules.d/70-examkiosk.rules", 0o644),
		file(filepath.Join(here, "examkiosk.sysusers"), "/usr/lib/sysusers.d/examkiosk.conf", 0o644),
		file(filepath.Join(here, "examkiosk.tmpfiles"), "/usr/lib/tmpfiles.d/examkiosk.conf", 0o644),
		file(filepath.Join(o.repo, "README.md"), "/usr/share/doc/examkiosk/README.md", 0o644),
	}
	// The face models named in the manifest, and the manifest itself: the
	// kiosk verifies every file against it at start.
	manifest := filepath.Join(o.models, "models.sha256")
	p.contents = append(p.contents, file(manifest, "/usr/share/examkiosk/models/models.sha256", 0o644))
	for _, name := range manifestFiles(manifest) {
		p.contents = append(p.contents, file(filepath.Join(o.models, name), "/usr/share/examkiosk/models/"+name, 0o644))
	}
	// ONNX Runtime, which the recognition, eye-state, PAD and segmentation
	// models run on; config.toml's face.onnxruntime_library names this path
	// and the kiosk checks the library's SHA-256 before loading it.
	p.contents = append(p.contents, file(filepath.Join(o.ort, ortLibrary), ortDest, 0o644))
	return p
}

func centralPkg(o opts, here string) pkg {
	return pkg{
		name: "examkiosk-central",
		description: "ExamKiosk central registration system\n" +
			" Receives the kiosks' signed registration batches, runs QR and account\n" +
			" logins, review and payment, and shows the fleet of kiosks with alerts.",
		binary: o.central, binDest: "/usr/bin/examkiosk-central",
		extraDepends: []string{"systemd"},
		recommends:   []string{"postgresql"},
		confDir:      "/etc/examkiosk-central",
		configs:      []string{"/etc/examkiosk-central/central.toml"},
		dataDir:      "/var/lib/examkiosk-central",
		filesDir:     here,
		contents: files.Contents{
			config(filepath.Join(here, "central.toml"), "/etc/examkiosk-central/central.toml"),
			file(filepath.Join(here, "examkiosk-central.service"), "/usr/lib/systemd/system/examkiosk-central.service", 0o644),
			file(filepath.Join(here, "examkiosk-central.sysusers"), "/usr/lib/sysusers.d/examkiosk-central.conf", 0o644),
			file(filepath.Join(here, "examkiosk-central.tmpfiles"), "/usr/lib/tmpfiles.d/examkiosk-central.conf", 0o644),
			file(filepath.Join(o.repo, "README.md"), "/usr/share/doc/examkiosk-central/README.md", 0o644),
		},
	}
}

func file(src, dst string, mode os.FileMode) *files.Content {
	return &files.Content{Source: src, Destination: dst, Type: files.TypeFile,
		FileInfo: &files.ContentFileInfo{Owner: "root", Group: "root", Mode: mode}}
}

// config is a conffile: dpkg keeps a locally changed copy on upgrade.
func config(src, dst string) *files.Content {
	return &files.Content{Source: src, Destination: dst, Type: files.TypeConfigNoReplace,
		FileInfo: &files.ContentFileInfo{Owner: "root", Group: "root", Mode: 0o640}}
}

// manifestFiles lists the file names in a models.sha256 manifest.
func manifestFiles(path string) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil // build reports the missing manifest as a missing source
	}
	defer f.Close()
	var names []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if fs := strings.Fields(line); len(fs) == 2 {
			names = append(names, fs[1])
		}
	}
	return names
}

// build writes the package into o.out and returns its path.
func (p pkg) build(o opts, tmp string) (string, error) {
	depends, err := shlibDepends(p.binary, tmp)
	if err != nil {
		return "", err
	}
	scripts, err := p.scripts(tmp)
	if err != nil {
		return "", err
	}
	contents := append(files.Contents{file(p.binary, p.binDest, 0o755)}, p.contents...)
	info := &nfpm.Info{
		Name:          p.name,
		Arch:          "amd64",
		Platform:      "linux",
		Version:       o.version,
		VersionSchema: "none",
		Section:       "misc",
		Priority:      "optional",
		Maintainer:    maintainer,
		Description:   p.description,
		Homepage:      "https://example.org/examkiosk",
		License:       "Proprietary",
		MTime:         time.Unix(sourceDateEpoch(), 0).UTC(),
		Overridables: nfpm.Overridables{
			Depends:    append(depends, p.extraDepends...),
			Recommends: p.recommends,
			Contents:   contents,
			Scripts:    scripts,
			Deb:        nfpm.Deb{Compression: o.compression},
		},
	}
	info = nfpm.WithDefaults(info)
	if err := nfpm.PrepareForPackager(info, "deb"); err != nil {
		return "", fmt.Errorf("prepare: %w", err)
	}
	packager, err := nfpm.Get("deb")
	if err != nil {
		return "", err
	}
	out := filepath.Join(o.out, packager.ConventionalFileName(info))
	f, err := os.Create(out + ".part")
	if err != nil {
		return "", err
	}
	if err := packager.Package(info, f); err != nil {
		f.Close()
		os.Remove(out + ".part")
		return "", fmt.Errorf("package: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	return out, os.Rename(out+".part", out)
}

// scripts renders the maintainer script templates for this package.
func (p pkg) scripts(tmp string) (nfpm.Scripts, error) {
	udev := ":"
	if p.reloadUdev {
		udev = "udevadm control --reload-rules >/dev/null 2>&1 || true"
	}
	r := strings.NewReplacer("@PKG@", p.name, "@DATADIR@", p.dataDir, "@CONFDIR@", p.confDir,
		"@CONFIGS@", strings.Join(p.configs, " "), "@RELOAD_UDEV@", udev)
	var s nfpm.Scripts
	for _, t := range []struct {
		name string
		dst  *string
	}{{"postinst", &s.PostInstall}, {"prerm", &s.PreRemove}, {"postrm", &s.PostRemove}} {
		src, err := os.ReadFile(filepath.Join(p.filesDir, t.name+".in"))
		if err != nil {
			return s, err
		}
		out := filepath.Join(tmp, p.name+"."+t.name)
		if err := os.WriteFile(out, []byte(r.Replace(string(src))), 0o755); err != nil {
			return s, err
		}
		*t.dst = out
	}
	return s, nil
}

var shlibsRE = regexp.MustCompile(`^shlibs:Depends=(.*)$`)

// shlibDepends asks dpkg-shlibdeps (dpkg-dev) which packages provide the
// shared libraries the binary links, at the versions it needs.
func shlibDepends(binary, tmp string) ([]string, error) {
	dir, err := os.MkdirTemp(tmp, "shlibs-")
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(dir, "debian"), 0o755); err != nil {
		return nil, err
	}
	control := "Source: examkiosk\n\nPackage: examkiosk\nArchitecture: amd64\n"
	if err := os.WriteFile(filepath.Join(dir, "debian", "control"), []byte(control), 0o644); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(binary)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("dpkg-shlibdeps", "-O", "-e"+abs)
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("dpkg-shlibdeps %s (apt install dpkg-dev): %w", binary, err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if m := shlibsRE.FindStringSubmatch(line); m != nil {
			var deps []string
			for _, d := range strings.Split(m[1], ",") {
				if d = strings.TrimSpace(d); d != "" {
					deps = append(deps, d)
				}
			}
			return deps, nil
		}
	}
	return nil, nil // a static binary needs no library
}

// sourceDateEpoch makes the package reproducible: $SOURCE_DATE_EPOCH, else
// the last commit's time is passed in by make; else now.
func sourceDateEpoch() int64 {
	var s int64
	if _, err := fmt.Sscan(os.Getenv("SOURCE_DATE_EPOCH"), &s); err == nil && s > 0 {
		return s
	}
	return time.Now().Unix()
}
