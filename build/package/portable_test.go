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

func TestNoHostOnlyInstructions(t *testing.T) {
	bins := []string{filepath.Join(pkgDir(t), "examkiosk"), filepath.Join(pkgDir(t), "facecheck")}
	for _, bin := range bins {
		if _, err := os.Stat(bin); err != nil {
			t.Fatalf("%s: %v (make package-test builds it)", bin, err)
		}
		if found := hostOnly(t, bin); len(found) > 0 {
			t.Errorf("%s: %d C/C++ functions use instructions above x86-64-v2:%s", bin, len(found), summary(found))
		}
	}
	// The negative control: the default build of the same code.
	native := os.Getenv("EXAMKIOSK_NATIVE_FACECHECK")
	if native == "" {
		t.Skip("EXAMKIOSK_NATIVE_FACECHECK is not set: the negative control is skipped")
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
