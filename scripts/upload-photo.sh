#!/usr/bin/env bash
# Uploads photos to a job with curl: one POST /upload-url asks for a PUT grant per photo (up to 20 a
# request, each for exactly that photo's size, type and SHA-256), each photo is PUT straight to S3,
# then one POST /upload-url records them all. Needs curl, python3 (JSON) and sha256sum or shasum.
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
for k in sys.argv[1:]: d=d[int(k)] if isinstance(d, list) else d[k]
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

# type, size and SHA-256 of each photo, checked before anything is asked for.
types=() sizes=() hashes=()
for photo in "$@"; do
  [[ -f "$photo" ]] || { echo "$photo: no such file" >&2; exit 1; }
  case "$(printf '%s' "${photo##*.}" | tr '[:upper:]' '[:lower:]')" in
    jpg | jpeg) types+=(image/jpeg) ;;
    png) types+=(image/png) ;;
    webp) types+=(image/webp) ;;
    heic | heif) types+=(image/heic) ;;
    *) echo "$photo: not a .jpg, .png, .webp or .heic photo" >&2; exit 1 ;;
  esac
  sizes+=("$(wc -c < "$photo" | tr -d ' ')")
  # The grant binds it: S3 stores no other bytes under it.
  hashes+=("$({ sha256sum "$photo" 2>/dev/null || shasum -a 256 "$photo"; } | cut -d' ' -f1)")
done

photos=("$@")
keys=()
for ((start = 0; start < ${#photos[@]}; start += 20)); do
  n=$(( ${#photos[@]} - start < 20 ? ${#photos[@]} - start : 20 ))
  request=$(python3 -c 'import json,sys
job, rest = sys.argv[1], sys.argv[2:]
files = [{"size": int(rest[i]), "content_type": rest[i + 1], "sha256": rest[i + 2]} for i in range(0, len(rest), 3)]
print(json.dumps({"job_id": job, "method": "put", "files": files}))' "$job" \
    $(for ((i = start; i < start + n; i++)); do echo "${sizes[i]} ${types[i]} ${hashes[i]}"; done))
  status=$(api_call POST "$api/upload-url" -H 'Content-Type: application/json' --data-binary "$request")
  if [[ "$status" != 200 ]]; then
    echo "the API refused the upload URLs ($status $(error_of < "$body"))" >&2
    exit 1
  fi
  grants=$(cat "$body")
  for ((i = 0; i < n; i++)); do
    photo=${photos[start + i]}
    grant() { printf '%s' "$grants" | json_get grants "$i" "$@"; }
    url=$(grant url)
    key=$(grant key)
    # -T streams the file and sends its length as Content-Length; all three headers are signed.
    status=$(curl -sS --retry 3 -o "$body" -w '%{http_code}' -T "$photo" \
      -H "Content-Type: ${types[start + i]}" -H "x-amz-checksum-sha256: $(grant headers x-amz-checksum-sha256)" "$url")
    if [[ "$status" != 200 ]]; then
      echo "$photo: S3 refused the upload ($status): $(head -c 300 "$body")" >&2
      exit 1
    fi
    echo "$photo -> $key"
    keys+=("$key")
  done
done

completion=$(python3 -c 'import json,sys; print(json.dumps({"job_id": sys.argv[1], "keys": sys.argv[2:]}))' \
  "$job" "${keys[@]}")
status=$(api_call POST "$api/upload-url" -H 'Content-Type: application/json' --data-binary "$completion")
if [[ "$status" != 200 && "$status" != 201 ]]; then
  echo "the API did not record the uploads ($status $(error_of < "$body"))" >&2
  exit 1
fi
echo "recorded ${#keys[@]} photo(s) for job $job: audit $(json_get audit_id < "$body")"
