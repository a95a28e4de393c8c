#!/usr/bin/env bash
# `make deploy`: sam build (cargo-lambda) + sam deploy; guided the first time (writes samconfig.toml).
# `make sam-build` (--build-only): just the build, which needs no AWS access.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
scripts/bootstrap.sh >/dev/null
ensure_sam
sam build --template-file template.yaml
[ "${1:-}" = "--build-only" ] && exit 0
if [ -f samconfig.toml ]; then
  sam deploy
else
  sam deploy --guided --capabilities CAPABILITY_IAM
fi
