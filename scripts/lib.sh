# Shared paths for the scripts; sourced, not run.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.tools/venv"
export PATH="$VENV/bin:$HOME/.cargo/bin:$PATH"
LOCAL_REGION=us-east-1
LOCAL_BUCKET=qdn-uploads
LOCAL_TABLE=qdn-audit
# The bearer token of the local stack (never used anywhere real).
DEV_TOKEN=local-dev-token
DEV_ORIGIN=http://localhost:8080

# SAM CLI in a venv of its own: its pins would move the test tools' (cfn-lint, the translator).
# rust-cargolambda is a beta build method: SAM asks before using it, and a run without a terminal
# (CI, make) fails unless SAM_CLI_BETA_FEATURES is set.
SAM_VENV="$ROOT/.tools/sam-venv"
SAM_VERSION=1.170.0
ensure_sam() {
  if ! "$SAM_VENV/bin/sam" --version 2>/dev/null | grep -q "version $SAM_VERSION\$"; then
    python3 -m venv "$SAM_VENV"
    "$SAM_VENV/bin/pip" install --quiet "aws-sam-cli==$SAM_VERSION"
  fi
  export PATH="$PATH:$SAM_VENV/bin" SAM_CLI_BETA_FEATURES=1 SAM_CLI_TELEMETRY=0
}

# free_ports N: N distinct free loopback ports. All N sockets are held open until every port is
# chosen, so two can never be the same (binding port 0 one at a time can hand out a port twice).
free_ports() {
  python3 - "$1" <<'PY'
import socket, sys
held = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    held.append(s)
print(" ".join(str(s.getsockname()[1]) for s in held))
PY
}

# The pipeline stand-in (`make dev`, the browser tests) runs from its own copy of the `dev` build,
# .stack/qdn-photos-dev: `cargo lambda watch` builds target/debug/qdn-photos without the feature
# and could overwrite it under a `cargo run` about to start it (seen in CI: the stand-in started
# as a binary without its command). Build it before any watch starts.
standin_binary() {
  cargo build --quiet --features dev --bin qdn-photos
  mkdir -p "$ROOT/.stack"
  cp "$ROOT/target/debug/qdn-photos" "$ROOT/.stack/qdn-photos-dev.new"
  mv -f "$ROOT/.stack/qdn-photos-dev.new" "$ROOT/.stack/qdn-photos-dev"
}

# Variables the function needs on top of .stack/env, for `cargo lambda watch` and the tests.
function_env() {
  set -a
  # shellcheck disable=SC1091
  source "$ROOT/.stack/env"
  set +a
  AUTH_TOKEN_SHA256=$(printf '%s' "$DEV_TOKEN" | sha256sum | cut -d' ' -f1)
  # shared-token with the dev token unless asked otherwise (AUTH_MODE=tokens make dev).
  export AUTH_MODE="${AUTH_MODE:-shared-token}"
  export AUTH_TOKEN_SHA256 ALLOWED_ORIGINS="$DEV_ORIGIN" RUST_LOG="${RUST_LOG:-info}"
}
