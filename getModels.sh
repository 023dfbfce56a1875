#!/usr/bin/env bash
# Download and verify the model files: ./getModels.sh [COCO|MPI|BODY_25|all|human|rtmpose-s|...] [--force] [--mirror URL]
# All the work is done by pose/download/ (same as `python -m pose.download`); see --help.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [[ -x "$here/.venv/bin/python" ]]; then
    python="$here/.venv/bin/python"
elif command -v python3 >/dev/null 2>&1; then
    python=python3
elif command -v python >/dev/null 2>&1; then
    python=python
else
    echo "getModels.sh: no Python found (looked for $here/.venv/bin/python, python3, python)" >&2
    exit 2
fi
# Stay in the caller's directory so a relative --mirror path means what the user typed;
# put this checkout first on sys.path so its `pose` package wins over any other.
exec "$python" -c 'import sys; sys.path.insert(0, sys.argv.pop(1)); from pose.download.cli import main; sys.exit(main())' "$here" "$@"
