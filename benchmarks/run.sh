#!/usr/bin/env bash
# Runs every benchmark COUNT times (default 5) and prints the medians per client side by
# side. Usage: benchmarks/run.sh [COUNT]
set -euo pipefail
cd "$(dirname "$0")"
count=${1:-5}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "# $(go version); $(nproc) CPUs; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "# go test -run '^\$' -bench . -benchmem -count $count"
go test -run '^$' -bench . -benchmem -count "$count" -timeout 60m . | tee "$out" >&2
go run ./medians < "$out"
