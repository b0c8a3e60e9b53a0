#!/usr/bin/env bash
# stop.sh DIR stops the server that start.sh DIR started, by the process id it wrote, and
# the model runners that server started (its child processes), then removes DIR. It is
# safe to call more than once and when start.sh failed before the server ran.
set -uo pipefail

if [ $# -ne 1 ]; then
  echo "usage: stop.sh DIR" >&2
  exit 2
fi
dir=$1
[ -d "$dir" ] || exit 0

if [ -f "$dir/pid" ]; then
  pid=$(cat "$dir/pid")
  # The runners are the server's children; note them before the server goes, since they
  # are re-parented once it has.
  runners=$(pgrep -P "$pid" 2>/dev/null || true)
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null
    # Ollama unloads its runners and exits on SIGTERM; give it five seconds.
    for _ in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  # A runner that outlived the server is killed; a process id that is no longer an
  # Ollama runner (it exited and the id was reused) is left alone.
  for r in $runners; do
    if [ -r "/proc/$r/cmdline" ] && tr '\0' ' ' <"/proc/$r/cmdline" | grep -q ' runner '; then
      kill -KILL "$r" 2>/dev/null || true
    fi
  done
fi
rm -rf "$dir"
