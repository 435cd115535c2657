#!/usr/bin/env bash
# examples/local end to end: start the local stand-ins, terraform init/plan/apply, a second plan
# (no changes), the outputs, destroy, stop the stand-ins. --pause waits after apply so you can look.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
bash "$repo/scripts/bootstrap.sh" demo
exec "$repo/.venv/bin/python" -m provider_helper.sandbox.walkthrough --repo "$repo" "$@"
