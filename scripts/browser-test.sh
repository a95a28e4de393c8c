#!/usr/bin/env bash
# The capture page in headless Chromium against the local stack: the page on one origin, the API
# (cargo lambda watch) on another, S3 (Garage, with template.yaml's CORS rule) on a third.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
function_env

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
page_port=$(free_port); api_port=$(free_port)
export PAGE_URL="http://localhost:$page_port" API_URL="http://127.0.0.1:$api_port"
export BROWSER_TOKEN="$DEV_TOKEN" BROWSER_MAX_BYTES=100000 PYTHON="$VENV/bin/python"
export SCREENSHOT="$ROOT/target/capture-drawer.png"

python scripts/local_aws.py cors "$PAGE_URL" "$DEV_ORIGIN"
MAX_UPLOAD_BYTES=$BROWSER_MAX_BYTES ALLOWED_ORIGINS="$PAGE_URL" \
  cargo lambda watch --invoke-address 127.0.0.1 --invoke-port "$api_port" > "$ROOT/.stack/watch-browser.log" 2>&1 &
watch_pid=$!
python3 -m http.server "$page_port" --bind 127.0.0.1 --directory web > "$ROOT/.stack/page.log" 2>&1 &
page_pid=$!
trap 'kill $watch_pid $page_pid 2>/dev/null || true; wait 2>/dev/null || true' EXIT

# Ready when the function answers (the first request waits for the build).
for _ in $(seq 600); do
  code=$(curl -s -o /dev/null -w '%{http_code}' "$API_URL/photos" || true)
  [ "$code" = 401 ] && break
  sleep 0.5
done
node --test tests/browser/
