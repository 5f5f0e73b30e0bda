package printer

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// Local is a private CUPS scheduler: its own cupsd in a folder of its own
// (configuration, spool, logs, a Unix socket; no systemd, no system queue
// touched) with one cups-pdf queue that "prints" PDFs into Out. The
// embedded demo prints on it where a kiosk has a real printer, and the
// tests read back what it printed.
type Local struct {
	Socket string // the scheduler's socket (Config.Server)
	Queue  string // the cups-pdf queue (Config.Queue)
	Out    string // where cups-pdf writes the printed PDFs
	dir    string
	conf   string // cups-pdf's per-queue configuration in /etc/cups
	cmd    *exec.Cmd
	exited chan struct{}
	stderr bytes.Buffer
}

// cups-pdf reads its configuration from this fixed folder, per queue as
// cups-pdf-<queue>.conf.
const cupsPDFConfDir = "/etc/cups"

// CUPSPDFBackend is the cups-pdf backend StartLocal needs.
const CUPSPDFBackend = "/usr/lib/cups/backend/cups-pdf"

// LocalMissing names what StartLocal needs and this machine lacks ("" when
// nothing): the CUPS binaries, cups-pdf, Ghostscript, and root (CUPS runs
// cups-pdf as root).
func LocalMissing() string {
	var missing []string
	for _, b := range []string{"cupsd", "lpadmin", "lp", "lpstat", "gs"} {
		if _, err := exec.LookPath(b); err != nil {
			missing = append(missing, b)
		}
	}
	if _, err := os.Stat(CUPSPDFBackend); err != nil {
		missing = append(missing, CUPSPDFBackend)
	}
	if os.Geteuid() != 0 {
		missing = append(missing, "root (CUPS runs cups-pdf as root)")
	}
	return strings.Join(missing, ", ")
}

// StartLocal starts a private cupsd and adds the cups-pdf queue named
// queue, which writes what it prints into out (created). The scheduler's own
// files (configuration, spool, logs, socket) live in a temporary folder
// that CUPS' filters, which run as the lp user, can reach (out may be under
// a private home: cups-pdf writes as root). Close stops it and removes them.
func StartLocal(out, queue string) (*Local, error) {
	if m := LocalMissing(); m != "" {
		return nil, fmt.Errorf("local printer: missing %s (build/setup.sh deps installs cups and printer-driver-cups-pdf)", m)
	}
	if !queueRE.MatchString(queue) {
		return nil, fmt.Errorf("local printer: bad queue name %q", queue)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, fmt.Errorf("local printer: %w", err)
	}
	removeStale()
	dir, err := os.MkdirTemp("", "examkiosk-cupsd-")
	if err != nil {
		return nil, fmt.Errorf("local printer: %w", err)
	}
	l := &Local{Socket: filepath.Join(dir, "cups.sock"), Queue: queue, Out: out, dir: dir,
		conf: filepath.Join(cupsPDFConfDir, "cups-pdf-"+queue+".conf")}
	for _, d := range []string{"spool", "spool/tmp", "cache", "state", "log", "ppd"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("local printer: %w", err)
		}
	}
	os.Chmod(dir, 0o755)
	os.Chmod(filepath.Join(dir, "spool"), 0o710)
	os.Chmod(l.Out, 0o777)
	os.Remove(l.Socket)
	files := map[string]string{
		"cupsd.conf": fmt.Sprintf(`Listen %s
LogLevel warn
Browsing No
DefaultAuthType None
WebInterface No
PreserveJobHistory Yes
<Location />
  Order allow,deny
  Allow all
</Location>
<Policy default>
  <Limit All>
    Order deny,allow
  </Limit>
</Policy>
`, l.Socket),
		"cups-files.conf": fmt.Sprintf(`ServerRoot %[1]s
RequestRoot %[1]s/spool
TempDir %[1]s/spool/tmp
CacheDir %[1]s/cache
StateDir %[1]s/state
AccessLog %[1]s/log/access_log
ErrorLog %[1]s/log/error_log
PageLog %[1]s/log/page_log
Sandboxing Relaxed
`, dir),
	}
	fail := func(err error) (*Local, error) {
		os.Remove(l.conf)
		os.RemoveAll(dir)
		return nil, fmt.Errorf("local printer: %w", err)
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			return fail(err)
		}
	}
	if err := os.WriteFile(l.conf, fmt.Appendf(nil, "Out %s\nAnonDirName %s\nLog %s/log\nGrp root\n", l.Out, l.Out, dir), 0o644); err != nil {
		return fail(err)
	}
	l.cmd = exec.Command("cupsd", "-f", "-c", filepath.Join(dir, "cupsd.conf"), "-s", filepath.Join(dir, "cups-files.conf"))
	l.cmd.Env = append(os.Environ(), "CUPS_SERVERROOT="+dir)
	l.cmd.Stdout, l.cmd.Stderr = &l.stderr, &l.stderr
	// The scheduler ends with the process that started it, however that ends.
	l.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := l.cmd.Start(); err != nil {
		return fail(fmt.Errorf("start cupsd: %w", err))
	}
	l.exited = make(chan struct{})
	go func() { l.cmd.Wait(); close(l.exited) }()
	// Ready when the scheduler accepts a connection on its socket: the
	// socket file exists a moment before cupsd listens on it, and an
	// lpadmin in that moment fails ("Unable to connect to server"; seen
	// under load in make test).
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, err := net.Dial("unix", l.Socket); err == nil {
			c.Close()
			break
		}
		select {
		case <-l.exited:
			return fail(fmt.Errorf("cupsd exited: %s %s", l.stderr.String(), l.ErrorLog()))
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			l.Close()
			return nil, errors.New("local printer: cupsd did not start in 10s")
		}
	}
	// PDFs reach cups-pdf as PostScript; Cairo's conversion keeps more of
	// the text extractable than Ghostscript's (Debian's README of cups-pdf
	// suggests it too).
	add := exec.Command("lpadmin", "-p", queue, "-E", "-v", "cups-pdf:/"+queue, "-P", "/usr/share/ppd/cups-pdf/CUPS-PDF_opt.ppd",
		"-o", "pdftops-renderer-default=pdftocairo")
	add.Env = append(os.Environ(), "CUPS_SERVER="+l.Socket)
	if out, err := add.CombinedOutput(); err != nil {
		state := "running"
		select {
		case <-l.exited:
			state = fmt.Sprintf("exited (%s; %s)", l.cmd.ProcessState, bytes.TrimSpace(l.stderr.Bytes()))
		default:
		}
		log := l.ErrorLog()
		l.Close()
		return nil, fmt.Errorf("local printer: lpadmin: %w: %s (cupsd %s; its log: %s)", err, bytes.TrimSpace(out), state, log)
	}
	return l, nil
}

// Config is the printer config of this scheduler's queue.
func (l *Local) Config() Config {
	c := DefaultConfig()
	c.Queue, c.Server = l.Queue, l.Socket
	return c
}

// ErrorLog returns cupsd's error log.
func (l *Local) ErrorLog() string {
	b, _ := os.ReadFile(filepath.Join(l.dir, "log", "error_log"))
	return string(b)
}

// Close stops cupsd and removes its files and cups-pdf's configuration of
// the queue (what was printed stays in Out).
func (l *Local) Close() error {
	defer os.RemoveAll(l.dir)
	defer os.Remove(l.conf)
	if l.cmd == nil || l.cmd.Process == nil {
		return nil
	}
	l.cmd.Process.Signal(os.Interrupt)
	select {
	case <-l.exited:
	case <-time.After(5 * time.Second):
		l.cmd.Process.Kill()
		<-l.exited
	}
	return nil
}

// staleRE matches the cups-pdf configurations of the queues this package
// names for the demo and the tests: examkiosk-<use>-<pid>[-<n>].
var staleRE = regexp.MustCompile(`^cups-pdf-examkiosk-(?:demo|test)-(\d+)(?:-\d+)?\.conf$`)

// removeStale removes the cups-pdf configurations left by processes that
// ended without Close (killed): the queue died with their cupsd.
func removeStale() {
	ents, err := os.ReadDir(cupsPDFConfDir)
	if err != nil {
		return
	}
	for _, e := range ents {
		m := staleRE.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		if _, err := os.Stat("/proc/" + m[1]); errors.Is(err, fs.ErrNotExist) {
			os.Remove(filepath.Join(cupsPDFConfDir, e.Name()))
		}
	}
}
