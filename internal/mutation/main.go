// Command mutation runs gremlins (Go mutation testing) on the packages that
// hold the kiosk's rules and promises, one package at a time, and writes
// docs/MUTATION.md: per package the efficacy (killed / (killed + lived)),
// the mutator coverage ((killed + lived) / all mutants), and every surviving
// mutant, marked equivalent where internal/mutation/equivalent.txt says why.
//
// Usage (from the module root, what `make mutation` runs):
//
//	go run ./internal/mutation -gremlins bin/gremlins -out docs/MUTATION.md [package ...]
//
// A package is given as its directory, optionally followed by "=" and a
// regular expression of the files to mutate (others are excluded), e.g.
// device/face=^(photo|liveness)\.go$, and optionally "@" and a -run pattern
// of the tests to run against each mutant (for a package whose full suite
// takes minutes). Without packages it runs the full set.
// -min sets the efficacy and coverage every package must reach (the exit
// status is 1 otherwise).
//
// -recheck runs no gremlins: it runs the survivors of each stored result
// again (and the mutants not covered then that the tests now reach) against
// the tests as they are, updates the result and logs the recheck in it
// (recheck.go); after new tests, a set's killed mutants need no second run.
// After every gremlins run the killed "+" mutants are compiled: a string
// concatenation made "-" does not compile, and gremlins v0.6.0 counts the
// build failure as a kill; such a mutant is stored as not viable.
package main

import (
	"bufio"
	"cmp"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"time"
)

// Full is every package the report covers, smallest first.
var Full = []string{
	"idnumber", "sync/seal", "sync/signing", "sync/wire", "app/registration", "app/store",
	"sync/kiosk", "sync/central", `exam=^photo\.go$`,
	`device/face=^photo\.go$@^Test(Rules|PhotoSpec|BackgroundColours)`,
	`device/face=^liveness\.go$@^Test(Liveness(Rule|Track|Config|Timeouts)|FuseCues)`,
}

// Parts splits a package whose whole suite is too long to run against every
// mutant into file sets, each given as on the command line
// (dir=files@tests!skip) with the tests that exercise those files. Asking
// for the package (its directory alone) runs every part, or with -reuse
// reads each part's stored result; the package's row is then the union of
// the parts (every mutant of every file counted once) and the -min gate
// applies to that row. The part rows follow it.
var Parts = map[string][]string{
	// sync/central's whole suite takes about 30 s (a minute at load 10),
	// so each file set runs with the tests that exercise it. Every part
	// skips the PostgreSQL half of the shared store suite (/^postgres$): the
	// store implementations are packages of their own (store/bolt,
	// store/pg), so a mutant of sync/central behaves the same on either
	// store, and a PostgreSQL run costs a cluster start (4 s) per mutant.
	// The two-node tests, which need PostgreSQL, run in none: the tickets
	// set runs, instead of TestTicketsTwoNodes (a cluster start a mutant),
	// TestTicketRoundsAtOnce (rounds at once on bbolt: each round is one
	// store transaction, and what serialises them across nodes is the
	// store's, store/pg) and TestIssueTicketRefusesATakenSeat (the seat
	// index); tickets.go holds no code that only two nodes reach.
	// app/store and sync/kiosk: each mutant against the tests that take
	// seconds (not TestCrashSafety/TestPowerCut, the fault and failover
	// deliveries, TestQRLogin): docs/MUTATION.md.
	"app/store": {
		`app/store=^(outbox|seal|audit)\.go$@` + storeTests,
		`app/store=^(pull|duplicate|device)\.go$@` + storeTests,
		`app/store=^store\.go$@` + storeTests,
		`app/store=^(maintain|compact|config)\.go$@` + storeTests,
	},
	"sync/kiosk": {
		`sync/kiosk=^client\.go$@^(Test(BatchGrowsBackAdditively|BatchResultCounts|RevokedAfterFailover|SingleItemTimeoutKeepsBatch|FullJitter|FullJitterFirstAttemptsBound|BatchLimitsInclusive|TimingLimitsInclusive|PushTimeoutHalvesBatch|OversizeBatchSplitsAndSingleItemQuarantined|FailoverPastDeadHungAndProxyError|DrainPreparesNextBatchInFlight|PushPullReviewPay|IdentityWithoutAnswerKey|QRLoginExpires|FailoverNotOnRefusal|PoisonItemQuarantined|RevokedDeviceStops|RunSyncNowAndReconnect|ClockSkewCorrected|ReplayedAnswerRefused|ClockOffsetOnlyFromSignedTime|AckForUnsentItemIgnored|EnrolRefusalReported|EnrolPastUnsignedOK|NewWithoutLogger|DrainSendsReadAheadBatchWithinByteLimit|RunHeartbeatFirstRoundThenByInterval|QRPollOutlastsRequestTimeout|FullJitterShiftEnds)|Example)$`,
		`sync/kiosk=^(config|netwatch|health|qrcode|nodes)\.go$@^Test(ConfigValidate|CentralURLsConfig|CentralAnswerKeyValidated|WatchInterfacesReportsOnce|DiskFree|NodesStickAndFailBack|FailsOver|AnyUsable|FullJitter|IdentityWithoutAnswerKey|QRLoginExpires|FailbackAfterLimitsInclusive|BatchLimitsInclusive|TimingLimitsInclusive|DiskFreeMatchesDf)$`,
	},
	"sync/central": {
		`sync/central=^ingest\.go$@^Test(Rejections|IngestIdempotent|ConcurrentPushesExactlyOnce|IngestDeadline|IngestOneRegistrationPerCandidateAndExam|IngestCatalogueRefusals|IngestRevisionToAnotherExam|IngestBatchLimit|IngestReportsUnderReview|IngestRevisionRange|ExpireOverdue|AttackRow(6|8|10|11)[A-Za-z]*|DuplicateMarkReachesReviewers|CrossKioskDuplicateSearch|IngestAnnouncesEveryRead)$!/^postgres$`,
		`sync/central=^(auth|identity|providers|qr)\.go$@^Test(AttackRow(3UnsignedBodiesDoNotGrowTheHeap|10AnswersAreSignedAndPinned|12DeviceSignedAndEnrolmentNotReplayable|13)|SignedConcurrencyCapsExact|SlotsKeepOnlyWhatIsInFlight|BodyBufferFromWhatArrives|TruncateLoggedDevice|ProviderTimeWithinSkewInclusive|AnswerWriteLogged|QRAssertionOfAnotherChannel|QRPageNamesItsChannel|QRDemoConfirmRetype|QRWaitersForgotten|QRDamagedSessionIsAnError|SignedBodyDeadline|SignedBodyLimitExact|RefusedBodiesDrainedOrCut|QRLongPoll|PruneAuthState|PagesInOneLanguage|PageWords|ReplayWholeWindowMovingClock|Enrolment|AdminGuard|Attack1PayNotifyUnsigned|Attack2QRConfirmForged|QRAssertedIdentityChecked|QRPollWithoutWaitHandsOutIdentity|QRSessionBoundToItsKiosk|Rejections)$!/^postgres$`,
		`sync/central=^(payment|status)\.go$@^Test(Attack1PayNotifyUnsigned|PaymentDeadlineAndSecondTrade|DemoPayPage|PaymentSeatsAtOnceWhenTicketsOpen|ExpireOverdue|AttackRow6RevisionsFromElsewhereAndAfterPayment|AccountLogin|ReviewerPages|Attack4StaffPages|TicketAssignment)$!/^postgres$`,
		`sync/central=^(review|reviewers)\.go$@^Test(ReviewerPages|Attack4StaffPages|Attack9ReviewLinkEscaping|StaffPasswordHash|AttackRow6RevisionsFromElsewhereAndAfterPayment|DuplicateMarkReachesReviewers|Attack1PayNotifyUnsigned|ExpireOverdue|LogoutAndAuditLog|PaymentDeadlineAndSecondTrade|DemoPayPage|PagesInOneLanguage|AdminGuard|Attack5PasswordClaim|AccountsAndThrottlesAtRest|AdminGetRegistration|Gigabytes|StaffHashParameters|StaffLoginRedirectAndHostCookies|StaffPagesOnPublicHost|RegistrationsOldestFirst|PaymentAndExpiryReachTheKiosk|ReviewAPIDecisionWords|AdminListLimits|StaffHashParameterLimits|AddReviewerRoleAndPasswordLength|DemoHostsAreLoopbackOnly|LoginFormOrigin|StaffCookieLifetime)$!/^postgres$`,
		`sync/central=^throttle\.go$@^Test(ThrottlePolicyFigures|ThrottleLockoutGrows|ThrottleLeak|RetryMinutes|AccountLogin|Attack4StaffPages|AccountsAndThrottlesAtRest|Attack7CaptchaAndGuessing)$!/^postgres$`,
		`sync/central=^captcha\.go$@^Test(CaptchaImage|CaptchaGlyphGeometry|CaptchaPlainExact|CaptchaServedDistortion|CaptchaTemplateMatchQuick)$!/^postgres$`,
		`sync/central=^(faces|regindex)\.go$@^Test(FaceRecordEncoding|FaceSearchPendingUntilTheCurrentRevisionsFace|FaceRecordErrorsSayWhy|FaceRecordCodeOnlyReadsThePrefix|FaceOfAnotherKindNotSearched|FaceLeftOutOfIndexIsLogged|DuplicateMarkIsTheClosestRevision|FaceSearcherWorksAlone|IndexLoadSkipsBadFaces|SearchRoundsOfSixtyFour|ClaimHoldsThirtySeconds|SettleWaitsForEveryFace|RegIndexDamagedKey|FacesSealedAndRotated|PendingClaims|CmpFloat|CrossKioskDuplicateSearch|DuplicateSearchWhileIndexLoads|RegistrationIndex|DuplicateMarkReachesReviewers)$!/^postgres$`,
		`sync/central=^tickets\.go$@^Test(TicketAssignment|LoadTicketPlan|TicketPlanChecks|DemoTicketPlan|TicketsFileAtOpen|TicketRoundsAtOnce|TicketVerification|IssueTicketRefusesATakenSeat|TicketQueue|TicketRoundLogs|NoPlanNoTickets|PaymentSeatsAtOnceWhenTicketsOpen)$!/^postgres$`,
		`sync/central=^fleet\.go$@^Test(FleetAlertLimits|FleetCurrentVersionFromActiveKiosks|FleetAlerts|FleetNeedsAdmin|CompareVersions|FleetThresholdsFromConfig|FleetThresholdConfiguredOnTheServer|FleetConfigFile|FleetCurrentVersionNewestInAnyOrder|CompareVersionsNines|FleetFiguresExact|FleetStoreFailure)$!/^postgres$`,
		`sync/central=^(config|configfile)\.go$@^Test(ConfigLimitsInclusive|ConfigValidate|ConfigDocumentedDefaults|ConfigPublicURL|ConfigKeyDir|NewHTTPServerSettings|FleetThresholdsFromConfig|FleetConfigFile|LoadTicketPlan|AttackRow13)$!/^postgres$`,
		`sync/central=^(accounts|generate|idnumber|words)\.go$@^Test(AccountLogin|AccountLoginThrottledAnswer|AccountsAndThrottlesAtRest|Attack2QRConfirmForged|Attack4StaffPages|Attack5PasswordClaim|Attack9ReviewLinkEscaping|CaptchaLifetime|CrossKioskDuplicateSearch|DemoPayPage|DuplicateMarkReachesReviewers|FleetAlerts|FleetThresholdConfiguredOnTheServer|Generate|GenerateChunks|IDNumber|LogoutAndAuditLog|MaskID|PageLanguage|PageLanguageChoiceEdges|PageWordsFormatted|PagesInOneLanguage|PasswordRule|PasswordRuleEdges|PasswordSetThenResetAudited|PasswordTicketLifetime|PruneAuthState|QRAssertedIdentityChecked|QRPollWithoutWaitHandsOutIdentity|QRSessionBoundToItsKiosk|Rejections|ReviewerPages|SetPasswordOnlyForTheTicketsIdentity|StaffLoginRedirectAndHostCookies|StaffPagesOnPublicHost|TicketAssignment)$!/^postgres$`,
		`sync/central=^(authstore|backend|keys|seed|server|store)\.go$@^Test(AccountLogin|AccountLoginThrottledAnswer|AccountsAndThrottlesAtRest|AdminAPI|AdminGetRegistration|AdminGuard|Attack1PayNotifyUnsigned|Attack2QRConfirmForged|Attack4StaffPages|Attack5PasswordClaim|Attack9ReviewLinkEscaping|AttackRow10AnswersAreSignedAndPinned|AttackRow11OverlongIDFailsOnlyItself|AttackRow12DeviceSignedAndEnrolmentNotReplayable|AttackRow13|AttackRow3UnsignedBodiesDoNotGrowTheHeap|AttackRow6RevisionsFromElsewhereAndAfterPayment|AttackRow8CopyOfTheDatabaseRevealsNothing|AuditLimit|CaptchaLifetime|ConcurrentPushesExactlyOnce|CrossKioskDuplicateSearch|CurrentStoreNotRewrittenAtOpen|DecodeBodyFailures|DemoPayPage|DuplicateMarkReachesReviewers|DuplicateSearchWhileIndexLoads|Enrolment|ExpireOverdue|FaceSearchPendingUntilTheCurrentRevisionsFace|FacesSealedAndRotated|FleetAlerts|FleetNeedsAdmin|FleetThresholdConfiguredOnTheServer|FormSecretKeptAcrossRestarts|Generate|GenerateChunks|IngestBatchLimit|IngestCatalogueRefusals|IngestDeadline|IngestIdempotent|IngestOneRegistrationPerCandidateAndExam|IngestReportsUnderReview|IngestRevisionRange|IngestRevisionToAnotherExam|LogoutAndAuditLog|MaskID|MigrateEmbeddedStore|NoncesKeptUntilTheyExpire|PagesInOneLanguage|ParseCursor|PasswordSetThenResetAudited|PasswordTicketLifetime|PaymentDeadlineAndSecondTrade|PaymentSeatsAtOnceWhenTicketsOpen|PendingClaims|PruneAuthState|PullBytesLimit|PullCursorAndCatalog|QRAssertedIdentityChecked|QRPollWithoutWaitHandsOutIdentity|QRSessionBoundToItsKiosk|RegistrationIndex|Rejections|ReplayWholeWindowMovingClock|ReviewerPages|RotateDataKey|RunMaintenance|SeedDemoCatalog|SetPasswordOnlyForTheTicketsIdentity|StaffLoginRedirectAndHostCookies|StaffPagesOnPublicHost|ThrottleClearEveryKey|ThrottleKeptForExactlyADay|TicketAssignment|UpgradeFirstVersionStore|UpgradeSealKeyOnlyStore)$!/^postgres$`,
	},
}

// storeTests is app/store's test set for mutation runs: every test but
// the crash and power-cut loops (15 of the suite's 21 s at load 20).
const storeTests = `^(Test(KeyHandling|DuplicateSuspectsAndReview|CompactRemovesPurgedPhotos|OneRegistrationPerExamAfterDelivery|RepeatedDecisionRefreshes|ApplyPullTicket|ConcurrentSubmit|FaceRecords|SubmitGetPending|PendingBounds|PhotoAndDescriptorsSealedAtRest|ApplyPullLifecycle|TamperDetected|PurgeEvery|SealedAtRest|AuditForgeryDetected|DeviceIDLength|AckAndQuarantine|RefusalsWriteNothing|NoCatalog|TruncatedSealedValue|Purge|IdentityAndSettings|ConfigValidate|BlobEncoding|AuditAppends|AuditBrokenChainNamed|AckShortUnknownIDs|PendingByteLimitInclusive|ReopenRestoresFileMode|NewerSchemaRefused|MissingBucketAdded|LostKeyNotReplaced|OpenWritesNothing|SettingNameLimit|BlobLargestDescriptors|PulledCatalogOnlyIfNewer|RepeatedApprovalNewPaymentURL|LateTicketAudited|WithdrawAudited|FaceRecordsOnlyWithDescriptors|BlobTruncated|ConfigLimitsInclusive|PurgeExactRetentionAndAudit|DefaultPath)|FuzzDecodeBlob)$`

type result struct {
	Files []struct {
		FileName  string `json:"file_name"`
		Mutations []struct {
			Type   string `json:"type"`
			Status string `json:"status"`
			Line   int    `json:"line"`
			Column int    `json:"column"`
		} `json:"mutations"`
	} `json:"files"`
	Efficacy   float64        `json:"test_efficacy"`
	Coverage   float64        `json:"mutations_coverage"`
	Total      int            `json:"mutants_total"`
	Killed     int            `json:"mutants_killed"`
	Lived      int            `json:"mutants_lived"`
	NotViable  int            `json:"mutants_not_viable"`
	NotCovered int            `json:"mutants_not_covered"`
	Elapsed    float64        `json:"elapsed_time"`
	Mutators   map[string]int `json:"mutator_statistics"`
	Rechecked  []recheckLog   `json:"rechecked"` // internal/mutation -recheck runs since gremlins ran
}

type pkgReport struct {
	Dir, Files  string
	Run         string // -run pattern, "" for all tests
	Res         result
	Err         error
	TimedOut    int
	TimedOutIDs []string
	Lived       []string // "file:line:col TYPE"
	NotCovered  []string
	Equivalent  map[string]string // lived mutant → reason
	NoResult    bool              // -reuse found no stored result
	Part        bool              // one file set of a package in Parts
	Union       string            // the label of a package row made of its parts
}

func main() {
	gremlins := flag.String("gremlins", "bin/gremlins", "the gremlins binary")
	out := flag.String("out", "docs/MUTATION.md", "the report to write")
	work := flag.String("work", "bin/mutation", "where the per-package gremlins logs go")
	results := flag.String("results", "internal/mutation/results", "where the per-package JSON results go (kept in the repository, so -reuse can write the report from a clone)")
	equivFile := flag.String("equivalent", "internal/mutation/equivalent.txt", "equivalent survivors with their reasons")
	notesFile := flag.String("notes", "internal/mutation/notes.md", "text appended to the report (how and when the figures were taken)")
	minPct := flag.Float64("min", 0, "efficacy and mutator coverage each package must reach, in percent (0: report only)")
	timeout := flag.Int("timeout-coefficient", 10, "gremlins --timeout-coefficient (a loaded machine needs more)")
	reuse := flag.Bool("reuse", false, "use a package's result in -work from an earlier run instead of running gremlins again")
	recheckFlag := flag.Bool("recheck", false, "instead of running gremlins, run the survivors of each stored result again (and the mutants not covered then that the tests now reach) against the current tests, and update the result; then write the report")
	flag.Parse()
	pkgs := flag.Args()
	if len(pkgs) == 0 {
		pkgs = Full
	}
	equiv, err := readEquivalent(*equivFile)
	if err != nil {
		slog.Error("mutation", "err", err)
		os.Exit(2)
	}
	for _, d := range []string{*work, *results} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			slog.Error("mutation", "err", err)
			os.Exit(2)
		}
	}
	var reports []pkgReport
	for _, p := range expand(pkgs) {
		if parts, ok := Parts[p]; ok {
			reports = append(reports, union(p, reports[len(reports)-len(parts):]))
			continue
		}
		spec := p
		_, isPart := partOf(p)
		p, runPat, _ := strings.Cut(p, "@")
		dir, files, _ := strings.Cut(p, "=")
		r := pkgReport{Dir: dir, Files: files, Run: runPat, Equivalent: map[string]string{}, Part: isPart}
		start := time.Now()
		runOnly, skip, _ := strings.Cut(runPat, "!")
		if *recheckFlag {
			lg, err := recheck(*results, dir, files, runOnly, skip, *timeout, false)
			slog.Info("recheck", "package", dir, "files", files, "rechecked", lg.Rechecked, "killed", lg.Killed, "lived", lg.Lived, "not viable", lg.NotViable, "timed out", lg.TimedOut, "err", err)
			if err != nil && !errors.Is(err, fs.ErrNotExist) {
				slog.Error("mutation", "err", err)
				os.Exit(2)
			}
		}
		if *reuse || *recheckFlag {
			r.Res, r.Err = readResult(resultPath(*results, dir, files))
			if r.Err == nil {
				if err := stale(dir, r.Res); err != nil {
					r.Err = fmt.Errorf("%w; run the set again (make bin/gremlins first): GOFLAGS=-trimpath go run ./internal/mutation -gremlins bin/gremlins '%s', then -reuse to write the report", err, spec)
				}
			}
			if errors.Is(r.Err, fs.ErrNotExist) {
				r.NoResult = true
				r.Err = fmt.Errorf("no result yet: make mutation MUTATION_PKGS='%s'", spec)
				if pkg, ok := partOf(spec); ok { // the spec is in the row already
					r.Err = fmt.Errorf("no result yet: make mutation MUTATION_PKGS=%s runs every file set", pkg)
				}
			}
		} else {
			r.Res, r.Err = run(*gremlins, *work, *results, dir, files, runOnly, skip, *timeout)
			if r.Err == nil { // gremlins counts a mutant that does not compile as killed
				if lg, err := recheck(*results, dir, files, runOnly, skip, *timeout, true); err != nil {
					r.Err = err
				} else if lg.NotViable > 0 {
					r.Res, r.Err = readResult(resultPath(*results, dir, files))
				}
			}
		}
		slog.Info("mutation", "package", dir, "efficacy", r.Res.Efficacy, "coverage", r.Res.Coverage, "took", time.Since(start).Round(time.Second), "err", r.Err)
		for _, f := range r.Res.Files {
			for _, m := range f.Mutations {
				id := fmt.Sprintf("%s:%d:%d %s", f.FileName, m.Line, m.Column, m.Type)
				switch m.Status {
				case "LIVED":
					r.Lived = append(r.Lived, id)
					if why, ok := equiv[dir+" "+id]; ok {
						r.Equivalent[id] = why
					}
				case "TIMED OUT":
					r.TimedOut++
					r.TimedOutIDs = append(r.TimedOutIDs, id)
					if why, ok := equiv[dir+" "+id]; ok {
						r.Equivalent[id] = why
					}
				case "NOT COVERED":
					r.NotCovered = append(r.NotCovered, id)
					if why, ok := equiv[dir+" "+id]; ok {
						r.Equivalent[id] = why
					}
				}
			}
		}
		reports = append(reports, r)
	}
	reports = unionFirst(reports)
	prev, _ := os.ReadFile(*out) // rows of packages without a stored result are kept from it
	text := render(reports, pkgs, string(prev))
	if notes, err := os.ReadFile(*notesFile); err == nil {
		text += "\n" + string(notes)
	}
	if err := os.WriteFile(*out, []byte(text), 0o644); err != nil {
		slog.Error("mutation", "err", err)
		os.Exit(2)
	}
	fmt.Printf("wrote %s\n", *out)
	failed := false
	for _, r := range reports {
		if r.Part && hasUnion(reports, r.Dir) {
			continue // the package's union row is gated
		}
		if r.Err != nil {
			fmt.Fprintf(os.Stderr, "mutation: %s %s: %v\n", r.Dir, r.Files, r.Err)
			failed = true
			continue
		}
		if *minPct > 0 && (effectiveEfficacy(r) < *minPct || checkedCoverage(r) < *minPct) {
			fmt.Fprintf(os.Stderr, "mutation: %s efficacy %.1f %% (equivalents excluded), coverage %.1f %% (hand-checked included): below %.0f %%\n", r.Dir, effectiveEfficacy(r), checkedCoverage(r), *minPct)
			failed = true
		}
	}
	if failed {
		os.Exit(1)
	}
}

// run runs gremlins on one package directory and reads its JSON result.
func run(gremlins, work, results, dir, files, runPat, skipPat string, timeout int) (result, error) {
	var res result
	jsonOut := resultPath(results, dir, files)
	name := strings.TrimSuffix(filepath.Base(jsonOut), ".json")
	// No --test-cpu: gremlins v0.6.0 passes it to go test as the single
	// argument "-cpu 1", which go test hands to the test binary as an
	// unknown flag, so every mutant's run fails and is counted KILLED.
	// GOMAXPROCS=1 (below) keeps each test run on one CPU instead.
	args := []string{"unleash", "--workers", "1",
		"--timeout-coefficient", fmt.Sprint(timeout), "-o", jsonOut}
	if files != "" {
		re, err := regexp.Compile(files)
		if err != nil {
			return res, fmt.Errorf("%s: files %q: %w", dir, files, err)
		}
		ents, err := os.ReadDir(dir)
		if err != nil {
			return res, fmt.Errorf("%s: %w", dir, err)
		}
		for _, e := range ents {
			if e.IsDir() { // a package below dir is a package of its own
				args = append(args, "-E", "^"+regexp.QuoteMeta(e.Name())+"/")
				continue
			}
			if n := e.Name(); strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") && !re.MatchString(n) {
				args = append(args, "-E", "^"+regexp.QuoteMeta(n)+"$") // gremlins matches paths below the package dir
			}
		}
		// Nor the files of packages below it (device/face/internal/dlib):
		// gremlins walks them too.
		args = append(args, "-E", "/")
	}
	args = append(args, "./"+dir)
	logf, err := os.Create(filepath.Join(work, name+".log"))
	if err != nil {
		return res, err
	}
	defer logf.Close()
	cmd := exec.Command(gremlins, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// -short: the long loops (200 crash kills, …) run shortened; each
	// mutant still meets every test.
	// -count=1: gremlins times each mutant's run against its coverage run;
	// a coverage run answered from the test cache would make that limit a
	// fraction of a real run and report mutants as timed out.
	// -failfast: a killed mutant is known at its first failing test; the
	// rest of the suite would only cost time (a survivor still runs all).
	goflags := strings.Join(testFlags(runPat, skipPat), " ")
	// The caller's GOFLAGS stay (the Makefile's -trimpath keeps the action
	// IDs of gremlins' copy of the module equal to those of the original,
	// so the first build there is answered from the build cache).
	if g := strings.TrimSpace(os.Getenv("GOFLAGS")); g != "" {
		goflags = g + " " + goflags
	}
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1", "GOFLAGS="+goflags)
	if err := cmd.Run(); err != nil {
		return res, fmt.Errorf("gremlins %s: %w (log %s)", dir, err, logf.Name())
	}
	return readResult(jsonOut)
}

// testFlags are the go test flags of every mutant's run, gremlins' and a
// recheck's alike (-failfast: a killed mutant is known at its first
// failing test; a survivor still runs them all), so that a recheck runs
// the tests the set's run did.
func testFlags(runPat, skipPat string) []string {
	f := []string{"-short", "-count=1", "-failfast"}
	if runPat != "" {
		f = append(f, "-run="+runPat)
	}
	if skipPat != "" {
		f = append(f, "-skip="+skipPat)
	}
	return f
}

// resultPath is where gremlins writes a package's JSON result.
func resultPath(work, dir, files string) string {
	name := strings.ReplaceAll(dir, "/", "_")
	if files != "" {
		name += "_" + strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, files)
	}
	p, _ := filepath.Abs(filepath.Join(work, name+".json"))
	return p
}

func readResult(path string) (result, error) {
	var res result
	b, err := os.ReadFile(path)
	if err != nil {
		return res, fmt.Errorf("gremlins result: %w", err)
	}
	if err := json.Unmarshal(b, &res); err != nil {
		return res, fmt.Errorf("gremlins result %s: %w", path, err)
	}
	return res, nil
}

// checkedCoverage is the mutator coverage counting as covered the
// not-covered mutants that equivalent.txt notes were checked by hand (a
// constant expression or the case of a tagless switch has no coverage
// block for gremlins; the note says which test kills the mutant).
func checkedCoverage(r pkgReport) float64 {
	checked := 0
	for _, id := range r.NotCovered {
		if _, ok := r.Equivalent[id]; ok {
			checked++
		}
	}
	all := r.Res.Killed + r.Res.Lived + r.Res.NotCovered
	if all == 0 {
		return 100
	}
	return 100 * float64(r.Res.Killed+r.Res.Lived+checked) / float64(all)
}

// effectiveEfficacy is the efficacy with the equivalent survivors (which
// no test can kill) left out of the denominator.
func effectiveEfficacy(r pkgReport) float64 {
	eq := 0
	for _, id := range r.Lived {
		if _, ok := r.Equivalent[id]; ok {
			eq++
		}
	}
	d := r.Res.Killed + r.Res.Lived - eq
	if d <= 0 {
		return 100
	}
	return 100 * float64(r.Res.Killed) / float64(d)
}

// readEquivalent reads "package file:line:col TYPE<TAB>reason" lines.
func readEquivalent(path string) (map[string]string, error) {
	m := map[string]string{}
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return m, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, why, ok := strings.Cut(line, "\t")
		if !ok || strings.TrimSpace(why) == "" {
			return nil, fmt.Errorf("%s:%d: want \"package file:line:col TYPE<TAB>reason\"", path, n)
		}
		m[strings.Join(strings.Fields(key), " ")] = strings.TrimSpace(why)
	}
	return m, sc.Err()
}

func render(reports []pkgReport, asked []string, prev string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Mutation testing\n\n")
	fmt.Fprintf(&b, "Written by `make mutation` (internal/mutation, gremlins v0.6.0, default mutators: arithmetic, conditionals boundary and negation, increment/decrement, invert negatives) on %s, %s/%s, one worker, one CPU per test run, the package's tests with `-short -count=1`. Load when written: %s.\n\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), runtime.GOOS, runtime.GOARCH, loadavg())
	b.WriteString("Efficacy = killed / (killed + lived); *w/o equiv.* leaves the equivalent survivors (listed with their reason, no test can tell them apart) out. Mutator coverage = (killed + lived) / (killed + lived + not covered); *hand-checked* counts as covered the not-covered mutants run by hand against the tests (each listed with the test that kills it: gremlins finds no coverage block for a constant expression or the case of a tagless switch). A mutant that does not compile (a string \"+\" made \"-\": gremlins v0.6.0 counts the build failure as a kill) is *not viable*, found by compiling each killed \"+\" mutant after the run, and is out of both figures. A mutant that makes the tests run past gremlins' timeout (an endless loop, a wait that never ends) is *timed out*: detected, but counted by gremlins in neither figure. Aim: both ≥ 90 % (`make mutation` checks *w/o equiv.* and *hand-checked*).\n\n")
	b.WriteString("| package | files (tests) | mutants | killed | not viable | timed out | lived | not covered | efficacy | w/o equiv. | mutator coverage | hand-checked | time |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range reports {
		files := cmp.Or(r.Files, "all")
		if r.Run != "" {
			files += " (" + r.Run + ")"
		}
		files = strings.ReplaceAll(files, "|", `\|`)
		if r.Union != "" {
			fmt.Fprintf(&b, "| %s | %s | %d | %d | %d | %d | %d | %d | %.1f %% | %.1f %% | %.1f %% | %.1f %% | %.0f s |\n", r.Dir, strings.ReplaceAll(r.Union, "|", `\|`), r.Res.Killed+r.Res.NotViable+r.TimedOut+r.Res.Lived+r.Res.NotCovered,
				r.Res.Killed, r.Res.NotViable, r.TimedOut, r.Res.Lived, r.Res.NotCovered, r.Res.Efficacy, effectiveEfficacy(r), r.Res.Coverage, checkedCoverage(r), r.Res.Elapsed)
			continue
		}
		if row, _ := earlier(prev, r.Dir, files); r.NoResult && row != "" {
			b.WriteString(row)
			continue
		}
		if r.Err != nil {
			fmt.Fprintf(&b, "| %s | %s | — | — | — | — | — | — | not run: %s | | | | |\n", r.Dir, files, strings.ReplaceAll(r.Err.Error(), "|", `\|`))
			continue
		}
		fmt.Fprintf(&b, "| %s | `%s` | %d | %d | %d | %d | %d | %d | %.1f %% | %.1f %% | %.1f %% | %.1f %% | %.0f s |\n", r.Dir, files, r.Res.Killed+r.Res.NotViable+r.TimedOut+r.Res.Lived+r.Res.NotCovered,
			r.Res.Killed, r.Res.NotViable, r.TimedOut, r.Res.Lived, r.Res.NotCovered, r.Res.Efficacy, effectiveEfficacy(r), r.Res.Coverage, checkedCoverage(r), r.Res.Elapsed)
	}
	for _, r := range reports {
		if r.NoResult {
			files := cmp.Or(r.Files, "all")
			if r.Run != "" {
				files += " (" + r.Run + ")"
			}
			if _, sec := earlier(prev, r.Dir, strings.ReplaceAll(files, "|", `\|`)); sec != "" {
				b.WriteString(sec)
			}
			continue
		}
		if r.Union != "" || r.Err != nil || len(r.Lived)+len(r.NotCovered)+len(r.TimedOutIDs)+len(r.Res.Rechecked) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n## %s %s\n", r.Dir, r.Files)
		for _, lg := range r.Res.Rechecked {
			if strings.HasSuffix(lg.Commit, "(compiled only)") {
				fmt.Fprintf(&b, "\nAfter the gremlins run (%s): %d killed mutants do not compile (a string \"+\" made \"-\"): not viable, out of both figures.\n", lg.At, lg.NotViable)
				continue
			}
			fmt.Fprintf(&b, "\nRechecked %s at `%s` (load %s): the %d survivors and newly reached not-covered mutants run again against the tests of that commit (`internal/mutation -recheck`): %d killed, %d alive, %d not viable, %d timed out.\n",
				lg.At, lg.Commit, lg.Load, lg.Rechecked, lg.Killed, lg.Lived, lg.NotViable, lg.TimedOut)
		}
		writeList(&b, "Survivors", r.Lived, r.Equivalent, "equivalent: ")
		writeList(&b, "Timed out", r.TimedOutIDs, r.Equivalent, "")
		writeList(&b, "Not covered by any test", r.NotCovered, r.Equivalent, "")
	}
	return b.String()
}

var writtenRE = regexp.MustCompile(`Written by .*? on (\d{4}-\d\d-\d\d \d\d:\d\d UTC)`)

// earlier finds a package's table row and survivor section in an earlier
// report, for a package whose stored result is missing (a partial -reuse
// must not erase figures measured before). The row is marked with the
// date of that report; a row of the earlier 11-column table gets an
// empty hand-checked column.
func earlier(prev, dir, files string) (row, section string) {
	when := "an earlier report"
	if m := writtenRE.FindStringSubmatch(prev); m != nil {
		when = "the report of " + m[1]
	}
	for _, line := range strings.Split(prev, "\n") {
		if !strings.HasPrefix(line, "| "+dir+" | `"+files+"` |") {
			continue
		}
		cells := strings.Split(strings.TrimSuffix(line, " |"), " | ")
		if len(cells) == 11 { // no hand-checked column yet
			cells = append(cells[:10], "—", cells[10])
		}
		if len(cells) == 12 { // no not-viable column yet
			cells = slices.Insert(cells, 4, "—")
		}
		if !strings.Contains(cells[len(cells)-1], "(from ") { // kept before: its date stays
			cells[len(cells)-1] += " (from " + when + ")"
		}
		row = strings.Join(cells, " | ") + " |\n"
		break
	}
	head := "\n## " + dir + " " + cmp.Or(strings.Split(files, " (")[0], "") + "\n"
	if files == "all" {
		head = "\n## " + dir + " \n"
	}
	if i := strings.Index(prev, head); i >= 0 {
		rest := prev[i+len(head):]
		end := len(rest)
		if j := strings.Index(rest, "\n## "); j >= 0 {
			end = j
		}
		section = head + rest[:end]
	}
	return row, section
}

// writeList writes a titled list of mutants, each with its note if any.
func writeList(b *strings.Builder, title string, ids []string, notes map[string]string, notePrefix string) {
	if len(ids) == 0 {
		return
	}
	fmt.Fprintf(b, "\n%s:\n\n", title)
	slices.Sort(ids)
	for _, id := range ids {
		if why, ok := notes[id]; ok {
			fmt.Fprintf(b, "- `%s`: %s%s\n", id, notePrefix, why)
		} else {
			fmt.Fprintf(b, "- `%s`\n", id)
		}
	}
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
