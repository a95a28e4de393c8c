#!/usr/bin/env bash
# The capture page against the local stack: the page on one origin (built by scripts/web_build.py
# as a deploy builds it), the API (cargo lambda watch) on another, S3 (Garage, with template.yaml's
# CORS rule) on a third, and the same page on a fourth origin that ALLOWED_ORIGINS does not list.
# tests/browser/ drives headless Chromium (playwright-core); tests/engines/ drives Chromium, Firefox
# ESR and WebKitGTK through their WebDriver servers, with the page (a fifth origin) reaching the API
# through a proxy the tests can take down.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
function_env

read -r page_port other_port api_port engines_page_port < <(free_ports 4)
export PAGE_URL="http://localhost:$page_port" OTHER_PAGE_URL="http://127.0.0.1:$other_port"
export API_URL="http://127.0.0.1:$api_port"
export ENGINES_PAGE_URL="http://localhost:$engines_page_port"
# 8 MB: room for the camera-sized photos whose strip bytes the tests measure.
export BROWSER_TOKEN="$DEV_TOKEN" BROWSER_MAX_BYTES=8000000 PYTHON="$VENV/bin/python"
export SCREENSHOT="$ROOT/target/capture-drawer.png" S3_ORIGIN="$AWS_ENDPOINT_URL_S3"
web_dir="$ROOT/.stack/web-browser"
python3 scripts/web_build.py --api "$API_URL" --bucket-origin "$AWS_ENDPOINT_URL_S3" --out "$web_dir"
# tests/engines/ builds its page here once its API proxy listens (the page names the proxy).
export ENGINES_WEB_DIR="$ROOT/.stack/web-engines"
rm -rf "$ENGINES_WEB_DIR" && mkdir -p "$ENGINES_WEB_DIR"

python scripts/local_aws.py cors "$PAGE_URL" "$ENGINES_PAGE_URL" "$DEV_ORIGIN"
# Garage sends no S3 notifications: the same stand-in as `make dev` runs the photo pipeline.
standin_binary
"$ROOT/.stack/qdn-photos-dev" pipeline-standin > "$ROOT/.stack/pipeline-browser.log" 2>&1 &
standin_pid=$!
# --disable-cors: the emulator's own CORS layer would answer any origin; the function's CORS
# (which mirrors the HTTP API's CorsConfiguration) is what browsers meet in production.
# Every browser test acts as the dev token's one principal: the grant limits at the template's most.
MAX_UPLOAD_BYTES=$BROWSER_MAX_BYTES ALLOWED_ORIGINS="$PAGE_URL,$ENGINES_PAGE_URL" GRANTS_PER_MINUTE=10000 GRANTS_PER_JOB_PER_DAY=1000000 \
  cargo lambda watch --disable-cors --invoke-address 127.0.0.1 --invoke-port "$api_port" \
  > "$ROOT/.stack/watch-browser.log" 2>&1 &
watch_pid=$!
python3 -m http.server "$page_port" --bind 127.0.0.1 --directory "$web_dir" > "$ROOT/.stack/page.log" 2>&1 &
page_pid=$!
python3 -m http.server "$other_port" --bind 127.0.0.1 --directory "$web_dir" > "$ROOT/.stack/other-page.log" 2>&1 &
other_pid=$!
python3 -m http.server "$engines_page_port" --bind 127.0.0.1 --directory "$ENGINES_WEB_DIR" \
  > "$ROOT/.stack/engines-page.log" 2>&1 &
engines_page_pid=$!
trap 'kill $watch_pid $standin_pid $page_pid $other_pid $engines_page_pid 2>/dev/null || true; wait 2>/dev/null || true' EXIT

# Ready when the function itself answers (the first request waits for the build): a 401 JSON.
ready=false
for _ in $(seq 1200); do
  kill -0 $watch_pid 2>/dev/null || break
  body=$(curl -s "$API_URL/photos" || true)
  if [[ "$body" == *'"code":"unauthorized"'* ]]; then ready=true; break; fi
  sleep 0.5
done
$ready || { echo "browser test: the function never answered on $API_URL" >&2; tail -30 "$ROOT/.stack/watch-browser.log" >&2; exit 1; }
# The stand-in is watching once it says so (it leaves what is already stored alone).
for _ in $(seq 600); do
  grep -q "watching" "$ROOT/.stack/pipeline-browser.log" 2>/dev/null && break
  kill -0 $standin_pid 2>/dev/null || { cat "$ROOT/.stack/pipeline-browser.log" >&2; exit 1; }
  sleep 0.5
done
for pid in $page_pid $other_pid $engines_page_pid; do
  kill -0 "$pid" 2>/dev/null || { echo "browser test: a page server exited" >&2; cat "$ROOT"/.stack/*page.log >&2; exit 1; }
done
# Arguments (test files) narrow the run: scripts/browser-test.sh tests/browser/offline.test.mjs;
# ENGINES=webkit narrows tests/engines/ to one engine.
if [ $# -gt 0 ]; then node --test "$@"; else node --test tests/browser/ tests/engines/; fi
[ $# -eq 0 ] || exit 0

# `make smoke` against this same local deployment, so it cannot rot: green with the pipeline
# running, then red, at `verified`, once the pipeline (here its stand-in) is stopped.
echo "==> make smoke against the local deployment (API, Garage, the pipeline's stand-in)"
smoke() { QDN_TOKEN="$BROWSER_TOKEN" python3 scripts/smoke.py --api "$API_URL" --origin "$PAGE_URL" --job "smoke-$$" "$@"; }
smoke
kill $standin_pid; wait $standin_pid 2>/dev/null || true
if smoke --wait 5 > "$ROOT/.stack/smoke-stopped.log"; then
  cat "$ROOT/.stack/smoke-stopped.log" >&2; echo "smoke passed with the pipeline stopped" >&2; exit 1
fi
grep -q '^FAIL  verified ' "$ROOT/.stack/smoke-stopped.log" || { cat "$ROOT/.stack/smoke-stopped.log" >&2; exit 1; }
echo "smoke with the pipeline stopped: $(grep '^FAIL' "$ROOT/.stack/smoke-stopped.log")"
