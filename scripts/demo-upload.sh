#!/usr/bin/env bash
# Uploads one photo through the running `make dev` API the way the dashboard does:
# GET /upload-url → multipart POST straight to S3 → POST /upload-url → GET /photos.
#   scripts/demo-upload.sh FILE [JOB_ID]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
file=${1:?usage: $0 FILE [JOB_ID]}
job=${2:-j-12345}
api="http://127.0.0.1:${API_PORT:-9000}"
auth="Authorization: Bearer ${TOKEN:-$DEV_TOKEN}"  # TOKEN=qdn_… for a per-person token
case "${file,,}" in
  *.png) type=image/png ;; *.webp) type=image/webp ;; *.heic) type=image/heic ;; *) type=image/jpeg ;;
esac
size=$(stat -c %s "$file")

grant=$(curl -fsS -H "$auth" "$api/upload-url?job_id=$job&content_type=$type&size=$size")
url=$(printf '%s' "$grant" | python3 -c 'import json,sys; print(json.load(sys.stdin)["url"])')
key=$(printf '%s' "$grant" | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
# Every returned field, in order, then the file last.
mapfile -t form < <(printf '%s' "$grant" | python3 -c 'import json,sys
for k, v in json.load(sys.stdin)["fields"].items(): print(f"{k}={v}")')
args=()
for f in "${form[@]}"; do args+=(--form-string "$f"); done
echo "POST $url  key=$key"
curl -fsS -o /dev/null -w 'S3 answered %{http_code}\n' "${args[@]}" -F "file=@$file" "$url"
curl -fsS -H "$auth" -H 'content-type: application/json' \
  -d "{\"job_id\":\"$job\",\"keys\":[\"$key\"]}" "$api/upload-url"; echo
curl -fsS -H "$auth" "$api/photos?job_id=$job" | python3 -m json.tool
