#!/usr/bin/env bash
# Install everything, check the code (ruff, mypy --strict), then run the whole test suite against real local servers.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
.venv/bin/ruff check provider_helper tests bench
.venv/bin/mypy provider_helper
exec .venv/bin/python -m pytest -n 3 "$@"
