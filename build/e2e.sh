#!/usr/bin/env bash
# End-to-end test: the kiosk built with the Wails dev tag serves its web UI
# with the real Go bindings on 127.0.0.1 (the same server `wails dev` uses),
# and headless Debian Chromium, driven by playwright-core, walks the
# candidate's journey from the welcome screen to the receipt and on to paid,
# with the reference central as a process of its own (frontend/e2e/*.test.mjs).
#
#   build/e2e.sh [path to a dev-tag binary]   (default bin/examkiosk-dev)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${1:-$ROOT/bin/examkiosk-dev}
[ -x "$BIN" ] || { echo "e2e: $BIN missing: run make build-dev" >&2; exit 1; }
[ -f "$ROOT/frontend/dist/index.html" ] || { echo "e2e: the web UI is not built: run make build" >&2; exit 1; }

. "$ROOT/build/lib.sh"

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

[ -n "${DISPLAY:-}" ] || start_xvfb

port=$(free_port)
export E2E_ARTIFACTS=${EXAMKIOSK_ARTIFACTS:-$work}
mkdir -p "$E2E_ARTIFACTS"
# The kiosk's log is kept with the artifacts: a face step that fails or
# needs a second attempt says why there (liveness failed, reason=...).
log="$E2E_ARTIFACTS/kiosk.log"
# The embedded demo, as `make run` starts it, with its data in a scratch
# folder: replay camera (the demo clip from build/setup.sh media), the
# reference central (below), enrolment with the demo code.
centre=$("$BIN" --demo --print-config | sed -n 's/^  name = "\(.*\)"$/\1/p' | head -n 1)
clip=$("$BIN" --demo --print-config | sed -n 's/^  device = "replay:\(.*\)"$/\1/p' | head -n 1)
[ -s "$clip" ] || { echo "e2e: the demo clip $clip is missing: run build/setup.sh media" >&2; exit 1; }

# The reference central runs as a process of its own, with its demo data,
# on a free port: the demo kiosk uses a central already answering at its
# central URL (--central), a test can stop it and start it again (the
# offline path), and e2e runs elsewhere on the machine do not share it.
(cd "$ROOT" && GOFLAGS=${GOFLAGS:--trimpath} go build -o "$work/central" ./cmd/central) # -trimpath: the Makefile's build cache
cport=$(free_port)
central="http://127.0.0.1:$cport"
central_cmd=("$work/central" serve --demo --addr "127.0.0.1:$cport" --public-url "$central" --data "$work/central-data")
"${central_cmd[@]}" >"$E2E_ARTIFACTS/central.log" 2>&1 &
echo $! >"$work/central.pid"
# The test may have replaced it with a central of its own: stop whichever runs.
trap 'kill "$(cat "$work/central.pid" 2>/dev/null)" 2>/dev/null || true; cleanup' EXIT
up() { node -e 'fetch(process.argv[1]).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "$central/healthz"; }
for _ in $(seq 1 100); do up && break; sleep 0.1; done
up || { echo "e2e: the central did not start: $(tail -n 5 "$E2E_ARTIFACTS/central.log")" >&2; exit 1; }

# Wails' dev build reads these from the environment: serve the built UI
# from disk with the bindings on this address.
devserver="127.0.0.1:$port" assetdir="$ROOT/frontend/dist" loglevel=Warning \
  "$BIN" --demo --central "$central" --data "$work/data" >"$log" 2>&1 &
pids+=($!)

# A second kiosk, left alone on its login screen, for the idle timeout: the
# demo's configuration with kiosk.idle_seconds at its smallest, 15 s (the
# journeys need the default: a face check is no input). It runs at the
# lowest priority, so that it takes no time from the first kiosk's face
# checks; its test only waits. It has a demo central of its own (a demo
# central's enrolment code enrols one kiosk).
idle=15
icport=$(free_port)
nice -n 19 "$work/central" serve --demo --addr "127.0.0.1:$icport" --public-url "http://127.0.0.1:$icport" \
  --data "$work/central-idle" >"$E2E_ARTIFACTS/central-idle.log" 2>&1 &
pids+=($!)
"$BIN" --demo --print-config | sed -e "s/^  idle_seconds = .*/  idle_seconds = $idle/" -e 's/^  staff_pin_hash = .*/  staff_pin_hash = ""/' >"$work/idle.toml"
iport=$(free_port)
devserver="127.0.0.1:$iport" assetdir="$ROOT/frontend/dist" loglevel=Warning \
  nice -n 19 "$BIN" --demo --config "$work/idle.toml" --central "http://127.0.0.1:$icport" --data "$work/data-idle" >"$E2E_ARTIFACTS/kiosk-idle.log" 2>&1 &
pids+=($!)

export E2E_IDLE_URL="http://127.0.0.1:$iport/" E2E_IDLE_SECONDS=$idle
export E2E_URL="http://127.0.0.1:$port/" E2E_CENTRE="$centre" E2E_CLIP="$(basename "$clip")" E2E_CENTRAL="$central" \
  E2E_CENTRAL_PIDFILE="$work/central.pid" E2E_CENTRAL_CMD="$(printf '%s\n' "${central_cmd[@]}")"
E2E_VERSION=$("$BIN" --version)
export E2E_VERSION
# Every Playwright call is logged (DEBUG=pw:api) to a file, so a failure or
# a hang shows the last thing the test asked of the browser. No test may run
# longer than 150 s: a hang fails instead of holding CI. The files run one
# after the other (--test-concurrency=1): they share the one kiosk.
if ! (cd "$ROOT/frontend" && DEBUG=pw:api DEBUG_FILE="$E2E_ARTIFACTS/playwright.log" node --test --test-concurrency=1 --test-timeout=150000 e2e/); then
  echo "--- last Playwright calls ($E2E_ARTIFACTS/playwright.log)" >&2
  tail -n 40 "$E2E_ARTIFACTS/playwright.log" >&2
  echo "--- kiosk log" >&2
  tail -n 80 "$log" >&2
  echo "--- central log" >&2
  tail -n 20 "$E2E_ARTIFACTS/central.log" >&2
  exit 1
fi
