// Package pgtest starts a throwaway PostgreSQL cluster for tests: initdb in a
// temporary folder, the server on its own port with its socket in that
// folder, stopped and removed when the test ends. PostgreSQL refuses to run
// as root, so when the tests run as root the cluster belongs to the
// unprivileged "postgres" user (created by Debian's postgresql package).
//
// A test that needs PostgreSQL skips with a clear message when the server
// binaries are absent, except under CI (CI=true), where their absence is a
// failure: build/setup.sh installs them.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Cluster is a running throwaway PostgreSQL server.
type Cluster struct {
	Dir   string // data and socket folder
	Port  int
	User  string // the database superuser (the OS user running the server)
	bin   string
	runAs *user.User // nil: the current user
	logf  string
}

// BinDir finds the PostgreSQL server binaries (initdb, pg_ctl, postgres):
// $EXAMKIOSK_PG_BIN, else the newest /usr/lib/postgresql/*/bin.
func BinDir() (string, error) {
	if d := os.Getenv("EXAMKIOSK_PG_BIN"); d != "" {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err != nil {
			return "", fmt.Errorf("EXAMKIOSK_PG_BIN=%s: %w", d, err)
		}
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionOf(dirs[i]) > versionOf(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("no PostgreSQL server binaries in /usr/lib/postgresql/*/bin (Debian package postgresql; build/setup.sh deps installs it)")
}

func versionOf(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// Start makes and starts a cluster for t and stops it when t ends.
func Start(t testing.TB) *Cluster {
	t.Helper()
	bin, err := BinDir()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL is required in CI: %v", err)
		}
		t.Skipf("skipping PostgreSQL test: %v", err)
	}
	c, err := StartCluster(context.Background(), bin)
	if err != nil {
		t.Fatalf("start PostgreSQL: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("stop PostgreSQL: %v", err)
		}
	})
	return c
}

// StartCluster makes a new cluster with the binaries in bin and starts it.
// The caller must Stop it.
func StartCluster(ctx context.Context, bin string) (*Cluster, error) {
	c := &Cluster{bin: bin}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root and no unprivileged postgres user to run the server as: %w", err)
		}
		c.runAs = u
		c.User = "postgres"
	} else {
		u, err := user.Current()
		if err != nil {
			return nil, err
		}
		c.User = u.Username
	}
	dir, err := os.MkdirTemp("", "examkiosk-pg-")
	if err != nil {
		return nil, err
	}
	c.Dir = dir
	if c.runAs != nil {
		uid, _ := strconv.Atoi(c.runAs.Uid)
		gid, _ := strconv.Atoi(c.runAs.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("chown %s: %w", dir, err)
		}
	}
	c.logf = filepath.Join(dir, "server.log")
	data := filepath.Join(dir, "data")
	if out, err := c.run(ctx, "initdb", "-D", data, "-U", c.User, "-A", "trust", "-E", "UTF8", "--no-sync", "--no-instructions"); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v: %s", err, out)
	}
	for attempt := 0; attempt < 5; attempt++ {
		port, err := freePort()
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		c.Port = port
		opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=200", port, dir)
		out, err := c.run(ctx, "pg_ctl", "-D", data, "-l", c.logf, "-o", opts, "-w", "-t", "60", "start")
		if err == nil {
			return c, nil
		}
		log, _ := os.ReadFile(c.logf)
		if !strings.Contains(string(log), "could not bind") {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("pg_ctl start: %v: %s\n%s", err, out, log)
		}
	}
	os.RemoveAll(dir)
	return nil, errors.New("pg_ctl start: no free port after 5 tries")
}

// DSN is a connection string for database db (postgres when empty) over TCP.
func (c *Cluster) DSN(db string) string {
	if db == "" {
		db = "postgres"
	}
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", c.User, c.Port, db)
}

// Restart stops the server (fast shutdown) and starts it again on the same
// port: what a database restart in the middle of work looks like to clients.
func (c *Cluster) Restart(ctx context.Context) error {
	data := filepath.Join(c.Dir, "data")
	if out, err := c.run(ctx, "pg_ctl", "-D", data, "-m", "fast", "-w", "stop"); err != nil {
		return fmt.Errorf("pg_ctl stop: %v: %s", err, out)
	}
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=200", c.Port, c.Dir)
	if out, err := c.run(ctx, "pg_ctl", "-D", data, "-l", c.logf, "-o", opts, "-w", "-t", "60", "start"); err != nil {
		return fmt.Errorf("pg_ctl start: %v: %s", err, out)
	}
	return nil
}

// Stop stops the server and removes its folder.
func (c *Cluster) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := c.run(ctx, "pg_ctl", "-D", filepath.Join(c.Dir, "data"), "-m", "immediate", "-w", "stop")
	if rmErr := os.RemoveAll(c.Dir); err == nil {
		err = rmErr
	}
	return err
}

// run runs a PostgreSQL binary, as the unprivileged user when we are root.
func (c *Cluster) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, name), args...)
	cmd.Dir = c.Dir
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	if c.runAs != nil {
		uid, _ := strconv.ParseUint(c.runAs.Uid, 10, 32)
		gid, _ := strconv.ParseUint(c.runAs.Gid, 10, 32)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
		cmd.Env = append(cmd.Env, "HOME="+c.Dir)
	}
	return cmd.CombinedOutput()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
