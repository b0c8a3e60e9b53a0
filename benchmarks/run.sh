#!/usr/bin/env bash
# Runs every benchmark COUNT times (default 5) and prints the medians per client side by
# side: first the per-token and per-call benchmarks (500 ms each), then the gateway
# benchmarks (open streams, time to first token, a long answer's RSS), where one op is one
# whole measurement. Usage: benchmarks/run.sh [COUNT]
set -euo pipefail
cd "$(dirname "$0")"
export GOWORK=off # a module of its own, outside the root's workspace (go.work)
count=${1:-5}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "# $(go version); $(nproc) CPUs; $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# go test -run '^\$' -bench 'Memory|Loopback|PeakHeap|Connections|ConcurrentStreams|ShortCall' -benchmem -benchtime 500ms -count $count"
go test -run '^$' -bench 'Memory|Loopback|PeakHeap|Connections|ConcurrentStreams|ShortCall' -benchmem -benchtime 500ms -count "$count" -timeout 60m . | tee -a "$out" >&2
echo "# go test -run '^\$' -bench 'IdleStreams|FirstToken|LongAnswer' -benchtime 1x -count $count"
go test -run '^$' -bench 'IdleStreams|FirstToken|LongAnswer' -benchtime 1x -count "$count" -timeout 60m . | tee -a "$out" >&2
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
go run ./medians < "$out"
