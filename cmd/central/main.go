// Command central runs the reference central registration system.
//
//	central serve [--addr 127.0.0.1:8700] [--data DIR] [--db postgres://…] [--public-url URL] [--config FILE] [--demo]
//	central migrate [--data DIR] [--db postgres://…]   bring the store to this binary's schema and
//	                                          upgrades (serve does it at start too; nodes take turns)
//	central seed  --data DIR                  create the demo centre, exam and enrolment code DEMO
//	central code  --data DIR --centre ID      issue a one-time enrolment code (server stopped)
//	central centre --data DIR --id ID --name NAME   create a test centre (server stopped)
//	central revoke --data DIR --device ID     revoke a kiosk (server stopped)
//	central keys  --data DIR                  print the answer key kiosks pin (sync.central_answer_key)
//	central rotate-data-key --data DIR        re-seal central.db under a new data key (server stopped)
//	central reviewer --data DIR --name NAME [--role reviewer|admin]   add a staff account;
//	                                          the password is read from standard input
//
// Every command takes --db (or central.database): a PostgreSQL URL holding
// the store instead of DIR/central.db, shared by several serve nodes. Keep
// its password out of the URL (and out of ps): PGPASSWORD or ~/.pgpass.
// The keys stay in DIR/keys (or central.key_dir) on every node.
//
// With the server running, use the admin HTTP API instead (see sync/PROTOCOL.md).
package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"examkiosk/sync/central"
	"examkiosk/sync/wire"
)

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2:])
	case "rotate-data-key":
		err = rotate(os.Args[2:])
	case "migrate":
		err = migrate(os.Args[2:])
	case "generate":
		err = generate(os.Args[2:])
	case "seed", "code", "centre", "revoke", "keys", "reviewer":
		err = offline(os.Args[1], os.Args[2:])
	case "-h", "--help", "help":
		usage()
		return
	default:
		usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "central:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, `usage:
  central serve [--addr 127.0.0.1:8700] [--data DIR] [--db postgres://...] [--public-url URL] [--config FILE] [--demo]
  central migrate [--data DIR] [--db postgres://...]
  central generate [--data DIR] [--db postgres://...] -n 1000000   (synthetic registrations, load tests only)
  central seed --data DIR
  central code --data DIR --centre ID
  central centre --data DIR --id ID --name NAME
  central revoke --data DIR --device ID
  central keys --data DIR
  central rotate-data-key --data DIR
  central reviewer --data DIR --name NAME [--role reviewer|admin] < password`)
}

// loadConfig reads defaults, then the [central] table of a TOML file, then flags.
func loadConfig(fs *flag.FlagSet, args []string) (central.Config, error) {
	cfg := central.DefaultConfig()
	file := fs.String("config", "", "TOML file with a [central] table")
	addr := fs.String("addr", "", "listen address (default "+cfg.Addr+")")
	data := fs.String("data", "", "data directory (default "+cfg.DataDir+")")
	db := fs.String("db", "", "PostgreSQL URL holding the store instead of <data>/central.db (central.database)")
	pub := fs.String("public-url", "", "public base URL for QR and payment links (default "+cfg.PublicURL+")")
	demo := fs.Bool("demo", false, "seed demo data and accept enrolment code DEMO from loopback")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	var cf *central.ConfigFile // names file and line in errors about what it set
	if *file != "" {
		var err error
		if cf, err = central.ReadConfigFile(*file, &cfg); err != nil {
			return cfg, err
		}
	}
	if *addr != "" {
		cfg.Addr = *addr
		if *pub == "" && cfg.PublicURL == central.DefaultConfig().PublicURL {
			cfg.PublicURL = "http://" + *addr
		}
	}
	if *data != "" {
		cfg.DataDir = *data
	}
	if *db != "" {
		cfg.Database = *db
	}
	if *pub != "" {
		cfg.PublicURL = *pub
	}
	if *demo {
		cfg.Demo = true
	}
	return cfg, cf.Annotate(cfg.Validate())
}

func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg, err := loadConfig(fs, args)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	s, err := central.Open(cfg, central.WithLogger(log))
	if err != nil {
		return err
	}
	defer s.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go s.RunMaintenance(ctx, 30*time.Second)
	// Read, write and idle timeouts bound every connection; the handler
	// also cuts slow bodies (body_grace, body_min_rate).
	srv := cfg.NewHTTPServer(s.Handler())
	errc := make(chan error, 1)
	go func() {
		if cfg.TLSCertFile != "" {
			errc <- srv.ListenAndServeTLS(cfg.TLSCertFile, cfg.TLSKeyFile)
			return
		}
		errc <- srv.ListenAndServe()
	}()
	log.Info("central serving", "addr", cfg.Addr, "data", cfg.DataDir, "store", central.StoreKind(cfg), "public_url", cfg.PublicURL, "demo", cfg.Demo)
	select {
	case err := <-errc:
		return fmt.Errorf("serve %s: %w", cfg.Addr, err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shut down: %w", err)
	}
	return nil
}

// migrate applies the schema migrations and data upgrades the store lacks.
func migrate(args []string) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	cfg, err := loadConfig(fs, args)
	if err != nil {
		return err
	}
	applied, err := central.Migrate(cfg)
	for _, m := range applied {
		fmt.Printf("applied %s\n", m)
	}
	if err != nil {
		return err
	}
	fmt.Printf("store up to date (%d schema migrations applied now)\n", len(applied))
	return nil
}

// generate writes synthetic registrations to the demo exam for load tests
// and the 1,000,000-registration figures (see central.Server.Generate).
func generate(args []string) error {
	fs := flag.NewFlagSet("generate", flag.ContinueOnError)
	n := fs.Int("n", 1_000_000, "how many registrations")
	cfg, err := loadConfig(fs, args)
	if err != nil {
		return err
	}
	cfg.Demo = true // the demo exam the registrations are for
	s, err := central.Open(cfg, central.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		return err
	}
	defer s.Close()
	start := time.Now()
	err = s.Generate(*n, 10000, func(done int) {
		if done%100000 == 0 || done == *n {
			fmt.Printf("%d registrations (%s)\n", done, time.Since(start).Round(time.Second))
		}
	})
	if err != nil {
		return err
	}
	fmt.Printf("%d synthetic registrations written to the %s store in %s\n", *n, central.StoreKind(cfg), time.Since(start).Round(time.Second))
	return nil
}

// rotate re-seals the store under a new data key.
func rotate(args []string) error {
	fs := flag.NewFlagSet("rotate-data-key", flag.ContinueOnError)
	cfg, err := loadConfig(fs, args)
	if err != nil {
		return err
	}
	n, err := central.RotateDataKey(cfg)
	if err != nil {
		return err
	}
	fmt.Printf("data key rotated (%d values re-sealed); back up the key directory, then delete data.key.old\n", n)
	return nil
}

// readPassword reads one line (the password) from r.
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 1024)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password from standard input: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", errors.New("give the reviewer's password on standard input")
	}
	return line, nil
}

func offline(cmd string, args []string) error {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	centre := fs.String("centre", "", "centre id (code)")
	id := fs.String("id", "", "centre id (centre)")
	name := fs.String("name", "", "centre name (centre)")
	device := fs.String("device", "", "device id (revoke)")
	role := fs.String("role", central.RoleReviewer, "staff role: reviewer or admin (reviewer)")
	cfg, err := loadConfig(fs, args)
	if err != nil {
		return err
	}
	s, err := central.Open(cfg, central.WithLogger(slog.New(slog.DiscardHandler))) // errors are returned
	if err != nil {
		return err
	}
	defer s.Close()
	switch cmd {
	case "seed":
		if err := s.SeedDemo(); err != nil {
			return err
		}
		fmt.Printf("demo centre %q, exam %q and enrolment code %q ready in %s\n", central.DemoCentreID, central.DemoExamID, central.DemoEnrolmentCode, cfg.DataDir)
	case "code":
		code, exp, err := s.NewEnrolmentCode(*centre)
		if err != nil {
			return err
		}
		fmt.Printf("%s (valid until %s)\n", code, exp.Format(time.RFC3339))
	case "centre":
		if err := s.AddCentre(wire.Centre{ID: *id, Name: *name}); err != nil {
			return err
		}
		fmt.Printf("centre %s created\n", *id)
	case "revoke":
		if err := s.Revoke(*device); err != nil {
			return err
		}
		fmt.Printf("device %s revoked\n", *device)
	case "keys":
		fmt.Printf("answer key (sync.central_answer_key): %s\n", base64.StdEncoding.EncodeToString(s.AnswerPublicKey()))
	case "reviewer":
		pw, err := readPassword(os.Stdin)
		if err != nil {
			return err
		}
		if err := s.AddReviewer(*name, *role, pw); err != nil {
			return err
		}
		fmt.Printf("%s %s can log in at %s/login\n", *role, *name, cfg.PublicURL)
	}
	return nil
}
