package main

import (
	"bufio"
	"debug/dwarf"
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// The packaged kiosk must run on any x86-64-v2 machine (SSE4.2, POPCNT).
// Two proofs: (1) no C or C++ function in the binary uses an instruction
// above that level (AVX, AVX2, AVX-512, FMA, BMI, LZCNT, MOVBE); the Go
// runtime's own assembly is left out, it chooses such code only after
// asking the CPU; (2) the same face code, built the same way, runs a real
// face comparison under QEMU emulating a Nehalem (2008) CPU, while the
// default -march=native build dies there with SIGILL (the negative control
// that shows the test can fail).

// aboveV2 matches mnemonics of instructions an x86-64-v2 CPU lacks.
var aboveV2 = regexp.MustCompile(`^(v[a-z0-9]+|andn|bextr|blsi|blsmsk|blsr|bzhi|lzcnt|tzcnt|mulx|pdep|pext|rorx|sarx|shlx|shrx|movbe|adcx|adox|k[a-z]+[bwdq])$`)

// notAbove are v-mnemonics that exist on every x86-64.
var notAbove = map[string]bool{"verr": true, "verw": true}

// cRanges returns the PC ranges of the binary's C and C++ compile units
// (cgo code), from its DWARF.
func cRanges(t *testing.T, bin string) [][2]uint64 {
	t.Helper()
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := f.DWARF()
	if err != nil {
		t.Fatalf("%s has no DWARF (built with -s -w?): %v", bin, err)
	}
	var out [][2]uint64
	r := d.Reader()
	for {
		e, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if e == nil {
			break
		}
		if e.Tag != dwarf.TagCompileUnit {
			continue
		}
		lang, _ := e.Val(dwarf.AttrLanguage).(int64)
		switch lang {
		case 0x16: // Go
		default: // C89/C99/C11/C++ of any edition
			rs, err := d.Ranges(e)
			if err == nil {
				for _, rg := range rs {
					out = append(out, [2]uint64{rg[0], rg[1]})
				}
			}
		}
		r.SkipChildren()
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// hostOnly lists the functions of bin's C/C++ code that use instructions
// above x86-64-v2, with a count each.
func hostOnly(t *testing.T, bin string) map[string]int {
	t.Helper()
	ranges := cRanges(t, bin)
	if len(ranges) == 0 {
		t.Fatalf("%s: no C/C++ compile units in its DWARF: cannot check the cgo code", bin)
	}
	in := func(pc uint64) bool {
		i := sort.Search(len(ranges), func(i int) bool { return ranges[i][1] > pc })
		return i < len(ranges) && ranges[i][0] <= pc
	}
	cmd := exec.Command("objdump", "-d", "--no-show-raw-insn", bin)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Skipf("objdump (binutils) is not available: %v", err)
	}
	found := map[string]int{}
	fn := ""
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasSuffix(line, ">:") {
			if i := strings.Index(line, " <"); i > 0 {
				fn = line[i+2 : len(line)-2]
			}
			continue
		}
		// "  4011d6:\tvmovdqu %ymm0,(%rax)"
		colon := strings.IndexByte(line, ':')
		if colon < 0 {
			continue
		}
		pc, err := strconv.ParseUint(strings.TrimSpace(line[:colon]), 16, 64)
		if err != nil {
			continue
		}
		fields := strings.Fields(line[colon+1:])
		if len(fields) == 0 {
			continue
		}
		m := fields[0]
		if aboveV2.MatchString(m) && !notAbove[m] && in(pc) {
			found[fn]++
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("objdump %s: %v", bin, err)
	}
	return found
}

func summary(found map[string]int) string {
	var b strings.Builder
	n := 0
	for f, c := range found {
		if n++; n > 5 {
			break
		}
		if len(f) > 100 {
			f = f[:100] + "…"
		}
		fmt.Fprintf(&b, "\n  %d in %s", c, f)
	}
	return b.String()
}

// TestNoHostOnlyInstructions inspects the kiosk binary as the package
// ships it (taken out of the .deb) and, where make package-test built it,
// the portable facecheck the emulated-CPU test runs.
//
// What is a requirement and what is not: the package's own machine code is
// the binary (Go and cgo); everything else it runs is a Debian library it
// depends on (libdlib, libblas/OpenBLAS, libjpeg, GTK, WebKitGTK), built
// for Debian's amd64 baseline, where OpenBLAS picks its AVX kernels from
// CPUID at run time, and the ONNX runtime library setup installs, whose
// MLAS kernels are chosen the same way. Dispatched code is no requirement;
// code compiled for the build host's CPU is, and only the cgo code can be
// (go-face's -march=native). The Go toolchain's own assembly (runtime,
// crypto, math) asks the CPU first too, so the DWARF compile units that are
// not Go are what is scanned. TestRunsOnAnOlderCPU is the deeper proof: it
// runs the face code, OpenBLAS and the ONNX runtime included, on an
// emulated Nehalem.
func TestNoHostOnlyInstructions(t *testing.T) {
	bins := []string{packagedKiosk(t)}
	if fc := filepath.Join(pkgDir(t), "facecheck"); fileExists(fc) {
		bins = append(bins, fc)
	}
	for _, bin := range bins {
		if found := hostOnly(t, bin); len(found) > 0 {
			t.Errorf("%s: %d C/C++ functions use instructions above x86-64-v2:%s", bin, len(found), summary(found))
		}
	}
	// The negative control: a default (-march=native) build of the same
	// code: make package-test's facecheck, or make test's bin/examkiosk.
	native := os.Getenv("EXAMKIOSK_NATIVE_FACECHECK")
	if native == "" {
		native = os.Getenv("EXAMKIOSK_NATIVE_BIN")
	}
	if native == "" {
		t.Skip("EXAMKIOSK_NATIVE_FACECHECK and EXAMKIOSK_NATIVE_BIN are not set: the negative control is skipped")
	}
	if !hostHasAVX() {
		t.Skip("this build host has no AVX: -march=native adds nothing above x86-64-v2 here")
	}
	if found := hostOnly(t, native); len(found) == 0 {
		t.Errorf("%s (built with -march=native on an AVX host) shows no AVX: the check sees nothing", native)
	} else {
		t.Logf("negative control: %s has %d C/C++ functions above x86-64-v2", native, len(found))
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// packagedKiosk returns the kiosk binary taken out of the examkiosk .deb.
func packagedKiosk(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	deb := findDeb(t, "examkiosk")
	tar := exec.Command("tar", "-x", "-C", dir, "./usr/bin/examkiosk")
	fsys := exec.Command("dpkg-deb", "--fsys-tarfile", deb)
	var err error
	if tar.Stdin, err = fsys.StdoutPipe(); err != nil {
		t.Fatal(err)
	}
	if err := fsys.Start(); err != nil {
		t.Fatalf("dpkg-deb --fsys-tarfile %s: %v", deb, err)
	}
	if out, err := tar.CombinedOutput(); err != nil {
		t.Fatalf("take usr/bin/examkiosk out of %s: %v\n%s", deb, err, out)
	}
	if err := fsys.Wait(); err != nil {
		t.Fatalf("dpkg-deb --fsys-tarfile %s: %v", deb, err)
	}
	return filepath.Join(dir, "usr", "bin", "examkiosk")
}

func hostHasAVX() bool {
	b, err := os.ReadFile("/proc/cpuinfo")
	return err == nil && regexp.MustCompile(`(?m)^flags\s*:.*\bavx\b`).Match(b)
}

// TestRunsOnAnOlderCPU runs a real face comparison with the portable face
// code under qemu-x86_64 emulating a Nehalem CPU (x86-64-v2, no AVX).
// OpenBLAS picks its kernels from CPUID, which QEMU's user mode does not
// fully emulate: OPENBLAS_CORETYPE=Nehalem makes it pick what it would on
// that CPU (Debian's OpenBLAS carries kernels for every x86-64 level).
func TestRunsOnAnOlderCPU(t *testing.T) {
	if _, err := exec.LookPath("qemu-x86_64"); err != nil {
		t.Skip("qemu-x86_64 is not installed (apt install qemu-user): the emulated older CPU is skipped")
	}
	faces := os.Getenv("EXAMKIOSK_FACES")
	a := filepath.Join(faces, "verify", "Barack_Obama", "Barack_Obama_0001.jpg")
	b := filepath.Join(faces, "verify", "Barack_Obama", "Barack_Obama_0002.jpg")
	if _, err := os.Stat(a); err != nil {
		t.Skipf("face photos are absent (%v): set EXAMKIOSK_FACES to ../shared/faces", err)
	}
	models := os.Getenv("EXAMKIOSK_MODELS")
	run := func(bin string) (string, error) {
		cmd := exec.Command("qemu-x86_64", "-cpu", "Nehalem-v1", bin, "compare", a, b)
		cmd.Env = append(os.Environ(), "OPENBLAS_CORETYPE=Nehalem", "OPENBLAS_NUM_THREADS=1")
		if models != "" {
			cmd.Env = append(cmd.Env, "EXAMKIOSK_MODELS="+models)
		}
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run(filepath.Join(pkgDir(t), "facecheck"))
	if err != nil || !strings.Contains(out, `"match": true`) {
		t.Fatalf("portable build on an emulated Nehalem: %v\n%s", err, out)
	}
	native := os.Getenv("EXAMKIOSK_NATIVE_FACECHECK")
	if native == "" || !hostHasAVX() {
		t.Skip("no negative control (EXAMKIOSK_NATIVE_FACECHECK unset or no AVX on this host)")
	}
	out, err = run(native)
	if err == nil || !strings.Contains(out, "SIGILL") {
		t.Errorf("the -march=native build should die with SIGILL on the emulated Nehalem; got %v\n%.500s", err, out)
	}
}

func pkgDir(t *testing.T) string {
	d := os.Getenv("EXAMKIOSK_PKG_DIR")
	if d == "" {
		t.Skip("EXAMKIOSK_PKG_DIR is not set: run make package-test")
	}
	return d
}
