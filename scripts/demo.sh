#!/usr/bin/env bash
# The main job end to end on embedded defaults: local nvcr.io-like source seeded with NVCF-like
# artifacts, a local ECR-like target, the bundled manifest; prints the mirrored digests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh demo
exec .venv/bin/python -m provider_helper.sandbox.demo "$@"
