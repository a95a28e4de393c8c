#!/usr/bin/env bash
# `make bench`: the signing hot paths (crates/s3-presign), the request path with aws-sdk-s3's
# presigner beside ours, the /photos handler against the local stack, the pipeline's thumbnail of a
# 12 MP photo beside sharp and Pillow, that photo from S3's event to listed, the x86_64 release zip's size, and its cold start (process
# start → ready for an invocation).
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

# The thumbnail anchors (sharp from npm, Pillow from PyPI; installed here, not for the tests).
[ -d node_modules/sharp ] || npm install --no-save --no-audit --no-fund sharp@0.34.5
"$VENV/bin/python" -c "import PIL" 2>/dev/null || "$VENV/bin/pip" install --quiet "Pillow==13.0.0"
photo="$ROOT/target/bench/photo-12mp.jpg"
progressive="$ROOT/target/bench/photo-12mp-progressive.jpg"
"$VENV/bin/python" scripts/bench_thumbnail.py "$photo" "$progressive" 20
BENCH_PHOTO="$photo" BENCH_PROGRESSIVE_PHOTO="$progressive" cargo bench --bench thumbnail
# The same photo from S3's event to "listed": the pipeline's processing, and 20 uploads through the
# local stack with make dev's stand-in for S3's notifications.
BENCH_PHOTO="$photo" cargo bench --bench listing

ARCH=x86_64 scripts/build.sh
dir=$(mktemp -d)
unzip -q -o target/lambda/qdn-photos/bootstrap.zip -d "$dir"
python3 scripts/cold_start.py "$dir/bootstrap" 50 api
python3 scripts/cold_start.py "$dir/bootstrap" 50 pipeline
# The pipeline's peak memory for that photo, through the release binary's thumbnail command.
for file in "$photo" "$progressive"; do
  python3 - "$dir/bootstrap" "$file" <<'PY'
import resource, subprocess, sys
subprocess.run([sys.argv[1], "thumbnail", sys.argv[2], "/dev/null"], check=True, stdout=subprocess.DEVNULL)
print(f"thumbnail of {sys.argv[2]}: peak RSS {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.1f} MB")
PY
done
# The evidence export's memory: a job 4× larger holds no more (one photo at a time).
"$VENV/bin/python" scripts/export_memory.py "$dir/bootstrap" "$photo" 20 80
# The hostile corpus (refused) and the costliest files inside every budget, through the release
# binary's thumbnail command: CPU seconds and peak RSS each (issue 22's budgets: 2 s, 256 MB).
cargo run --quiet --features dev -- hostile-corpus target/bench/edge --edge > /dev/null
python3 scripts/hostile_budgets.py "$dir/bootstrap" tests/hostile target/bench/edge/* "$photo" "$progressive"
rm -rf "$dir"
