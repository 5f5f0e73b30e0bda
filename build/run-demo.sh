#!/usr/bin/env bash
# Starts the kiosk's embedded demo. With no display (a headless machine) it
# runs the real window under Xvfb and writes a screenshot of what the kiosk
# shows, printing its path; Ctrl-C stops it.
set -euo pipefail
BIN=${1:-bin/examkiosk}
shift || true
DATA_HOME=${XDG_DATA_HOME:-$HOME/.local/share}/examkiosk
if [ -n "${DISPLAY:-}" ]; then
  exec "$BIN" --demo "$@"
fi

. "$(dirname "$0")/lib.sh"
start_xvfb
echo "demo: no display here, so the kiosk runs under Xvfb on $DISPLAY"

"$BIN" --demo --ready-file "$work/ready" "$@" &
kiosk=$!
pids+=($kiosk)
for _ in $(seq 1 600); do
  [ -s "$work/ready" ] && break
  kill -0 "$kiosk" 2>/dev/null || { echo "demo: the kiosk exited; see the messages above" >&2; exit 1; }
  sleep 0.1
done
[ -s "$work/ready" ] || { echo "demo: the welcome screen did not render within 60 s" >&2; exit 1; }
shot=$DATA_HOME/demo-screenshot.png
mkdir -p "$DATA_HOME"
take() { import -display "$DISPLAY" -window root "$shot.tmp.png" && mv "$shot.tmp.png" "$shot"; }
sleep 2
take
echo "demo: the kiosk is running. Screenshot of its screen: $shot (refreshed every 5 s; Ctrl-C stops the demo)"
echo "demo: a QR login is confirmed on the phone page whose link the kiosk logs ('demo: to log in, open ...');"
echo "demo: the central's review page is http://127.0.0.1:8700/review, and the payment QR's link opens its simulated Alipay"
while kill -0 "$kiosk" 2>/dev/null; do
  sleep 5
  take || true
done
