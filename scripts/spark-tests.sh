#!/usr/bin/env bash
# Spark test suite: real pyspark 3.5.9 (full matrix, spark-tests/test_spark_35.py) and 4.3.0 (smoke set,
# spark-tests/test_spark_43.py), each job run with Spark's builtin shuffle and with Sluice, results compared; then the
# failure-survival tests on 3.5.9 (spark-tests/test_failures.py: executor, worker and master loss, SIGTERM drain,
# application expiry).
# Creates or repairs the two venvs under .cache/ when needed, runs both under one global timeout, and ends with a plain
# line "N passed, N failed" (sum of both); exits non-zero on any failure.
#
# Environment: SLUICE_SPARK_JAR (default: the Spark line's jar in clients/spark/build/; Sluice comparisons skip without
# it), SLUICE_BIN_DIR (default .build/debug; built with `swift build` when missing), SLUICE_SPARK_TESTS_TIMEOUT
# (seconds, default 3000), SLUICE_SPARK_DRY_RUN=1 (the Sluice side uses the builtin shuffle: harness self-test),
# PYTEST_ARGS (extra pytest arguments, e.g. "-k local"), SLUICE_SPARK_SUITES (space-separated subset of
# "spark-3.5 spark-4.3 failures-3.5"; default all).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CACHE="$ROOT/.cache"
DEADLINE=$(( $(date +%s) + ${SLUICE_SPARK_TESTS_TIMEOUT:-3000} ))
mkdir -p "$CACHE"

ensure_venv() {  # dir version
  local dir=$1 version=$2
  if "$dir/bin/python" -c "import sys, pyspark, pytest; sys.exit(pyspark.__version__ != '$version')" 2>/dev/null; then
    return 0
  fi
  echo "spark-tests: setting up $dir (pyspark==$version, pytest)"
  if ! "$dir/bin/python" -c "import sys" 2>/dev/null; then
    rm -rf "$dir"
    python3 -m venv "$dir" || { python3 -m venv --without-pip "$dir" && "$dir/bin/python" -m ensurepip -q; } || return 1
  fi
  "$dir/bin/python" -m pip install -q --disable-pip-version-check "pyspark==$version" pytest
}

if [ -z "${SLUICE_BIN_DIR:-}" ] && [ ! -x .build/debug/sluice-master -o ! -x .build/debug/sluice-worker ]; then
  echo "spark-tests: building sluice-master and sluice-worker (debug)"
  swift build --product sluice-master >/dev/null && swift build --product sluice-worker >/dev/null || exit 1
fi
if [ -z "${SLUICE_SPARK_JAR:-}" ] && ! ls clients/spark/build/sluice-spark-*.jar >/dev/null 2>&1 && [ "${SLUICE_SPARK_DRY_RUN:-}" != 1 ]; then
  echo "spark-tests: no Sluice client jar (clients/spark/build/sluice-spark-*.jar or SLUICE_SPARK_JAR): the comparisons will be skipped"
fi

passed=0 failed=0 skipped=0
run_suite() {  # name venv version test-file
  local name=$1 venv=$2 version=$3 file=$4
  case " ${SLUICE_SPARK_SUITES:-spark-3.5 spark-4.3 failures-3.5} " in *" $name "*) ;; *) return ;; esac
  if ! ensure_venv "$venv" "$version"; then
    echo "spark-tests: $name: could not install pyspark==$version"; failed=$((failed + 1)); return
  fi
  local left=$(( DEADLINE - $(date +%s) ))
  if [ "$left" -le 30 ]; then echo "spark-tests: $name: global timeout reached before it started"; failed=$((failed + 1)); return; fi
  local xml="$CACHE/spark-tests-$name.xml"
  rm -f "$xml"
  echo "spark-tests: $name (pyspark $version, up to ${left}s)"
  timeout --signal=TERM --kill-after=30 "$left" "$venv/bin/python" -m pytest "$file" -p no:cacheprovider -rfEs \
    --junitxml="$xml" ${PYTEST_ARGS:-}
  local rc=$?
  [ "$rc" = 124 ] && echo "spark-tests: $name: killed by the global timeout"
  local counts
  counts=$("$venv/bin/python" - "$xml" <<'PY'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except Exception:
    print("0 0 0"); sys.exit()
suites = [root] if root.tag == "testsuite" else list(root)
t = sum(int(s.get("tests", 0)) for s in suites); f = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
sk = sum(int(s.get("skipped", 0)) for s in suites)
print(t - f - sk, f, sk)
PY
)
  read -r p f s <<<"$counts"
  if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; fi  # crashed, timed out or collected nothing useful
  passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
}

run_suite spark-3.5 "$CACHE/pyspark-3.5" 3.5.9 spark-tests/test_spark_35.py
run_suite spark-4.3 "$CACHE/pyspark-4.3" 4.3.0 spark-tests/test_spark_43.py
run_suite failures-3.5 "$CACHE/pyspark-3.5" 3.5.9 spark-tests/test_failures.py

[ "$skipped" -gt 0 ] && echo "($skipped skipped)"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
