#!/usr/bin/env bash
# `make dev`: the local stack plus the function under `cargo lambda watch` (rebuilds on save).
# Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

API_PORT=${API_PORT:-9000}
scripts/bootstrap.sh
scripts/stack.sh up
function_env
if [ "$AUTH_MODE" = tokens ]; then
  # A per-person token for this session (all jobs, one day), created the way operators do it.
  DEV_TOKEN=$(cargo run --quiet -- tokens create --name "dev-$(whoami)" --jobs '*' --days 1)
fi
# The page as a deploy builds it (scripts/web_build.py), for this stack's API and bucket.
python3 scripts/web_build.py --api "http://127.0.0.1:$API_PORT" --bucket-origin "$AWS_ENDPOINT_URL_S3" --out "$ROOT/.stack/web"
python3 -m http.server 8080 --bind 127.0.0.1 --directory "$ROOT/.stack/web" > "$ROOT/.stack/page.log" 2>&1 &
page_pid=$!
# Garage sends no S3 notifications: this stand-in polls jobs/ and runs the photo pipeline on each
# new object (thumbnails, EXIF record, type check), as the bucket's notification does on AWS.
standin_binary
"$ROOT/.stack/qdn-photos-dev" pipeline-standin > "$ROOT/.stack/pipeline.log" 2>&1 &
standin_pid=$!
trap 'kill $page_pid $standin_pid 2>/dev/null; scripts/stack.sh down' EXIT

cat <<MSG

  qdn-photos is starting on http://127.0.0.1:$API_PORT (first request waits for the build).
  The capture page: $DEV_ORIGIN/?job=j-12345   (its API and bucket are fixed in .stack/web/qdn-capture.config.*.js)
  Auth mode: $AUTH_MODE    Bearer token: $DEV_TOKEN    Browser origin allowed: $DEV_ORIGIN
  (AUTH_MODE=tokens make dev: per-person tokens; make tokens ARGS="create --name me --jobs j-12345")

  Ask for an upload URL:
    curl -s -H 'Authorization: Bearer $DEV_TOKEN' 'http://127.0.0.1:$API_PORT/upload-url?job_id=j-12345'

  Or do a whole upload (URL, POST to S3, completion, listing) from another terminal:
    TOKEN=$DEV_TOKEN scripts/demo-upload.sh path/to/photo.jpg j-12345

  Or upload the way an iOS Shortcut does (presigned PUT, one request per photo, then the completion):
    QDN_API=http://127.0.0.1:$API_PORT QDN_TOKEN=$DEV_TOKEN scripts/upload-photo.sh j-12345 path/to/photo.jpg

  The photo pipeline runs on each upload through a local stand-in for S3 notifications
  (thumbnails, EXIF, type check): tail -f .stack/pipeline.log

  List the job's photos:
    curl -s -H 'Authorization: Bearer $DEV_TOKEN' 'http://127.0.0.1:$API_PORT/photos?job_id=j-12345'

MSG
# --disable-cors: browsers meet the function's own CORS (ALLOWED_ORIGINS), as behind API Gateway,
# not the emulator's, which would answer any origin.
cargo lambda watch --disable-cors --invoke-address 127.0.0.1 --invoke-port "$API_PORT"
