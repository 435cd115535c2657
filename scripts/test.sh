#!/usr/bin/env bash
# Install everything, check the code (ruff check and ruff format --check at 120 columns, mypy --strict on the package
# and the tests), then run the whole test suite against real local servers.
#   ./scripts/test.sh            the full suite (what CI runs)
#   ./scripts/test.sh --fast     while developing: ruff, then the tests that start no real part (time: README Tests)
# Other arguments go to pytest, e.g. ./scripts/test.sh -k mirror -x
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--fast" ]; then
  shift
  [ -x .venv/bin/python ] || bash scripts/bootstrap.sh
  .venv/bin/ruff check provider_helper tests bench
  .venv/bin/ruff format --check -q provider_helper tests bench scripts mutation
  exec .venv/bin/python -m pytest -n 3 -m "not real_parts" "$@"
fi
bash scripts/bootstrap.sh
.venv/bin/ruff check provider_helper tests bench
.venv/bin/ruff format --check -q provider_helper tests bench scripts mutation
.venv/bin/mypy provider_helper tests
exec .venv/bin/python -m pytest -n 3 --dist load --maxschedchunk 1 "$@"
