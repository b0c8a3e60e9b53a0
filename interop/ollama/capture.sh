#!/usr/bin/env bash
# capture.sh BASE_URL [OUT_DIR] sends each request in captures/requests/NAME.json to
# BASE_URL/chat/completions and saves the exact bytes of the response body as
# OUT_DIR/NAME.sse, and its status line and Content-Type as OUT_DIR/NAME.headers.
# OUT_DIR defaults to the captures/ folder beside this script. BASE_URL is what start.sh
# printed, e.g. http://127.0.0.1:PORT/v1.
set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: capture.sh BASE_URL [OUT_DIR]" >&2
  exit 2
fi
base=${1%/}
here=$(cd "$(dirname "$0")" && pwd)
out=${2:-$here/captures}
mkdir -p "$out"

for req in "$here"/captures/requests/*.json; do
  name=$(basename "$req" .json)
  headers=$(mktemp)
  curl -sS -N --max-time 60 -D "$headers" -o "$out/$name.sse" \
    -H 'Content-Type: application/json' --data-binary "@$req" "$base/chat/completions"
  # Keep the status line and the content type; dates and lengths change every run.
  { head -n 1 "$headers"; grep -i '^content-type:' "$headers"; } | tr -d '\r' >"$out/$name.headers"
  rm -f "$headers"
  echo "$name: $(head -n 1 "$out/$name.headers"), $(wc -c <"$out/$name.sse") bytes" >&2
done
