#!/usr/bin/env bash
# Install everything, then run the whole test suite against real local servers.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/python -m pytest -n 3 "$@"
