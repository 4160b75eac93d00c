#!/usr/bin/env bash
# Spark test suites: real pyspark, each job run with Spark's builtin shuffle and with Sluice, results compared.
#   spark-3.5      3.5.9, the full job set (spark-tests/test_spark_35.py)
#   spark-4.0/4.1/4.2/4.3  4.0.5, 4.1.4, 4.2.1, 4.3.0: the smoke set (4.3: the full job set) with the one Spark 4 jar
#                  through spark.jars and once through extraClassPath (spark-tests/test_spark_4x.py); on 4.1+ also the
#                  row checksum
#                  (spark-tests/test_checksum.py)
#   failures-3.5, failures-4.0, failures-4.1, failures-4.2: executor, worker and master loss, SIGTERM drain,
#                  rolling restart, application expiry, task metrics, slowest-worker log line
#                  (spark-tests/test_failures.py)
# Every suite also checks that the jar's static references resolve against that Spark's jars (tools/LinkCheck.java).
# Creates or repairs one venv per Spark minor under .cache/ first, then runs up to SLUICE_SPARK_PARALLEL_SUITES
# suites at a time (default 2; each suite's output is printed when all are done, and kept in
# .cache/spark-tests-NAME.log), all under one global timeout, and ends with a plain line "N passed, N failed" (sum of
# all); exits non-zero on any failure.
#
# Environment: SLUICE_SPARK_JAR (default: the Spark line's jar in clients/spark/build/; Sluice comparisons skip without
# it), SLUICE_BIN_DIR (default .build/debug; built with `swift build` when missing), SLUICE_SPARK_TESTS_TIMEOUT
# (seconds, default 5400), SLUICE_SPARK_DRY_RUN=1 (the Sluice side uses the builtin shuffle: harness self-test),
# PYTEST_ARGS (extra pytest arguments, e.g. "-k local"), SLUICE_SPARK_SUITES (space-separated subset of the suites
# above; default all), SLUICE_SPARK_JAR_VIA (jars or classpath: overrides how the Sluice side adds the jar).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CACHE="$ROOT/.cache"
DEADLINE=$(( $(date +%s) + ${SLUICE_SPARK_TESTS_TIMEOUT:-5400} ))
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

# name version test-files; the two full job sets first, so that the longest suites overlap (two run at a time)
SUITES=(
  "spark-3.5 3.5.9 spark-tests/test_spark_35.py"
  "spark-4.3 4.3.0 spark-tests/test_spark_4x.py spark-tests/test_checksum.py"
  "spark-4.0 4.0.5 spark-tests/test_spark_4x.py"
  "spark-4.1 4.1.4 spark-tests/test_spark_4x.py spark-tests/test_checksum.py"
  "spark-4.2 4.2.1 spark-tests/test_spark_4x.py spark-tests/test_checksum.py"
  "failures-3.5 3.5.9 spark-tests/test_failures.py"
  "failures-4.0 4.0.5 spark-tests/test_failures.py"
  "failures-4.1 4.1.4 spark-tests/test_failures.py"
  "failures-4.2 4.2.1 spark-tests/test_failures.py"
)
ALL_SUITES=$(for s in "${SUITES[@]}"; do printf '%s ' "${s%% *}"; done)
selected() { case " ${SLUICE_SPARK_SUITES:-$ALL_SUITES} " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
venv_of() { local minor=${1%.*}; echo "$CACHE/pyspark-$minor"; }  # 4.1.4 -> .cache/pyspark-4.1

# Venvs first, one at a time (two suites share each venv).
declare -A venv_ok
for entry in "${SUITES[@]}"; do
  read -r name version _ <<<"$entry"
  selected "$name" || continue
  [ -n "${venv_ok[$version]:-}" ] && continue
  if ensure_venv "$(venv_of "$version")" "$version"; then venv_ok[$version]=1; else venv_ok[$version]=0; fi
done

# Runs one suite; its output goes to .cache/spark-tests-NAME.log, "passed failed skipped" to .counts.
run_suite() {  # name version test-files...
  local name=$1 version=$2 venv
  shift 2
  local files=("$@")
  venv=$(venv_of "$version")
  local counts_file="$CACHE/spark-tests-$name.counts"
  echo "0 1 0" > "$counts_file"
  if [ "${venv_ok[$version]}" != 1 ]; then
    echo "spark-tests: $name: could not install pyspark==$version"; return
  fi
  local left=$(( DEADLINE - $(date +%s) ))
  if [ "$left" -le 30 ]; then echo "spark-tests: $name: global timeout reached before it started"; return; fi
  local xml="$CACHE/spark-tests-$name.xml" started=$SECONDS
  rm -f "$xml"
  echo "spark-tests: $name (pyspark $version, up to ${left}s)"
  timeout --signal=TERM --kill-after=30 "$left" "$venv/bin/python" -m pytest "${files[@]}" -p no:cacheprovider -rfEs \
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
  echo "$p $f $s" > "$counts_file"
  echo "spark-tests: $name: $p passed, $f failed, $s skipped in $((SECONDS - started))s"
}

parallel=${SLUICE_SPARK_PARALLEL_SUITES:-2}
ran=()
for entry in "${SUITES[@]}"; do
  read -r name version files <<<"$entry"
  selected "$name" || continue
  while [ "$(jobs -rp | wc -l)" -ge "$parallel" ]; do wait -n; done
  echo "spark-tests: starting $name"
  # shellcheck disable=SC2086 # files: space-separated paths without spaces
  run_suite "$name" "$version" $files > "$CACHE/spark-tests-$name.log" 2>&1 &
  ran+=("$name")
done
wait

passed=0 failed=0 skipped=0
for name in "${ran[@]}"; do
  echo "================================================================ $name"
  cat "$CACHE/spark-tests-$name.log"
  read -r p f s < "$CACHE/spark-tests-$name.counts"
  passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
done
for name in "${ran[@]}"; do tail -n 1 "$CACHE/spark-tests-$name.log"; done

[ "$skipped" -gt 0 ] && echo "($skipped skipped)"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
