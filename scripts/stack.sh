#!/usr/bin/env bash
# The local stack: Garage (S3) and moto (DynamoDB) on free loopback ports, with the uploads bucket
# and the audit table created. Writes .stack/env, which every other script and the tests source.
#
#   scripts/stack.sh up      start (or reuse a running stack)
#   scripts/stack.sh down    stop and forget it
#   scripts/stack.sh status  exit 0 when it is up
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

STACK="$ROOT/.stack"
ENV_FILE="$STACK/env"

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local deadline=$((SECONDS + $1)) what=$2; shift 2
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then echo "stack: $what did not come up; see $STACK/*.log" >&2; return 1; fi
    sleep 0.1
  done
}

alive() { [ -f "$STACK/$1.pid" ] && kill -0 "$(cat "$STACK/$1.pid")" 2>/dev/null; }

status() { [ -f "$ENV_FILE" ] && alive garage && alive moto; }

down() {
  for name in garage moto; do
    if alive "$name"; then kill "$(cat "$STACK/$name.pid")" 2>/dev/null || true; fi
  done
  rm -rf "$STACK"
}

# One attempt at starting both servers on fresh ports; fails if any listener is not ours.
start_once() {
  mkdir -p "$STACK/garage/meta" "$STACK/garage/data"
  local s3_port rpc_port admin_port ddb_port key secret
  read -r s3_port rpc_port admin_port ddb_port < <(free_ports 4)
  # Fresh random credentials per stack: nothing real, nothing reused.
  key="GK$(python3 -c 'import secrets; print(secrets.token_hex(12))')"
  secret=$(python3 -c 'import secrets; print(secrets.token_hex(32))')

  cat > "$STACK/garage.toml" <<TOML
metadata_dir = "$STACK/garage/meta"
data_dir = "$STACK/garage/data"
db_engine = "sqlite"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:$rpc_port"
rpc_public_addr = "127.0.0.1:$rpc_port"
rpc_secret = "$(python3 -c 'import secrets; print(secrets.token_hex(32))')"

[s3_api]
api_bind_addr = "127.0.0.1:$s3_port"
s3_region = "$LOCAL_REGION"
root_domain = ".s3.localhost"

[admin]
api_bind_addr = "127.0.0.1:$admin_port"
TOML
  GARAGE_DEFAULT_ACCESS_KEY="$key" GARAGE_DEFAULT_SECRET_KEY="$secret" GARAGE_DEFAULT_BUCKET="$LOCAL_BUCKET" \
    RUST_LOG=warn nohup garage -c "$STACK/garage.toml" server --single-node --default-bucket \
    > "$STACK/garage.log" 2>&1 &
  echo $! > "$STACK/garage.pid"
  nohup python scripts/moto_server.py -H 127.0.0.1 -p "$ddb_port" > "$STACK/moto.log" 2>&1 &
  echo $! > "$STACK/moto.pid"

  cat > "$ENV_FILE" <<ENV
export AWS_ACCESS_KEY_ID=$key
export AWS_SECRET_ACCESS_KEY=$secret
export AWS_REGION=$LOCAL_REGION
export AWS_DEFAULT_REGION=$LOCAL_REGION
export AWS_ENDPOINT_URL_S3=http://127.0.0.1:$s3_port
export AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$ddb_port
# moto serves SQS too: the local stand-in for the pipeline's on-failure queue (redrive) and for
# the queue of evidence exports (its account is moto's default).
export AWS_ENDPOINT_URL_SQS=http://127.0.0.1:$ddb_port
export EXPORT_QUEUE_URL=http://127.0.0.1:$ddb_port/123456789012/qdn-export-requests
export S3_FORCE_PATH_STYLE=true
export UPLOADS_BUCKET=$LOCAL_BUCKET
export AUDIT_TABLE=$LOCAL_TABLE
export QDN_GARAGE_CONFIG=$STACK/garage.toml
ENV
  # shellcheck disable=SC1090
  source "$ENV_FILE"
  # Each listener is checked itself: `garage health` only proves the RPC port, and a server that
  # lost its port to another process may still be running.
  wait_for 20 "garage (RPC)" garage -c "$STACK/garage.toml" health -q || return 1
  wait_for 30 "moto" python3 -c "import urllib.request; urllib.request.urlopen('$AWS_ENDPOINT_URL_DYNAMODB/moto-api/')" || return 1
  alive garage && alive moto || { echo "stack: a server exited; see $STACK/*.log" >&2; return 1; }
  python scripts/local_aws.py check || return 1
  python scripts/local_aws.py provision
}

up() {
  if status; then echo "stack: already up ($ENV_FILE)"; return 0; fi
  local try
  for try in 1 2 3; do
    down
    if start_once; then
      echo "stack: up — S3 $AWS_ENDPOINT_URL_S3 (bucket $UPLOADS_BUCKET), DynamoDB $AWS_ENDPOINT_URL_DYNAMODB (table $AUDIT_TABLE); env in $ENV_FILE"
      return 0
    fi
    echo "stack: attempt $try failed (logs below); trying again on other ports" >&2
    tail -n 5 "$STACK"/*.log >&2 || true
  done
  down
  echo "stack: could not start" >&2
  return 1
}

case "${1:-}" in
  up) up ;;
  down) down; echo "stack: down" ;;
  status) status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
