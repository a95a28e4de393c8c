#!/usr/bin/env bash
# `make fuzz [FUZZ_SECONDS=300]`: libFuzzer (cargo fuzz, nightly) on request handling up to I/O.
# `make test` runs it for a short smoke. Seeds: fuzz/seeds/request; the grown corpus stays in fuzz/corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
seconds=${1:-${FUZZ_SECONDS:-300}}
rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
mkdir -p fuzz/corpus/request
log=$(mktemp)
status=0
cargo +nightly fuzz run request fuzz/corpus/request fuzz/seeds/request -- \
  -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 > "$log" 2>&1 || status=$?
grep -E "^(#[0-9]+ +(INITED|DONE)|==[0-9]+==|SUMMARY|Done|thread .* panicked)" "$log" || true
[ "$status" = 0 ] || tail -40 "$log"
runs=$(grep -oE '^stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo "?")
rm -f "$log"
echo "fuzz: $runs executions in ${seconds}s, exit $status"
exit "$status"
