# Shared paths for the scripts; sourced, not run.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.tools/venv"
export PATH="$VENV/bin:$HOME/.cargo/bin:$PATH"
LOCAL_REGION=us-east-1
LOCAL_BUCKET=qdn-uploads
LOCAL_TABLE=qdn-audit
