# ExamKiosk. The two commands a newcomer needs (README.md):
#   make run    install what is missing, build, start the kiosk's embedded demo
#   make test   install what is missing, run every test (what .ci/run runs)
SHELL := /bin/bash
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:

# dlib's matrix code is fastest here on one OpenBLAS thread per process
# (docs/BENCHMARKS.md); the kiosk runs analysis on its own goroutines.
export OPENBLAS_NUM_THREADS := 1
# Real face photos and clips for the face and camera tests (skipped if absent).
export EXAMKIOSK_FACES ?= $(abspath $(CURDIR)/../shared/faces)

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.1.0-dev)
LDFLAGS := -X main.version=$(VERSION)
GO_SRC := $(shell find . -name '*.go' -not -path './frontend/*' -not -path './.git/*') go.mod go.sum
UI_SRC := $(shell find frontend/src frontend/e2e -type f) frontend/index.html frontend/vite.config.ts \
	frontend/tsconfig.json frontend/package-lock.json
# Three test binaries at a time on two cores: several packages spend much of
# their time waiting (the window test on Xvfb, the real-time camera steps,
# the PostgreSQL and fault-proxy tests), so a third keeps the CPU busy.
GO_TEST_FLAGS ?= -count=1 -p 3 -timeout 25m
ARTIFACTS ?= $(CURDIR)/bin/artifacts


.PHONY: help setup models run build build-dev bindings test test-go test-ui e2e fuzz clean lint

help:
	@echo "make run     install what is missing, build, start the kiosk demo (replay camera, local central)"
	@echo "make test    install what is missing, then Go tests, UI unit tests, end-to-end and window smoke tests"
	@echo "make build   bin/examkiosk (production, needs: make setup)"
	@echo "make setup   Debian packages, face models, demo clip, npm packages (only what is missing)"

setup:
	@build/setup.sh all

models:
	@build/setup.sh models

# TypeScript types of the bound Go methods (frontend/wailsjs), written by a
# bindings build of the kiosk itself: no Wails CLI needed.
bindings: bin/.bindings
bin/.bindings: $(filter ./app/% ./main.go ./bindings.go,$(GO_SRC))
	@mkdir -p bin
	go build -tags bindings -o bin/examkiosk-bindings .
	bin/examkiosk-bindings >bin/bindings.log 2>&1 || { cat bin/bindings.log; exit 1; }
	@touch $@

frontend/dist/index.html: $(UI_SRC) bin/.bindings
	cd frontend && npm run build

bin/examkiosk: frontend/dist/index.html $(GO_SRC)
	go build -tags desktop,production -trimpath -ldflags "$(LDFLAGS)" -o $@ .

bin/examkiosk-dev: frontend/dist/index.html $(GO_SRC)
	go build -tags dev -ldflags "$(LDFLAGS)" -o $@ .

build: bin/examkiosk
build-dev: bin/examkiosk-dev

run: setup build
	@build/run-demo.sh bin/examkiosk

# Each step runs even when one before failed; the last line says what
# passed, with each step's seconds. The fuzz targets' seed corpora run with
# test-go; longer fuzzing is `make fuzz` (it doubled the time of make test).
# The browser journey (e2e) runs beside the other steps: it waits on a
# camera that plays in real time and on the screens, so most of its minute
# is wall-clock time the Go tests use for CPU (its output is printed once it
# ends, after the other steps'). Measured in docs/BENCHMARKS.md.
TEST_STEPS := lint test-go
TEST_BESIDE := e2e
# Steps that need the builds but no other step: they start beside the
# rest once the builds are done (at test-go's end only device/face's
# single thread runs, and a core would wait idle for them).
TEST_LATE := test-ui
# The Go builds run beside lint (a link is mostly one core's work, and so
# is vue-tsc): the steps after lint wait for them. e2e builds its dev
# binary itself; the UI is built first, once, for all of them.
TEST_BUILDS = bin/examkiosk $(PKG_DIR)/examkiosk
TEST_BEFORE_BUILDS := lint
test: setup frontend/dist/index.html
	@start=$$(date +%s); passed=; failed=; mkdir -p bin; \
	TIMEFORMAT="--- CPU: %U s user + %S s sys in %R s"; \
	: "each timed in a subshell of its own: the CPU of the steps beside is not counted in it"; \
	( t0=$$(date +%s); { time $(MAKE) --no-print-directory $(TEST_BUILDS) >bin/builds.log 2>&1; } 2>>bin/builds.log; echo "$$? $$(( $$(date +%s) - t0 ))" >bin/builds.rc ) & builds=$$!; \
	for s in $(TEST_BESIDE); do \
	  ( t0=$$(date +%s); { time $(MAKE) --no-print-directory $$s >bin/$$s.log 2>&1; } 2>>bin/$$s.log; echo "$$? $$(( $$(date +%s) - t0 ))" >bin/$$s.rc ) & \
	done; \
	for s in $(TEST_STEPS); do \
	  case " $(TEST_BEFORE_BUILDS) " in *" $$s "*) ;; *) if [ -n "$$builds" ]; then \
	    wait $$builds; builds=; cat bin/builds.log; read rc secs <bin/builds.rc; \
	    if [ "$$rc" = 0 ]; then passed="$$passed builds($${secs}s)"; else failed="$$failed builds"; fi; \
	    for l in $(TEST_LATE); do \
	      ( t0=$$(date +%s); { time $(MAKE) --no-print-directory $$l >bin/$$l.log 2>&1; } 2>>bin/$$l.log; echo "$$? $$(( $$(date +%s) - t0 ))" >bin/$$l.rc ) & \
	    done; \
	  fi;; esac; \
	  t0=$$(date +%s); \
	  echo "--- $$s"; if ( time $(MAKE) --no-print-directory $$s ); then passed="$$passed $$s($$(( $$(date +%s) - t0 ))s)"; else failed="$$failed $$s"; fi; \
	done; \
	wait; \
	for s in $(TEST_LATE) $(TEST_BESIDE); do \
	  echo "--- $$s (ran beside the steps above)"; cat bin/$$s.log; read rc secs <bin/$$s.rc; \
	  if [ "$$rc" = 0 ]; then passed="$$passed $$s($${secs}s)"; else failed="$$failed $$s"; fi; \
	done; \
	echo "make test: $$([ -z "$$failed" ] && echo PASS || echo FAIL) in $$(( $$(date +%s) - start )) s; passed:$${passed:- none}$${failed:+; FAILED:$$failed}"; \
	[ -z "$$failed" ]

# The longest packages first (go test starts packages in the order it is
# given them; ./... adds the rest once): device/face's two minutes then run
# beside the others instead of after them. Then the others by their wall
# time (docs/BENCHMARKS.md, CI section), so that none of them ends last.
GO_TEST_FIRST := ./device/face ./app ./test/window ./app/store ./sync/central ./sync/kiosk ./cmd/facecheck ./app/delivery_test
test-go:
	EXAMKIOSK_BIN=$(CURDIR)/bin/examkiosk EXAMKIOSK_ARTIFACTS=$(ARTIFACTS) go test $(GO_TEST_FLAGS) $(GO_TEST_FIRST) ./...

test-ui:
	cd frontend && npx vitest run

# Test 4 hung in page.close of the phone tab in 3 of ~25 runs (the phone now
# runs in a browser of its own); a failure is retried once, loudly, with the
# first run's diagnostics printed, so that a flake is told from a failure.
e2e: build-dev
	EXAMKIOSK_ARTIFACTS=$(ARTIFACTS) build/e2e.sh bin/examkiosk-dev || { \
	  echo "e2e: FAILED once (diagnostics above); running it again to tell a flake from a failure" >&2; \
	  EXAMKIOSK_ARTIFACTS=$(ARTIFACTS) build/e2e.sh bin/examkiosk-dev; }

# A short run of each parser fuzz target on every test run (longer: FUZZTIME=5m make fuzz).
FUZZTIME ?= 10s
FUZZ_TARGETS := device/face:FuzzValidatePhoto:2 app/registration:FuzzParseIDNumber:1 sync/wire:FuzzPushBinary:1 \
	device/camera:FuzzEnsureHuffman:1 device/camera:FuzzMJPEGReader:1
# central security, part A (issue #10): the unsigned forms of browsers and providers
FUZZ_TARGETS += sync/central:FuzzForms:1
# The ID-number rule against an independent MOD 11-2 oracle (idnumber/table_test.go).
FUZZ_TARGETS += idnumber:FuzzParse:1
fuzz:
	@set -e; mkdir -p bin; for t in $(FUZZ_TARGETS); do \
	  pkg=$${t%%:*}; rest=$${t#*:}; name=$${rest%%:*}; mult=$${rest#*:}; \
	  ft=$(FUZZTIME); secs=$$(( $${ft%s} * mult ))s; \
	  echo "fuzz $$name ($$pkg, $$secs)"; \
	  if ! go test -run '^$$' -fuzz "^$$name\$$" -fuzztime $$secs ./$$pkg >bin/fuzz.log 2>&1; then \
	    cat bin/fuzz.log; exit 1; fi; tail -n 1 bin/fuzz.log; \
	done

# --- checks (make test runs them first) ---
# Every Go command of this Makefile builds with -trimpath, as the production
# build must: tests, the dev build and the production build then share one
# build cache, and dlib's cgo code is compiled once, not once per path mode.
export GOFLAGS := -trimpath
STATICCHECK ?= $(or $(shell command -v staticcheck),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/examkiosk/tools/staticcheck)

# go vet with -trimpath reads a cgo package's raw files at the path of the
# checkout that first filled the shared build cache; when that checkout is
# gone (a removed worktree) vet fails with "can't parse raw cgo file". Only
# then is vet run again without -trimpath (its cache keyed by this path):
# a real finding fails both runs.
lint: bin/.bindings
	@go vet ./... 2>bin/vet.log || { cat bin/vet.log; \
	  if grep -q "can't parse raw cgo file" bin/vet.log; then echo "go vet: again without -trimpath (a cached cgo file names a checkout that is gone)"; GOFLAGS= go vet ./...; else exit 1; fi; }
	$(STATICCHECK) ./...
	@bad=$$(gofmt -l $$(git ls-files '*.go')); [ -z "$$bad" ] || { echo "gofmt -l: not formatted:"; echo "$$bad"; exit 1; }
	cd frontend && npx vue-tsc --noEmit
# The central's whole suite on PostgreSQL (issue #11); test-go already runs
# the shared store suite and the table-of-stores tests on both stores.
test-central-pg:
	EXAMKIOSK_CENTRAL_STORE=postgres go test $(GO_TEST_FLAGS) ./sync/central/... ./cmd/central/

clean:
	rm -rf bin frontend/dist/assets frontend/dist/index.html

# ---- Packages (issue 13; README "Install on a kiosk box") -------------------
# make package        bin/pkg/examkiosk_<v>_amd64.deb, bin/pkg/examkiosk-central_<v>_amd64.deb
# make package-test   installs them into a throwaway root and checks them (about
#                     2-4 min on 2 cores: the portable cgo build, an emulated
#                     older CPU, Xvfb); not part of `make test`, see README.
# The kiosk binary is built with build/package/cxx-portable as the C++
# compiler: go-face's "-march=native" would tie it to the build host's CPU.
PKG_VERSION ?= 0.1.0+$(shell git rev-list --count HEAD 2>/dev/null || echo 0).g$(shell git rev-parse --short HEAD 2>/dev/null || echo 0)
PKG_DIR := bin/pkg
PKG_MODELS ?= $(or $(EXAMKIOSK_MODELS),$(or $(XDG_DATA_HOME),$(HOME)/.local/share)/examkiosk/models)
PKG_ORT ?= $(or $(EXAMKIOSK_ORT_DIR),$(or $(XDG_DATA_HOME),$(HOME)/.local/share)/examkiosk/onnxruntime)
# The wrapper is named, not given by path, and found on PATH: Go keys its
# build cache on $CXX as written, so a clone in another directory reuses the
# portable cgo build instead of compiling dlib's templates again.
PKG_CXX := cxx-portable
PKG_PATH := $(CURDIR)/build/package:$(PATH)

.PHONY: package package-test

$(PKG_DIR)/examkiosk: frontend/dist/index.html $(GO_SRC) build/package/cxx-portable
	PATH="$(PKG_PATH)" CXX=$(PKG_CXX) go build -tags desktop,production -trimpath -ldflags "-X main.version=$(PKG_VERSION)" -o $@ .

$(PKG_DIR)/facecheck: $(GO_SRC) build/package/cxx-portable
	PATH="$(PKG_PATH)" CXX=$(PKG_CXX) go build -trimpath -o $@ ./cmd/facecheck

$(PKG_DIR)/examkiosk-central: $(GO_SRC)
	go build -trimpath -o $@ ./cmd/central

package: models $(PKG_DIR)/examkiosk $(PKG_DIR)/examkiosk-central
	@rm -f $(PKG_DIR)/*.deb
	cd build/package && SOURCE_DATE_EPOCH=$$(git log -1 --format=%ct) go run . --version $(PKG_VERSION) \
	  --out $(CURDIR)/$(PKG_DIR) --repo $(CURDIR) --kiosk $(CURDIR)/$(PKG_DIR)/examkiosk --central $(CURDIR)/$(PKG_DIR)/examkiosk-central \
	  --models $(PKG_MODELS) --ort $(PKG_ORT)

package-test: package $(PKG_DIR)/facecheck bin/facecheck-native
	cd build/package && EXAMKIOSK_PKG_DIR=$(CURDIR)/$(PKG_DIR) EXAMKIOSK_REPO=$(CURDIR) EXAMKIOSK_NATIVE_FACECHECK=$(CURDIR)/bin/facecheck-native \
	  EXAMKIOSK_ARTIFACTS=$(ARTIFACTS) go test -count=1 -timeout 20m -v .

# The same face code built the default way: the portability test's
# negative control (it must fail on the emulated older CPU).
bin/facecheck-native: $(GO_SRC)
	go build -o $@ ./cmd/facecheck

# make package-check (a step of `make test`): the packaging checks that cost
# seconds, on packages of the portable kiosk binary (the one `make package`
# ships; warm, only a link) made without compression: each package is
# installed into a throwaway root (dpkg --root), the units pass
# systemd-analyze verify, the shipped binary's machine code is inspected for
# instructions above x86-64-v2 (objdump; bin/examkiosk, built the default
# -march=native way, is the negative control) and the binary taken out of
# the package renders the welcome screen under Xvfb with the packaged
# models. The emulated older CPU (qemu, about 2 minutes) stays in `make
# package-test` (.ci/package). Measured in docs/BENCHMARKS.md.
PKG_CHECK_DIR := bin/pkg-check
.PHONY: package-check
TEST_LATE += package-check
$(PKG_CHECK_DIR)/examkiosk-central: $(GO_SRC)
	go build -trimpath -o $@ ./cmd/central

package-check: models bin/examkiosk $(PKG_DIR)/examkiosk $(PKG_CHECK_DIR)/examkiosk-central
	@rm -f $(PKG_CHECK_DIR)/*.deb
	cd build/package && SOURCE_DATE_EPOCH=$$(git log -1 --format=%ct) go run . --version $(PKG_VERSION) --compression none \
	  --out $(CURDIR)/$(PKG_CHECK_DIR) --repo $(CURDIR) --kiosk $(CURDIR)/$(PKG_DIR)/examkiosk --central $(CURDIR)/$(PKG_CHECK_DIR)/examkiosk-central \
	  --models $(PKG_MODELS) --ort $(PKG_ORT) >/dev/null
	cd build/package && EXAMKIOSK_PKG_DIR=$(CURDIR)/$(PKG_CHECK_DIR) EXAMKIOSK_REPO=$(CURDIR) EXAMKIOSK_NATIVE_BIN=$(CURDIR)/bin/examkiosk \
	  EXAMKIOSK_ARTIFACTS=$(ARTIFACTS) go test -count=1 -run '^Test(KioskPackage|CentralPackage|UnitsVerify|NoHostOnlyInstructions|InstalledKioskRenders)$$' .
# Mutation testing (docs/MUTATION.md; issue 15). `make test` runs only the
# fastest packages (make mutation-ci, below): the full set takes well over
# an hour. Run it before changing a rule or a promise;
# a subset: make mutation MUTATION_PKGS="idnumber sync/seal".
# -min 90: efficacy (equivalent survivors excluded) and mutator coverage.
GREMLINS_VERSION := v0.6.0
MUTATION_PKGS ?=
MUTATION_MIN ?= 90
.PHONY: mutation
bin/gremlins:
	@mkdir -p bin
	GOBIN=$(CURDIR)/bin go install github.com/go-gremlins/gremlins/cmd/gremlins@$(GREMLINS_VERSION)

mutation: bin/gremlins
	go run ./internal/mutation -gremlins bin/gremlins -out docs/MUTATION.md -min $(MUTATION_MIN) $(MUTATION_PKGS)

# After tests are added for survivors: run only the stored results'
# survivors again (internal/mutation -recheck), not the whole set.
.PHONY: mutation-recheck
mutation-recheck:
	go run ./internal/mutation -recheck -out docs/MUTATION.md -min $(MUTATION_MIN) $(MUTATION_PKGS)

# make mutation-ci (a step of `make test`, beside the others like e2e): the
# packages whose mutation run costs seconds of CPU, with the same 90 % gate
# (idnumber, sync/wire, exam's photo rules: docs/MUTATION.md "What CI runs"), then gates every stored result;
# the report goes to bin/mutation-ci (docs/MUTATION.md is written by `make
# mutation`). gremlins copies the whole module for its runs: it gets the
# tracked files without the UI (3 MB instead of the worktree's ~500 MB with
# node_modules and binaries, which cost ~20 s of CPU in copying alone).
# docs/MUTATION.md "What CI runs" says which packages and what they cost.
MUTATION_CI_PKGS ?= idnumber sync/wire exam=^photo\.go$$
MUTATION_CI_DIR := bin/mutation-ci
.PHONY: mutation-ci
TEST_BESIDE += mutation-ci
mutation-ci: bin/gremlins
	@rm -rf $(MUTATION_CI_DIR) && mkdir -p $(MUTATION_CI_DIR)/src
	@git ls-files -z | grep -zv '^frontend/' | xargs -0 cp --parents -t $(MUTATION_CI_DIR)/src
	@# nice: this step ends a minute and more before test-go, whose
	@# device/face package is make test's longest path.
	cd $(MUTATION_CI_DIR)/src && nice -n 10 go run ./internal/mutation -gremlins $(CURDIR)/bin/gremlins -out $(CURDIR)/$(MUTATION_CI_DIR)/MUTATION.md \
	  -work $(CURDIR)/$(MUTATION_CI_DIR) -results $(CURDIR)/$(MUTATION_CI_DIR) -min $(MUTATION_MIN) $(foreach p,$(MUTATION_CI_PKGS),'$(p)')
	@# The stored results of every package (docs/MUTATION.md's figures) must
	@# still describe the code (a result whose mutants' operators moved is
	@# stale: run its set again) and pass the same gate.
	cd $(MUTATION_CI_DIR)/src && go run ./internal/mutation -reuse -out $(CURDIR)/$(MUTATION_CI_DIR)/STORED.md \
	  -work $(CURDIR)/$(MUTATION_CI_DIR)/stored -min $(MUTATION_MIN)

# ---- Failover (issue 11, item 5; test/failover) ------------------------------
# The full season: 10,000 registrations from 20 kiosks through the fault
# proxy to two `central serve` processes on one throwaway PostgreSQL, a node
# SIGKILLed mid-drain, then PostgreSQL restarted mid-drain. `make test`
# (test-go) runs the same test with 1,000 registrations.
.PHONY: test-failover
test-failover:
	EXAMKIOSK_FAILOVER_FULL=1 go test -count=1 -timeout 20m -v -run TestSeasonPeakUnderFaults ./test/failover/
