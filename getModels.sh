#!/usr/bin/env bash
# Download and verify the model files: ./getModels.sh [COCO|MPI|BODY_25|hand|face|blazepose|human|rtmpose-s|...|all] [--force] [--mirror URL]
# All the work is done by pose/download/ (same as `python -m pose.download`); see --help.
set -euo pipefail
src="${BASH_SOURCE[0]}"
[[ "$src" == */* ]] || src="./$src"
here="$(cd "${src%/*}" && pwd)"  # no dirname: PATH may hold nothing at all
# The project's Python: this checkout's .venv, the active virtual environment, then any
# python3/python that has the requirements (a bare system Python would fail on numpy).
python=""
for candidate in "$here/.venv/bin/python" "${VIRTUAL_ENV:+$VIRTUAL_ENV/bin/python}" python3 python; do
    [[ -n "$candidate" ]] || continue
    command -v "$candidate" >/dev/null 2>&1 || continue
    if "$candidate" -c 'import numpy, requests' >/dev/null 2>&1; then
        python="$candidate"
        break
    fi
done
if [[ -z "$python" ]]; then
    echo "getModels.sh: no Python with the requirements found (looked in $here/.venv, \$VIRTUAL_ENV, python3, python);" \
         "set up with: python3 -m venv .venv && .venv/bin/pip install -r requirements.txt" >&2
    exit 2
fi
# Stay in the caller's directory so a relative --mirror path means what the user typed;
# put this checkout first on sys.path so its `pose` package wins over any other.
exec "$python" -c '
import sys
sys.path.insert(0, sys.argv.pop(1))
try:
    from pose.download.cli import main
except ImportError as exc:
    sys.exit(f"getModels.sh: error: {exc} (install the requirements: pip install -r requirements.txt)")
sys.exit(main())' "$here" "$@"
