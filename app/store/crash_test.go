package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"examkiosk/sync/wire"
)

const crashEnv = "EXAMKIOSK_STORE_CRASH_CHILD" // "dbpath:seed" in the child

// TestCrashChild is the writer that TestCrashSafety kills. It only runs as
// that test's child process.
func TestCrashChild(t *testing.T) {
	spec := os.Getenv(crashEnv)
	if spec == "" {
		t.Skip("runs only as the child of TestCrashSafety")
	}
	i := strings.LastIndexByte(spec, ':')
	seed, _ := strconv.Atoi(spec[i+1:])
	cfg := DefaultConfig()
	cfg.Path = spec[:i]
	s, err := Open(cfg)
	if err != nil {
		fmt.Println("open-error", err)
		os.Exit(3)
	}
	ctx := context.Background()
	ph := photo(t, 40<<10, uint64(seed))
	fmt.Println("ready")
	for n := seed * 1000; ; n++ {
		r, err := s.Submit(ctx, newReg(t, n, ph))
		if err != nil {
			fmt.Println("submit-error", err)
			os.Exit(4)
		}
		fmt.Println("id", r.ID)
		// Mix in the other writers: deliveries, quarantines, purges.
		if n%4 == 3 {
			items, err := s.Pending(ctx, 3, 1<<30)
			if err != nil {
				fmt.Println("pending-error", err)
				os.Exit(5)
			}
			var res []wire.Result
			for j, it := range items {
				st := wire.StatusAccepted
				if j == 2 {
					st = wire.StatusRejected
				}
				res = append(res, wire.Result{ID: it.ID, Revision: it.Revision, Status: st, Reason: "test"})
			}
			if err := s.Ack(ctx, res); err != nil {
				fmt.Println("ack-error", err)
				os.Exit(6)
			}
			if _, err := s.Purge(ctx, time.Now().AddDate(0, 0, 8)); err != nil {
				fmt.Println("purge-error", err)
				os.Exit(7)
			}
		}
	}
}

// TestCrashSafety kills a writing child process with SIGKILL at random
// moments, at least 200 times (30 with -short), and checks after each kill
// that the file reopens and every submission that returned is there and
// verifies; at the end it verifies the whole database.
func TestCrashSafety(t *testing.T) {
	if os.Getenv(crashEnv) != "" {
		t.Skip("child")
	}
	kills := 200
	if testing.Short() {
		kills = 30
	}
	ctx := context.Background()
	cfg := testConfig(t.TempDir())
	s, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// A catalog open around the real clock: the child uses time.Now.
	cat := testCatalog(1)
	for i := range cat.Exams {
		cat.Exams[i].RegisterFrom, cat.Exams[i].RegisterUntil = time.Now().AddDate(0, -1, 0), time.Now().AddDate(1, 0, 0)
	}
	if err := s.PutCatalog(ctx, cat); err != nil {
		t.Fatal(err)
	}
	s.Close()

	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
	var all []string
	killedWriting := 0
	start := time.Now()
	for k := 0; k < kills; k++ {
		w := startWriter(t, "TestCrashChild", fmt.Sprintf("%s=%s:%d", crashEnv, cfg.Path, k+1), nil)
		cmd, ready, done := w.cmd, w.ready, w.done
		// Kill at a random moment: mostly while submitting, sometimes while
		// the child is still starting or opening the file.
		var delay time.Duration
		if rng.IntN(10) == 0 {
			delay = time.Duration(rng.IntN(15)) * time.Millisecond
		} else {
			select {
			case <-ready:
			case <-time.After(5 * time.Second):
			}
			delay = time.Duration(rng.IntN(60_000)) * time.Microsecond
		}
		time.Sleep(delay)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-done
		cmd.Wait()
		newIDs, fatal := w.acked()
		if fatal != "" {
			t.Fatalf("child %d: %s", k, fatal)
		}
		if len(newIDs) > 0 {
			killedWriting++
		}
		all = append(all, newIDs...)

		// The file reopens and every returned submission is there and opens.
		s, err := Open(cfg)
		if err != nil {
			t.Fatalf("after kill %d: %v", k, err)
		}
		for _, id := range newIDs {
			r, err := s.Get(ctx, id)
			if err != nil {
				s.Close()
				t.Fatalf("after kill %d: returned submission lost: %v", k, err)
			}
			if r.ID != id || r.Name == "" {
				s.Close()
				t.Fatalf("after kill %d: %s read back as %+v", k, id, r.ID)
			}
		}
		s.Close()
	}
	s, err = Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, id := range all {
		if _, err := s.Get(ctx, id); err != nil {
			t.Fatalf("returned submission lost: %v", err)
		}
	}
	rep, err := s.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Registrations < len(all) {
		t.Fatalf("Verify found %d registrations; %d submissions returned", rep.Registrations, len(all))
	}
	if killedWriting < kills/4 {
		t.Fatalf("only %d of %d kills hit a writing child", killedWriting, kills)
	}
	t.Logf("%d kills (%d while writing) in %v: %d submissions returned, %d stored (%d killed after commit, before the print), %d audit entries, all verify",
		kills, killedWriting, time.Since(start).Round(time.Millisecond), len(all), rep.Registrations, rep.Registrations-len(all), rep.AuditEntries)
}
