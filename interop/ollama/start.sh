#!/usr/bin/env bash
# start.sh DIR starts a private Ollama server for lockchat's integration suite:
#   - builds the server (or reuses the cached binary) with build.sh;
#   - writes the tiny deterministic model and its Modelfiles with genmodel;
#   - starts "ollama serve" on 127.0.0.1 at a free port, with DIR/home as its HOME and
#     DIR/models as OLLAMA_MODELS, so nothing outside DIR is read or written;
#   - creates the models and waits until one of them answers a chat request.
# It writes DIR/pid (the server's process id), DIR/url (the OpenAI-compatible base URL,
# http://127.0.0.1:PORT/v1) and DIR/serve.log, and prints the URL on standard output.
# Stop the server with stop.sh DIR, also when this script fails half-way.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: start.sh DIR" >&2
  exit 2
fi
dir=$1
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$dir/home" "$dir/models" "$dir/gen"

bin=$("$here/build.sh" | tail -n 1)

echo "ollama start: writing the model" >&2
(cd "$here/genmodel" && CGO_ENABLED=0 GOWORK=off GOFLAGS=-mod=mod go run . -out "$dir/gen") # a module of its own, outside the workspace

# A free port: one that nothing answers on. Ollama fails to start if it is taken in the
# meantime, and then this script fails with its log.
port=""
for _ in $(seq 50); do
  p=$((20000 + RANDOM % 20000))
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    port=$p
    break
  fi
done
[ -n "$port" ] || { echo "ollama start: no free port found" >&2; exit 1; }
host=127.0.0.1:$port

# The server's environment: private home and model store, loopback only, every test
# model kept loaded (six models; the default keeps three and would reload them).
ollama_env=(
  HOME="$dir/home"
  OLLAMA_HOST="$host"
  OLLAMA_MODELS="$dir/models"
  OLLAMA_MAX_LOADED_MODELS=6
  OLLAMA_KEEP_ALIVE=30m
  OLLAMA_NOPRUNE=1
)
echo "ollama start: serving on $host" >&2
env "${ollama_env[@]}" "$bin" serve >"$dir/serve.log" 2>&1 &
echo $! >"$dir/pid"

ready=""
for _ in $(seq 150); do
  if curl -sf "http://$host/api/version" >/dev/null; then
    ready=1
    break
  fi
  kill -0 "$(cat "$dir/pid")" 2>/dev/null || break
  sleep 0.2
done
if [ -z "$ready" ]; then
  echo "ollama start: the server did not answer; its log:" >&2
  cat "$dir/serve.log" >&2
  exit 1
fi

for mf in "$dir"/gen/*.Modelfile; do
  name=$(basename "$mf" .Modelfile)
  if ! env "${ollama_env[@]}" "$bin" create "$name" -f "$mf" >"$dir/create.log" 2>&1; then
    echo "ollama start: creating $name failed:" >&2
    cat "$dir/create.log" >&2
    exit 1
  fi
done

# Ready means a model loads and answers, not only that the HTTP server is up.
answer=$(curl -sf --max-time 120 "http://$host/v1/chat/completions" -H 'Content-Type: application/json' \
  -d '{"model":"lockchat-text","messages":[{"role":"user","content":"hi"}]}' || true)
case $answer in
  *'"finish_reason":"stop"'*) ;;
  *)
    echo "ollama start: lockchat-text did not answer: $answer; the server's log:" >&2
    cat "$dir/serve.log" >&2
    exit 1
    ;;
esac

echo "http://$host/v1" >"$dir/url"
echo "ollama start: ready at http://$host/v1" >&2
echo "http://$host/v1"
