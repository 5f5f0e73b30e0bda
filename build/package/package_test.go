package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// The packages are checked the way a kiosk box receives them: dpkg installs
// them into a throwaway root (dpkg --root, maintainer scripts run
// chrootless with $DPKG_ROOT, dependencies not installed there), then the
// test looks at the files, modes, owners, conffiles, the system user, an
// upgrade, a purge, the units (systemd-analyze verify) and finally starts
// the installed binary under Xvfb (test/window).

func findDeb(t *testing.T, name string) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(pkgDir(t), name+"_*_amd64.deb"))
	if len(m) != 1 {
		t.Fatalf("want one %s_*_amd64.deb in %s, found %v (make package)", name, pkgDir(t), m)
	}
	return m[0]
}

func mustRun(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// newRoot makes an empty root that dpkg can install into.
func newRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for _, d := range []string{"var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers", "etc", "usr/bin", "usr/lib", "var/log"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"var/lib/dpkg/status", "var/lib/dpkg/available"} {
		os.WriteFile(filepath.Join(root, f), nil, 0o644)
	}
	os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("root:x:0:0:root:/root:/bin/sh\n"), 0o644)
	os.WriteFile(filepath.Join(root, "etc/group"), []byte("root:x:0:\n"), 0o644)
	return root
}

func dpkg(t *testing.T, root string, env []string, args ...string) string {
	t.Helper()
	base := []string{"--root=" + root, "--force-script-chrootless", "--force-depends", "--log=" + filepath.Join(root, "var/log/dpkg.log")}
	return mustRun(t, env, "dpkg", append(base, args...)...)
}

// entry is one line of dpkg-deb --contents.
type entry struct {
	mode  string // e.g. -rwxr-xr-x
	owner string // root/root
}

func contents(t *testing.T, deb string) map[string]entry {
	out := mustRun(t, nil, "dpkg-deb", "--contents", deb)
	m := map[string]entry{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 6 {
			continue
		}
		m[strings.TrimPrefix(f[5], ".")] = entry{mode: f[0], owner: f[1]}
	}
	return m
}

func field(t *testing.T, deb, name string) string {
	return strings.TrimSpace(mustRun(t, nil, "dpkg-deb", "--field", deb, name))
}

// ids returns the uid and gid of name in root's passwd.
func ids(t *testing.T, root, name string) (int, int) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "etc/passwd"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Split(line, ":")
		if len(f) >= 7 && f[0] == name {
			uid, _ := strconv.Atoi(f[2])
			gid, _ := strconv.Atoi(f[3])
			return uid, gid
		}
	}
	t.Fatalf("no user %s in %s/etc/passwd:\n%s", name, root, b)
	return 0, 0
}

func stat(t *testing.T, path string) (os.FileMode, int, int) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	return fi.Mode(), int(st.Uid), int(st.Gid)
}

func TestKioskPackage(t *testing.T) {
	deb := findDeb(t, "examkiosk")
	files := contents(t, deb)
	want := map[string]string{
		"/usr/bin/examkiosk":                        "-rwxr-xr-x",
		"/etc/examkiosk/config.toml":                "-rw-r-----",
		"/usr/lib/systemd/system/examkiosk.service": "-rw-r--r--",
		"/usr/lib/udev/rules.d/70-examkiosk.rules":  "-rw-r--r--",
		"/usr/lib/sysusers.d/examkiosk.conf":        "-rw-r--r--",
		"/usr/lib/tmpfiles.d/examkiosk.conf":        "-rw-r--r--",
		"/usr/share/examkiosk/models/models.sha256": "-rw-r--r--",
		"/usr/share/doc/examkiosk/README.md":        "-rw-r--r--",
		"/usr/lib/examkiosk/libonnxruntime.so.1":    "-rw-r--r--",
	}
	manifest, err := os.ReadFile(filepath.Join(os.Getenv("EXAMKIOSK_REPO"), "build", "models.sha256"))
	if err != nil {
		t.Fatalf("read build/models.sha256 (EXAMKIOSK_REPO): %v", err)
	}
	for _, line := range strings.Split(string(manifest), "\n") {
		if f := strings.Fields(line); len(f) == 2 && !strings.HasPrefix(f[0], "#") {
			want["/usr/share/examkiosk/models/"+f[1]] = "-rw-r--r--"
		}
	}
	for path, mode := range want {
		e, ok := files[path]
		switch {
		case !ok:
			t.Errorf("%s is not in the package", path)
		case e.mode != mode || e.owner != "root/root":
			t.Errorf("%s: %s %s, want %s root/root", path, e.mode, e.owner, mode)
		}
	}
	// The shipped config names the shipped runtime: the kiosk's default
	// (the data home, where build/setup.sh installs it) is empty on a kiosk box.
	conf, err := os.ReadFile(filepath.Join(os.Getenv("EXAMKIOSK_REPO"), "build", "config.example.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^onnxruntime_library = "/usr/lib/examkiosk/libonnxruntime\.so\.1"`).Match(conf) {
		t.Errorf("build/config.example.toml (the package's /etc/examkiosk/config.toml) does not set face.onnxruntime_library to the shipped library")
	}
	for path := range files {
		if strings.HasPrefix(path, "/var/lib/examkiosk") {
			t.Errorf("%s: the data directory is made by tmpfiles.d, never shipped (an upgrade must not touch it)", path)
		}
	}
	deps := field(t, deb, "Depends")
	for _, d := range []string{"cage", "libdlib", "libwebkit2gtk-4.0-37", "libgtk-3-0", "libc6"} {
		if !strings.Contains(deps, d) {
			t.Errorf("Depends lacks %s: %s", d, deps)
		}
	}
	control := t.TempDir()
	mustRun(t, nil, "dpkg-deb", "--control", deb, control)
	conffiles, _ := os.ReadFile(filepath.Join(control, "conffiles"))
	if strings.TrimSpace(string(conffiles)) != "/etc/examkiosk/config.toml" {
		t.Errorf("conffiles = %q, want /etc/examkiosk/config.toml", conffiles)
	}
	for _, s := range []string{"postinst", "prerm", "postrm"} {
		fi, err := os.Stat(filepath.Join(control, s))
		if err != nil || fi.Mode().Perm() != 0o755 {
			t.Errorf("maintainer script %s: %v %v", s, fi, err)
			continue
		}
		if out, err := exec.Command("sh", "-n", filepath.Join(control, s)).CombinedOutput(); err != nil {
			t.Errorf("%s: syntax: %v %s", s, err, out)
		}
		if b, _ := os.ReadFile(filepath.Join(control, s)); bytes.Contains(b, []byte("@")) {
			t.Errorf("%s has an unreplaced template variable:\n%s", s, b)
		}
	}

	// Install into a throwaway root.
	root := newRoot(t)
	dpkg(t, root, nil, "--install", deb)
	uid, gid := ids(t, root, "examkiosk")
	if uid == 0 || uid >= 1000 {
		t.Errorf("examkiosk uid %d: want a system user", uid)
	}
	group, _ := os.ReadFile(filepath.Join(root, "etc/group"))
	if !regexp.MustCompile(`(?m)^video:x:\d+:.*\bexamkiosk\b`).Match(group) {
		t.Errorf("examkiosk is not in group video (the webcam):\n%s", group)
	}
	if mode, u, g := stat(t, filepath.Join(root, "var/lib/examkiosk")); mode.Perm() != 0o700 || !mode.IsDir() || u != uid || g != gid {
		t.Errorf("/var/lib/examkiosk: %v %d:%d, want drwx------ %d:%d", mode, u, g, uid, gid)
	}
	cfg := filepath.Join(root, "etc/examkiosk/config.toml")
	if mode, u, g := stat(t, cfg); mode.Perm() != 0o640 || u != 0 || g != gid {
		t.Errorf("config.toml: %v %d:%d, want -rw-r----- root:examkiosk(%d)", mode, u, g, gid)
	}
	if mode, _, g := stat(t, filepath.Join(root, "etc/examkiosk")); mode.Perm() != 0o750 || g != gid {
		t.Errorf("/etc/examkiosk: %v group %d, want drwxr-x--- root:examkiosk", mode, g)
	}

	// Upgrade to a newer version (the same package with a higher version,
	// repacked): the centre's config, its data and keys stay.
	local := "# this centre's settings\n[centre]\nname = \"本地考点\"\n"
	os.WriteFile(cfg, []byte(local), 0o640)
	data := filepath.Join(root, "var/lib/examkiosk/kiosk.db")
	os.WriteFile(data, []byte("registrations"), 0o600)
	os.WriteFile(data+".key", []byte("data key"), 0o600)
	newer := repackNewer(t, deb)
	out := dpkg(t, root, nil, "--install", newer)
	if !strings.Contains(out, "Preparing to unpack") || !strings.Contains(mustRun(t, nil, "dpkg-query", "--admindir="+filepath.Join(root, "var/lib/dpkg"), "-W", "examkiosk"), "+upgrade") {
		t.Errorf("the newer package was not installed:\n%s", out)
	}
	if b, _ := os.ReadFile(cfg); string(b) != local {
		t.Errorf("upgrade replaced the centre's config:\n%s", b)
	}
	for _, f := range []string{data, data + ".key"} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("upgrade lost %s: %v", f, err)
		}
	}

	// Purge removes the config but keeps data unless asked.
	out = dpkg(t, root, nil, "--purge", "examkiosk")
	if _, err := os.Stat(cfg); !os.IsNotExist(err) {
		t.Errorf("purge left the config: %v", err)
	}
	if _, err := os.Stat(data + ".key"); err != nil {
		t.Errorf("purge without EXAMKIOSK_PURGE_DATA=yes removed the data: %v", err)
	}
	if !strings.Contains(out, "kept /var/lib/examkiosk") {
		t.Errorf("purge does not say it kept the data:\n%s", out)
	}
	dpkg(t, root, nil, "--install", deb)
	dpkg(t, root, []string{"EXAMKIOSK_PURGE_DATA=yes"}, "--purge", "examkiosk")
	if _, err := os.Stat(filepath.Join(root, "var/lib/examkiosk")); !os.IsNotExist(err) {
		t.Errorf("purge with EXAMKIOSK_PURGE_DATA=yes kept the data: %v", err)
	}
}

func TestCentralPackage(t *testing.T) {
	deb := findDeb(t, "examkiosk-central")
	files := contents(t, deb)
	for path, mode := range map[string]string{
		"/usr/bin/examkiosk-central":                        "-rwxr-xr-x",
		"/etc/examkiosk-central/central.toml":               "-rw-r-----",
		"/usr/lib/systemd/system/examkiosk-central.service": "-rw-r--r--",
		"/usr/lib/sysusers.d/examkiosk-central.conf":        "-rw-r--r--",
		"/usr/lib/tmpfiles.d/examkiosk-central.conf":        "-rw-r--r--",
	} {
		if e, ok := files[path]; !ok || e.mode != mode {
			t.Errorf("%s: %+v (present %v), want %s", path, e, ok, mode)
		}
	}
	if r := field(t, deb, "Recommends"); !strings.Contains(r, "postgresql") {
		t.Errorf("Recommends = %q, want postgresql", r)
	}
	if d := field(t, deb, "Depends"); strings.Contains(d, "gtk") || strings.Contains(d, "dlib") {
		t.Errorf("the central needs no GUI or face libraries: Depends = %s", d)
	}
	root := newRoot(t)
	dpkg(t, root, nil, "--install", deb)
	uid, gid := ids(t, root, "examkiosk-central")
	if mode, u, g := stat(t, filepath.Join(root, "var/lib/examkiosk-central")); mode.Perm() != 0o700 || u != uid || g != gid {
		t.Errorf("/var/lib/examkiosk-central: %v %d:%d", mode, u, g)
	}
	// The installed central reads its packaged config.
	out, err := exec.Command(filepath.Join(root, "usr/bin/examkiosk-central"), "help").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "central serve") {
		t.Errorf("installed central: %v\n%s", err, out)
	}
}

// TestUnitsVerify runs systemd-analyze verify on both units inside a root
// where both packages are installed (ExecStart's programs must exist).
func TestUnitsVerify(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze is not installed")
	}
	root := newRoot(t)
	// The host's own units (sysinit.target, getty@.service, …) that ours
	// are ordered against.
	mustRun(t, nil, "cp", "-a", "/usr/lib/systemd", filepath.Join(root, "usr/lib/"))
	dpkg(t, root, nil, "--install", findDeb(t, "examkiosk"), findDeb(t, "examkiosk-central"))
	// cage is a dependency, not installed in the throwaway root: the host's.
	cage, err := exec.LookPath("cage")
	if err != nil {
		t.Skip("cage is not installed on this host (apt install cage): ExecStart cannot be checked")
	}
	b, _ := os.ReadFile(cage)
	os.WriteFile(filepath.Join(root, "usr/bin/cage"), b, 0o755)
	for _, u := range []string{"examkiosk.service", "examkiosk-central.service"} {
		cmd := exec.Command("systemd-analyze", "verify", "--root="+root, "--man=no", filepath.Join(root, "usr/lib/systemd/system", u))
		out, err := cmd.CombinedOutput()
		// verify also reports problems of units the host pulls in
		// (After=/Wants= names); only lines naming ours count.
		var ours []string
		for _, line := range strings.Split(string(out), "\n") {
			if strings.Contains(line, "examkiosk") {
				ours = append(ours, line)
			}
		}
		if len(ours) > 0 {
			t.Errorf("systemd-analyze verify %s (%v):\n%s", u, err, strings.Join(ours, "\n"))
		} else if err != nil {
			t.Logf("systemd-analyze verify %s: %v (nothing about our unit):\n%s", u, err, out)
		}
	}
}

// TestInstalledKioskRenders starts the installed binary with the installed
// models under Xvfb: the window smoke test (test/window) with
// EXAMKIOSK_BIN and EXAMKIOSK_MODELS pointing into the unpacked package.
func TestInstalledKioskRenders(t *testing.T) {
	if _, err := exec.LookPath("Xvfb"); err != nil {
		t.Skip("Xvfb is not installed")
	}
	repo := os.Getenv("EXAMKIOSK_REPO")
	if repo == "" {
		t.Skip("EXAMKIOSK_REPO is not set: run make package-test")
	}
	root := t.TempDir()
	mustRun(t, nil, "dpkg-deb", "--extract", findDeb(t, "examkiosk"), root)
	cmd := exec.Command("go", "test", "-count=1", "-v", "-run", "TestWelcomeWindowRenders", "./test/window")
	cmd.Dir = repo
	cmd.Env = append(os.Environ(), "EXAMKIOSK_BIN="+filepath.Join(root, "usr/bin/examkiosk"),
		"EXAMKIOSK_MODELS="+filepath.Join(root, "usr/share/examkiosk/models"),
		// The packaged ONNX Runtime, not the developer's (ort.Init checks its SHA-256).
		"EXAMKIOSK_ORT_DIR="+filepath.Join(root, "usr/lib/examkiosk"))
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestWelcomeWindowRenders") {
		t.Fatalf("the installed kiosk under Xvfb: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}

// repackNewer returns deb with "+upgrade" appended to its version.
func repackNewer(t *testing.T, deb string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tree")
	mustRun(t, nil, "dpkg-deb", "--raw-extract", deb, dir)
	control := filepath.Join(dir, "DEBIAN", "control")
	b, err := os.ReadFile(control)
	if err != nil {
		t.Fatal(err)
	}
	b = regexp.MustCompile(`(?m)^Version: (.*)$`).ReplaceAll(b, []byte("Version: $1+upgrade"))
	os.WriteFile(control, b, 0o644)
	out := filepath.Join(t.TempDir(), "newer.deb")
	mustRun(t, nil, "dpkg-deb", "--root-owner-group", "-Znone", "--build", dir, out)
	return out
}
