package store

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

// writer is a child test process that submits registrations and prints one
// line per event: "ready" once the store is open, "id <uuid>" after each
// Submit returned, "<what>-error ..." when something failed. The crash and
// power-cut tests read it to know what was acknowledged before they cut.
type writer struct {
	cmd   *exec.Cmd
	ready chan struct{} // closed at "ready"
	done  chan struct{} // closed when the output ends

	mu    sync.Mutex
	ids   []string
	fatal string
	onID  func(n int) // called (under mu) with the count after each id
}

// startWriter runs the test named run of this binary as a writer, with env
// added to its environment. onID may be nil.
func startWriter(t *testing.T, run string, env string, onID func(n int)) *writer {
	t.Helper()
	w := &writer{ready: make(chan struct{}), done: make(chan struct{}), onID: onID}
	w.cmd = exec.Command(os.Args[0], "-test.run=^"+run+"$", "-test.count=1")
	w.cmd.Env = append(os.Environ(), env)
	w.cmd.Stderr = os.Stderr
	out, err := w.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(w.done)
		sc := bufio.NewScanner(out)
		for sc.Scan() { // only complete lines: an id is printed after Submit returned
			line := sc.Text()
			w.mu.Lock()
			switch {
			case line == "ready":
				close(w.ready)
			case strings.HasPrefix(line, "id ") && len(line) == 3+36:
				w.ids = append(w.ids, line[3:])
				if w.onID != nil {
					w.onID(len(w.ids))
				}
			case strings.HasSuffix(strings.Fields(line + " x")[0], "-error"):
				w.fatal = line
			}
			w.mu.Unlock()
		}
	}()
	return w
}

// acked returns the ids acknowledged so far and the failure, if any.
func (w *writer) acked() ([]string, string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.ids...), w.fatal
}
