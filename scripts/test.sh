#!/usr/bin/env bash
# `make test`: installs what is missing, lints, starts the local stack (unless one is up already),
# runs every test against it, and stops what it started.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

echo "==> disk free: $(df -h --output=avail . | tail -1 | tr -d ' ') (a fresh run writes about 6 GB)"
scripts/bootstrap.sh

echo "==> lint: rustfmt, clippy"
cargo fmt --check
cargo clippy --all-targets --locked -- -D warnings

echo "==> template.yaml: cfn-lint, sam validate --lint, SAM transform and security properties"
AWS_DEFAULT_REGION=us-east-1 cfn-lint template.yaml
ensure_sam
AWS_DEFAULT_REGION=us-east-1 sam validate --lint --template-file template.yaml
python -m unittest tests/template_test.py tests/web_build_test.py tests/docs_test.py
echo "==> the capture module's rules and transport (node --test, no browser)"
node --test tests/web/

started_stack=false
if ! scripts/stack.sh status; then
  scripts/stack.sh up
  started_stack=true
fi
cleanup() { if $started_stack; then scripts/stack.sh down; fi; }
trap cleanup EXIT

function_env
echo "==> the route hand-over onto an existing API and its rollback (scripts/api_routes.py, moto)"
python -m unittest tests/api_routes_test.py
echo "==> cargo test (both crates' unit tests, then the integration suite against Garage and moto)"
cargo test --workspace --locked
echo "==> events/ through cargo lambda invoke"
scripts/check-events.sh
echo "==> the capture page in Chromium (playwright), in Chromium, Firefox ESR and WebKitGTK (WebDriver), then make smoke against the same local deployment"
scripts/browser-test.sh
echo "==> fuzz smoke (make fuzz runs longer)"
scripts/fuzz.sh 20
