#!/usr/bin/env bash
# build.sh builds the ollama server v0.17.4 from its Go module, with cgo, and prints the
# path of the binary on its last line of standard output. A second run reuses the binary
# cached under ${XDG_CACHE_HOME:-$HOME/.cache}/lockchat/ollama-v0.17.4/.
#
# Why not "go install": module zips leave out vendor/ folders, so three headers that
# llama.cpp includes are missing from the module. Two come from Debian (nlohmann-json3-dev,
# libstb-dev); the third, miniaudio.h v0.11.24, is not in Debian bookworm and comes from
# the npm package nodejs-whisper@0.3.1, which ships it inside whisper.cpp. Its checksum
# is pinned below. The module is copied out of the read-only module cache, the header is
# added under llama/llama.cpp/vendor/miniaudio/, and "go build ." compiles llama.cpp and
# the ggml CPU backend (about 180 C/C++ files; 4 to 7 minutes cold on 2 cores).
#
# Progress goes to standard error; only the binary's path goes to standard output.
set -euo pipefail

version=v0.17.4
cache=${XDG_CACHE_HOME:-$HOME/.cache}/lockchat/ollama-$version
bin=$cache/ollama
miniaudio_npm=nodejs-whisper@0.3.1
miniaudio_path=package/cpp/whisper.cpp/examples/miniaudio.h
miniaudio_sha256=c029554572ae71a94b7825ef1ab9bd7e646344a79e2e852a03f8b18e428c1443

log() { echo "ollama build: $*" >&2; }

# A cached binary is reused only if it runs and says it is this version.
if [ -x "$bin" ] && "$bin" --version 2>&1 | grep -q "${version#v}"; then
  log "reusing $bin"
  echo "$bin"
  exit 0
fi

# The two Debian headers. "apt-get update" only when something is missing, so a warm
# machine does not touch the network.
if [ ! -f /usr/include/nlohmann/json.hpp ] || [ ! -f /usr/include/stb/stb_image.h ]; then
  log "installing nlohmann-json3-dev and libstb-dev"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    nlohmann-json3-dev libstb-dev >&2
fi
for tool in go gcc g++ npm tar sha256sum; do
  command -v "$tool" >/dev/null || { log "$tool is required"; exit 1; }
done

work=$(mktemp -d)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

# The module's source, from the Go module proxy (verified against the checksum database
# like any module download).
log "downloading github.com/ollama/ollama@$version"
dir=$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "github.com/ollama/ollama@$version" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -d "$dir" ] || { log "go mod download gave no source directory"; exit 1; }
src=$work/ollama
cp -R "$dir" "$src"
chmod -R u+w "$src"

# miniaudio.h from npm, checked against the pinned checksum before use.
log "fetching miniaudio.h from npm $miniaudio_npm"
(cd "$work" && npm pack "$miniaudio_npm" --silent >/dev/null)
tar -xzf "$work"/nodejs-whisper-*.tgz -C "$work" "$miniaudio_path"
got=$(sha256sum "$work/$miniaudio_path" | cut -d' ' -f1)
if [ "$got" != "$miniaudio_sha256" ]; then
  log "miniaudio.h has sha256 $got, want $miniaudio_sha256"
  exit 1
fi
mkdir -p "$src/llama/llama.cpp/vendor/miniaudio"
cp "$work/$miniaudio_path" "$src/llama/llama.cpp/vendor/miniaudio/miniaudio.h"

# The build itself, with the version stamped as the release scripts do.
log "compiling (cgo: llama.cpp and the ggml CPU backend)"
mkdir -p "$cache"
(cd "$src" && CGO_ENABLED=1 GOFLAGS=-mod=mod go build -trimpath \
  -ldflags "-s -w -X=github.com/ollama/ollama/version.Version=${version#v} -X=github.com/ollama/ollama/server.mode=release" \
  -o "$bin.tmp" .)
mv "$bin.tmp" "$bin"
"$bin" --version >&2 || true
echo "$bin"
