package testbed

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// BuildCentral builds the central's binary (cmd/central) into a temporary
// folder of tb and returns its path, for tests that run `central serve` as
// real processes (the build cache makes a second build a link).
func BuildCentral(tb testing.TB) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "central")
	out, err := exec.Command("go", "build", "-o", bin, "examkiosk/cmd/central").CombinedOutput()
	if err != nil {
		tb.Fatalf("go build cmd/central: %v\n%s", err, out)
	}
	return bin
}

// Node is one `central serve` process on a fixed loopback address, which
// survives being killed and started again.
type Node struct {
	Addr string // 127.0.0.1:port
	URL  string // http://Addr

	bin  string
	args []string
	logf string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// StartNode starts `bin serve --addr <a free loopback port> args...`,
// waits until it answers /healthz, and kills it when tb ends. Its output
// goes to a log file (Node.Log).
func StartNode(tb testing.TB, bin string, args ...string) *Node {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	n := &Node{Addr: addr, URL: "http://" + addr, bin: bin, args: append([]string{"serve", "--addr", addr}, args...),
		logf: filepath.Join(tb.TempDir(), "central-"+strings.ReplaceAll(addr, ":", "_")+".log")}
	tb.Cleanup(func() { n.Kill() })
	if err := n.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return n
}

// Start starts the process (again) and waits up to 30 s for /healthz.
func (n *Node) Start(ctx context.Context) error {
	n.mu.Lock()
	if n.cmd != nil {
		n.mu.Unlock()
		return fmt.Errorf("central %s is running", n.Addr)
	}
	logf, err := os.OpenFile(n.logf, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		n.mu.Unlock()
		return err
	}
	cmd := exec.Command(n.bin, n.args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Killed with the test binary too, even when its clean-up never runs.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		n.mu.Unlock()
		return fmt.Errorf("start central %s: %w", n.Addr, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(done) }()
	n.cmd, n.done = cmd, done
	n.mu.Unlock()

	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	hc := &http.Client{Timeout: time.Second}
	for {
		if resp, err := hc.Get(n.URL + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-done:
			return fmt.Errorf("central %s exited at start: %s", n.Addr, n.Log(20))
		case <-ctx.Done():
			return fmt.Errorf("central %s not healthy: %w; %s", n.Addr, ctx.Err(), n.Log(20))
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Kill ends the process with SIGKILL, as a crash or the OOM killer would,
// and waits for it. Killing a node that is not running does nothing.
func (n *Node) Kill() error {
	n.mu.Lock()
	cmd, done := n.cmd, n.done
	n.cmd, n.done = nil, nil
	n.mu.Unlock()
	if cmd == nil {
		return nil
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill central %s: %w", n.Addr, err)
	}
	<-done
	return nil
}

// Log returns the last lines of the node's output.
func (n *Node) Log(lines int) string {
	data, _ := os.ReadFile(n.logf)
	ls := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(ls) > lines {
		ls = ls[len(ls)-lines:]
	}
	return strings.Join(ls, "\n")
}

// EnrolmentCode asks the node for a one-time enrolment code of a centre
// through the admin API (POST /admin/enrolment-codes with the admin token),
// as the central's staff would.
func (n *Node) EnrolmentCode(ctx context.Context, adminToken, centre string) (string, error) {
	body, _ := json.Marshal(map[string]string{"centre_id": centre})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.URL+"/admin/enrolment-codes", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("enrolment code from %s: %w", n.Addr, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var out struct {
		Code string `json:"code"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(data, &out) != nil || out.Code == "" {
		return "", fmt.Errorf("enrolment code from %s: %d %s", n.Addr, resp.StatusCode, data)
	}
	return out.Code, nil
}
