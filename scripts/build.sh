#!/usr/bin/env bash
# `make build [ARCH=arm64|x86_64]`: the release zip Lambda runs (target/lambda/qdn-photos/bootstrap.zip).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ARCH=${ARCH:-arm64}
scripts/bootstrap.sh >/dev/null
case "$ARCH" in
  arm64)
    # cargo-lambda cross-compiles with zig; it needs only Rust's aarch64 std.
    rustup target list --installed | grep -q '^aarch64-unknown-linux-gnu$' || rustup target add aarch64-unknown-linux-gnu
    flag=--arm64 ;;
  x86_64) flag=--x86-64 ;;
  *) echo "ARCH must be arm64 or x86_64" >&2; exit 2 ;;
esac
cargo lambda build --release "$flag" --output-format zip
zip=target/lambda/qdn-photos/bootstrap.zip
echo "$zip ($ARCH): $(stat -c %s "$zip") bytes"
