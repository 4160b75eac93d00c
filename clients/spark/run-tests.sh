#!/usr/bin/env bash
# Compiles clients/spark/src/test/java against the built client jar and runs it with JUnit 5's console launcher
# (Debian's junit5 package). Ends with a plain "N passed, N failed" line; exits non-zero on any failure.
# Expects build.sh to have run. The interop test uses <repo>/.build/debug/sluice-{master,worker} and skips
# when they are missing (run `swift build` first).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
build="$here/build"
junit="${JUNIT_CONSOLE_JAR:-/usr/share/java/junit-platform-console-standalone.jar}"
jars35="$repo/.cache/pyspark-3.5/lib/python3.11/site-packages/pyspark/jars"

client_jar="$(ls "$build"/sluice-spark-3.5_2.12-*.jar 2>/dev/null | head -1)"
[ -n "$client_jar" ] || { echo "missing $build/sluice-spark-3.5_2.12-*.jar: run build.sh" >&2; exit 1; }
[ -f "$junit" ] || { echo "missing $junit (apt-get install junit5)" >&2; exit 1; }

rm -rf "$build/test-classes"
mkdir -p "$build/test-classes"
mapfile -t test_sources < <(find "$here/src/test/java" -name '*.java' | sort)
classpath="$client_jar:$jars35/*"
javac --release 17 -encoding UTF-8 -Xlint:all,-path,-serial,-options,-processing -g \
    -cp "$junit:$classpath" -d "$build/test-classes" "${test_sources[@]}"

report="$build/junit-output.txt"
set +e
# Kryo (RecordBuffersTest) reflects into java.base, as Spark's own launcher allows with these flags.
opens=(--add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED
       --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
       --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED)
java "${opens[@]}" -Dsluice.repo="$repo" -cp "$junit:$build/test-classes:$classpath" \
    org.junit.platform.console.ConsoleLauncher --disable-banner --disable-ansi-colors --details=tree \
    --scan-classpath "$build/test-classes" 2>&1 | tee "$report"
status="${PIPESTATUS[0]}"
set -e

count() { sed -nE "s/.*\[ *([0-9]+) tests? $1 *\].*/\1/p" "$report" | tail -1; }
passed="$(count successful)"; failed="$(count failed)"; aborted="$(count aborted)"
passed="${passed:-0}"; failed=$(( ${failed:-0} + ${aborted:-0} ))
echo "$passed passed, $failed failed"
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ]; then
    exit 1
fi
