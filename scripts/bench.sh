#!/usr/bin/env bash
# `make bench`: the signing hot paths (crates/s3-presign), the request path with aws-sdk-s3's
# presigner beside ours, the /photos handler against the local stack, the x86_64 release zip's size, and its
# cold start (process start → ready for an invocation).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
scripts/bootstrap.sh

cargo bench -p s3-presign --bench signing
cargo bench --bench request_path

started_stack=false
if ! scripts/stack.sh status; then scripts/stack.sh up; started_stack=true; fi
trap '$started_stack && scripts/stack.sh down' EXIT
function_env
cargo bench --bench photos_handler

ARCH=x86_64 scripts/build.sh
dir=$(mktemp -d)
unzip -q -o target/lambda/qdn-photos/bootstrap.zip -d "$dir"
python3 scripts/cold_start.py "$dir/bootstrap" 50
rm -rf "$dir"
