#!/usr/bin/env bash
# The operations API against real processes with third-party clients (prometheus_client's parser, the h2 HTTP/2
# client), in a venv under .cache/ops-venv (PyPI: pytest, prometheus_client, h2). Needs sluice-master, sluice-worker
# and sluice-bench built (SLUICE_BIN_DIR, default .build/debug).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.cache/ops-venv
if ! "$VENV/bin/python" -c "import pytest, prometheus_client, h2" 2>/dev/null; then
  echo "ops-tests: setting up $VENV (pytest, prometheus_client, h2)"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check pytest prometheus_client h2
fi
"$VENV/bin/python" -m pytest ops-tests -p no:cacheprovider -rfEs
