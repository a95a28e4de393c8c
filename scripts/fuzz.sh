#!/usr/bin/env bash
# `make fuzz [FUZZ_SECONDS=300]`: libFuzzer (cargo fuzz, nightly), each target for that long:
#   request            request handling up to I/O
#   thumbnail          the pipeline's whole thumbnail step, every stored image type, under
#                      -malloc_limit_mb=256 (no single buffer past the budget) and a per-input timeout
#   jpeg_differential  our JPEG structure walk and DC-only decoder against jpeg-decoder
# `make test` runs each for a short smoke. Seeds: fuzz/seeds/TARGET, plus the hostile corpus
# (tests/hostile/) for the image targets; the grown corpora stay in fuzz/corpus/TARGET.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
seconds=${1:-${FUZZ_SECONDS:-300}}
# A dated nightly: the one tested here, not whatever "nightly" is on the day CI runs.
nightly=nightly-2026-10-29
rustup toolchain list | grep -q "^$nightly" || rustup toolchain install "$nightly" --profile minimal
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked

# Every target built first, in one step whose errors are printed whole (a run's log is cut to
# its tail); the free disk is printed with it, since a full disk fails only the last link.
echo "disk free before the fuzz build: $(df -h --output=avail . | tail -1 | tr -d ' ')"
log=$(mktemp)
if ! cargo "+$nightly" fuzz build > "$log" 2>&1; then
  grep -E -A12 '^error' "$log" || tail -60 "$log"
  echo "disk free: $(df -h --output=avail . | tail -1 | tr -d ' ')"
  exit 1
fi
rm -f "$log"

# The hostile files as seeds: for `thumbnail` prefixed with the byte that picks their type.
hostile=$(mktemp -d)
mkdir -p "$hostile/thumbnail" "$hostile/jpeg_differential"
for f in tests/hostile/*; do
  case "${f##*.}" in jpg) kind='\x00' ;; png) kind='\x01' ;; gif) kind='\x02' ;; webp) kind='\x03' ;; esac
  { printf "$kind"; cat "$f"; } > "$hostile/thumbnail/$(basename "$f")"
  [ "${f##*.}" = jpg ] && cp "$f" "$hostile/jpeg_differential/"
done

status=0
for target in request thumbnail jpeg_differential; do
  case $target in
    request) options=(-max_len=4096) ;;
    # Under ASan a decode runs several times slower than the release build's 2 s budget.
    thumbnail) options=(-max_len=65536 -malloc_limit_mb=256 -rss_limit_mb=2048 -timeout=10) ;;
    jpeg_differential) options=(-max_len=65536 -timeout=10) ;;
  esac
  seeds=("fuzz/seeds/$target")
  [ -d "$hostile/$target" ] && seeds+=("$hostile/$target")
  mkdir -p "fuzz/corpus/$target"
  log=$(mktemp)
  run=0
  cargo "+$nightly" fuzz run "$target" "fuzz/corpus/$target" "${seeds[@]}" -- \
    -max_total_time="$seconds" "${options[@]}" -print_final_stats=1 > "$log" 2>&1 || run=$?
  grep -E "^(#[0-9]+ +(INITED|DONE)|==[0-9]+==|SUMMARY|Done|thread .* panicked)" "$log" || true
  [ "$run" = 0 ] || { tail -40 "$log"; status=$run; }
  runs=$(grep -oE '^stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo "?")
  rm -f "$log"
  echo "fuzz $target: $runs executions in ${seconds}s, exit $run"
done
rm -rf "$hostile"
exit "$status"
