#!/usr/bin/env bash
# Sends every events/*.json through the real Lambda runtime (`cargo lambda watch` + `cargo lambda
# invoke`) against the local stack, and checks each answer's status against events/expected-status.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
function_env
# The events carry a JWT authorizer's claims, as API Gateway sends them in jwt mode.
export AUTH_MODE=jwt

read -r port < <(free_ports 1)
log="$ROOT/.stack/watch-events.log"
# --disable-cors: the preflight event must be answered by the function, as in production.
cargo lambda watch --disable-cors --invoke-address 127.0.0.1 --invoke-port "$port" > "$log" 2>&1 &
watch_pid=$!
trap 'kill $watch_pid 2>/dev/null || true; wait $watch_pid 2>/dev/null || true' EXIT

for _ in $(seq 300); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  kill -0 $watch_pid 2>/dev/null || { cat "$log"; exit 1; }
  sleep 0.1
done

failures=0 passed=0
while read -r file expected; do
  [[ -z "$file" || "$file" == \#* ]] && continue
  # The first invoke waits for watch to build the function.
  if ! out=$(cargo lambda invoke --invoke-address 127.0.0.1 --invoke-port "$port" \
        --data-file "events/$file" qdn-photos 2>&1); then
    echo "FAIL $file: invoke failed: $out"; failures=$((failures + 1)); continue
  fi
  got=$(printf '%s' "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["statusCode"])' 2>/dev/null || echo "?")
  if [ "$got" = "$expected" ]; then
    echo "ok   $file -> $got"; passed=$((passed + 1))
  else
    echo "FAIL $file: expected $expected, got $got: $out"; failures=$((failures + 1))
  fi
done < events/expected-status.txt

# The S3 events through the same binary in its pipeline role (Handler photo-pipeline, which
# Lambda passes as _HANDLER): each answer is the list of the records' outcomes.
read -r pipeline_port < <(free_ports 1)
_HANDLER=photo-pipeline cargo lambda watch --invoke-address 127.0.0.1 --invoke-port "$pipeline_port" \
  > "$ROOT/.stack/watch-pipeline.log" 2>&1 &
pipeline_pid=$!
trap 'kill $watch_pid $pipeline_pid 2>/dev/null || true; wait 2>/dev/null || true' EXIT
for _ in $(seq 300); do
  (exec 3<>"/dev/tcp/127.0.0.1/$pipeline_port") 2>/dev/null && break
  kill -0 $pipeline_pid 2>/dev/null || { cat "$ROOT/.stack/watch-pipeline.log"; exit 1; }
  sleep 0.1
done
for file in s3-object-created.json s3-test-event.json; do
  expected=$(python3 -c 'import sys; print({"s3-object-created.json": "[\"ignored: no longer in S3\", \"ignored: not an upload key\"]", "s3-test-event.json": "[]"}[sys.argv[1]])' "$file")
  got=$(cargo lambda invoke --invoke-address 127.0.0.1 --invoke-port "$pipeline_port" \
        --data-file "events/$file" qdn-photos 2>&1 | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)))' 2>/dev/null || echo "?")
  if [ "$got" = "$expected" ]; then
    echo "ok   $file -> $got"; passed=$((passed + 1))
  else
    echo "FAIL $file: expected $expected, got $got"; failures=$((failures + 1))
  fi
done
echo "events: $passed passed, $failures failed"
[ "$failures" -eq 0 ]
