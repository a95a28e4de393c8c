#!/usr/bin/env bash
# Uploads photos to a job with curl, the way the iOS Shortcut in docs/capture.md does: for each photo,
# GET /upload-url?method=put (a URL for exactly that size and type), PUT the bytes straight to S3;
# then one POST /upload-url records them all. Needs curl and python3 (JSON); nothing else.
#
#   QDN_API=https://api.quickdumpnow.com QDN_TOKEN=… scripts/upload-photo.sh JOB_ID PHOTO...
#
# The token is passed to curl on a file descriptor, never on its command line (which `ps` shows).
# Exits non-zero, saying why, at the first refusal; photos already in S3 stay there (the bucket's
# event record keeps them) but are only listed once a completion names them.
set -euo pipefail

usage() { echo "usage: QDN_API=https://… QDN_TOKEN=… $0 JOB_ID PHOTO..." >&2; exit 2; }
api=${QDN_API:-}
token=${QDN_TOKEN:-}
[[ -n "$api" && -n "$token" && $# -ge 2 ]] || usage
api=${api%/}
job=$1
shift

# JSON in and out through python3: no jq needed, and nothing is parsed with sed.
json_get() { python3 -c 'import json,sys
d=json.load(sys.stdin)
for k in sys.argv[1:]: d=d[k]
print(d)' "$@"; }
error_of() { python3 -c 'import json,sys
try: e=json.load(sys.stdin)["error"]; print(e["code"] + ": " + e["message"])
except Exception: print("unexpected answer")'; }

body=$(mktemp)
trap 'rm -f "$body"' EXIT
# api_call METHOD URL [curl args...]: the API's JSON into $body, its status on stdout.
api_call() {
  local method=$1 url=$2
  shift 2
  curl -sS --retry 3 -X "$method" -o "$body" -w '%{http_code}' \
    -H @<(printf 'Authorization: Bearer %s\n' "$token") "$@" "$url"
}

keys=()
for photo in "$@"; do
  [[ -f "$photo" ]] || { echo "$photo: no such file" >&2; exit 1; }
  case "$(printf '%s' "${photo##*.}" | tr '[:upper:]' '[:lower:]')" in
    jpg | jpeg) type=image/jpeg ;;
    png) type=image/png ;;
    webp) type=image/webp ;;
    heic | heif) type=image/heic ;;
    *) echo "$photo: not a .jpg, .png, .webp or .heic photo" >&2; exit 1 ;;
  esac
  size=$(wc -c < "$photo" | tr -d ' ')
  # The grant binds the photo's SHA-256: S3 stores no other bytes under it (sha256sum on Linux,
  # shasum on macOS).
  sha256=$({ sha256sum "$photo" 2>/dev/null || shasum -a 256 "$photo"; } | cut -d' ' -f1)

  status=$(api_call GET "$api/upload-url" -G --data-urlencode "job_id=$job" \
    --data-urlencode method=put --data-urlencode "size=$size" --data-urlencode "content_type=$type" \
    --data-urlencode "sha256=$sha256")
  if [[ "$status" != 200 ]]; then
    echo "$photo: the API refused an upload URL ($status $(error_of < "$body"))" >&2
    exit 1
  fi
  url=$(json_get url < "$body")
  key=$(json_get key < "$body")
  checksum=$(json_get headers x-amz-checksum-sha256 < "$body")

  # -T streams the file and sends its length as Content-Length; all three headers are signed.
  status=$(curl -sS --retry 3 -o "$body" -w '%{http_code}' -T "$photo" \
    -H "Content-Type: $type" -H "x-amz-checksum-sha256: $checksum" "$url")
  if [[ "$status" != 200 ]]; then
    echo "$photo: S3 refused the upload ($status): $(head -c 300 "$body")" >&2
    exit 1
  fi
  echo "$photo -> $key"
  keys+=("$key")
done

completion=$(python3 -c 'import json,sys; print(json.dumps({"job_id": sys.argv[1], "keys": sys.argv[2:]}))' \
  "$job" "${keys[@]}")
status=$(api_call POST "$api/upload-url" -H 'Content-Type: application/json' --data-binary "$completion")
if [[ "$status" != 200 && "$status" != 201 ]]; then
  echo "the API did not record the uploads ($status $(error_of < "$body"))" >&2
  exit 1
fi
echo "recorded ${#keys[@]} photo(s) for job $job: audit $(json_get audit_id < "$body")"
