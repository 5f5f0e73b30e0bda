// Package printer is the kiosk's printer boundary: a Printer prints a PDF
// and says how it went as a code the UI words (Error.Code). CUPS is the
// real implementation (lp, lpstat); tests drive it against a private cupsd
// with a cups-pdf queue (internal/cupstest).
package printer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"time"
)

// Printing outcomes a person is told about, as codes.
const (
	CodeNotConfigured = "printer_not_configured" // no queue in the config
	CodeOffline       = "printer_offline"        // queue unknown, stopped or not accepting jobs
	CodeNoPaper       = "printer_no_paper"       // out of paper
	CodeJammed        = "printer_jammed"         // paper jam, cover open, out of toner
	CodeTimeout       = "printer_timeout"        // the job did not finish in time
	CodeFailed        = "printer_failed"         // the job was aborted or could not be sent
)

// Error is a failed print: Code for the UI, Cause (what CUPS said) for the
// log only.
type Error struct {
	Code  string
	Cause string
}

func (e *Error) Error() string { return "print: " + e.Code + ": " + e.Cause }

// CodeOf returns the code of a printing error (CodeFailed for any other).
func CodeOf(err error) string {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Code
	}
	return CodeFailed
}

// Printer prints documents.
type Printer interface {
	// Print prints a PDF and returns once the printer finished the job.
	Print(ctx context.Context, title string, pdf []byte) error
}

// Config is the [printer] table of the kiosk config.
type Config struct {
	// Queue is the CUPS queue (lpstat -p lists them); empty: no printer.
	Queue string `toml:"queue"`
	// Server is the CUPS server (host:port or socket path) when not the
	// system's default (CUPS_SERVER).
	Server string `toml:"server"`
	// TimeoutSeconds is how long a job may take before the candidate is
	// told the printer did not finish.
	TimeoutSeconds int `toml:"timeout_seconds"`
}

// DefaultConfig is no printer, a minute per job.
func DefaultConfig() Config { return Config{TimeoutSeconds: 60} }

var queueRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,127}$`)

// Validate checks the table; errors name the key.
func (c Config) Validate() error {
	if c.Queue != "" && !queueRE.MatchString(c.Queue) {
		return fmt.Errorf("printer.queue = %q: expected a CUPS queue name (letters, digits, . _ -)", c.Queue)
	}
	if c.TimeoutSeconds < 5 || c.TimeoutSeconds > 600 {
		return fmt.Errorf("printer.timeout_seconds = %d: expected 5 to 600", c.TimeoutSeconds)
	}
	return nil
}

// CUPS prints through the CUPS command-line clients.
type CUPS struct {
	cfg  Config
	poll time.Duration
}

var _ Printer = (*CUPS)(nil)

// NewCUPS returns the CUPS printer of cfg.
func NewCUPS(cfg Config) *CUPS { return &CUPS{cfg: cfg, poll: 200 * time.Millisecond} }

func (p *CUPS) run(ctx context.Context, stdin []byte, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = os.Environ()
	if p.cfg.Server != "" {
		cmd.Env = append(cmd.Env, "CUPS_SERVER="+p.cfg.Server)
	}
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if err != nil {
		return out.String(), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// State reads the queue's state: nil when it takes jobs, an *Error with
// CodeOffline, CodeNoPaper or CodeJammed otherwise.
func (p *CUPS) State(ctx context.Context) error {
	if p.cfg.Queue == "" {
		return &Error{Code: CodeNotConfigured, Cause: "printer.queue is empty"}
	}
	out, err := p.run(ctx, nil, "lpstat", "-l", "-p", p.cfg.Queue)
	if err != nil {
		return &Error{Code: CodeOffline, Cause: err.Error()}
	}
	if e := reasons(out); e != nil {
		return e
	}
	if strings.Contains(out, " disabled") {
		return &Error{Code: CodeOffline, Cause: strings.TrimSpace(out)}
	}
	acc, err := p.run(ctx, nil, "lpstat", "-a", p.cfg.Queue)
	if err != nil || strings.Contains(acc, "not accepting") {
		return &Error{Code: CodeOffline, Cause: strings.TrimSpace(acc + " " + fmt.Sprint(err))}
	}
	return nil
}

// reasons maps the printer-state-reasons lpstat -l shows ("Alerts: …") to
// a code.
func reasons(lpstat string) *Error {
	for _, line := range strings.Split(lpstat, "\n") {
		line = strings.TrimSpace(line)
		alerts, ok := strings.CutPrefix(line, "Alerts:")
		if !ok {
			continue
		}
		for _, r := range strings.Fields(alerts) {
			r = strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(r, "-error"), "-warning"), "-report")
			switch r {
			case "media-empty", "media-needed":
				return &Error{Code: CodeNoPaper, Cause: line}
			case "media-jam", "door-open", "cover-open", "toner-empty", "marker-supply-empty":
				return &Error{Code: CodeJammed, Cause: line}
			case "offline", "shutdown", "connecting-to-device", "paused":
				return &Error{Code: CodeOffline, Cause: line}
			}
		}
	}
	return nil
}

var requestRE = regexp.MustCompile(`request id is (\S+)`)

// Print checks the queue, sends the PDF with lp and waits for the job to
// complete, watching the queue for paper and offline alerts meanwhile.
func (p *CUPS) Print(ctx context.Context, title string, pdf []byte) error {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(p.cfg.TimeoutSeconds)*time.Second)
	defer cancel()
	if err := p.State(ctx); err != nil {
		return err
	}
	out, err := p.run(ctx, pdf, "lp", "-d", p.cfg.Queue, "-t", title, "-o", "media=A4", "-")
	if err != nil {
		return &Error{Code: CodeFailed, Cause: err.Error()}
	}
	m := requestRE.FindStringSubmatch(out)
	if m == nil {
		return &Error{Code: CodeFailed, Cause: "lp said: " + strings.TrimSpace(out)}
	}
	job := m[1]
	t := time.NewTicker(p.poll)
	defer t.Stop()
	for {
		done, err := p.jobDone(ctx, job)
		if err != nil || done {
			return err
		}
		if err := p.State(ctx); err != nil {
			var pe *Error
			if errors.As(err, &pe) && pe.Code != CodeOffline {
				// Out of paper or jammed: the job waits; tell the candidate.
				p.run(context.WithoutCancel(ctx), nil, "cancel", job)
				return err
			}
		}
		select {
		case <-ctx.Done():
			p.run(context.WithoutCancel(ctx), nil, "cancel", job)
			return &Error{Code: CodeTimeout, Cause: fmt.Sprintf("job %s not done in %ds", job, p.cfg.TimeoutSeconds)}
		case <-t.C:
		}
	}
}

// jobDone reports whether job completed; an aborted or cancelled job is an
// error.
func (p *CUPS) jobDone(ctx context.Context, job string) (bool, error) {
	notDone, err := p.run(ctx, nil, "lpstat", "-W", "not-completed", "-o", p.cfg.Queue)
	if err != nil {
		return false, nil // the scheduler is busy: look again
	}
	if hasJob(notDone, job) {
		return false, nil
	}
	done, err := p.run(ctx, nil, "lpstat", "-W", "completed", "-l", "-o", p.cfg.Queue)
	if err != nil || !hasJob(done, job) {
		return false, nil
	}
	// lpstat -l shows a finished job's state as "Status: …" lines only when
	// the job stopped early; completed jobs name no failure.
	for _, block := range strings.Split(done, "\n"+p.cfg.Queue+"-") {
		if strings.HasPrefix(block, strings.TrimPrefix(job, p.cfg.Queue+"-")+" ") || strings.HasPrefix(block, job+" ") {
			if strings.Contains(block, "aborted") || strings.Contains(block, "canceled") || strings.Contains(block, "cancelled") {
				return true, &Error{Code: CodeFailed, Cause: "job " + job + ": " + strings.TrimSpace(block)}
			}
		}
	}
	return true, nil
}

func hasJob(lpstat, job string) bool {
	for _, line := range strings.Split(lpstat, "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == job {
			return true
		}
	}
	return false
}
