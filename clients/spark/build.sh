#!/usr/bin/env bash
# Builds clients/spark/build/sluice-spark-client.jar with plain javac + jar against pip's pyspark jars (no Maven):
#   src/main/java   (every package) with javac --release 17 against pyspark 3.5.9's jars,
#   src/shim43/java (if it has .java files) against pyspark 4.3.0's jars plus the first output;
#   src/compat35/java (if it has .java files) against pyspark 3.5.9's jars into build/sluice-spark35-compat.jar.
# Installs pyspark 3.5.9 and 4.3.0 into <repo>/.cache/pyspark-3.5 and .cache/pyspark-4.3 virtual environments
# when they are missing. Prints the jar path on success.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cache="$repo/.cache"
build="$here/build"

# Ensures a venv at $1 with pyspark==$2; prints its jars directory.
ensure_pyspark() {
    local venv="$1" version="$2"
    local jars="$venv/lib/python3.11/site-packages/pyspark/jars"
    if [ ! -f "$venv/bin/python" ] || ! "$venv/bin/python" -c "import pyspark, sys; sys.exit(pyspark.__version__ != '$version')" 2>/dev/null; then
        echo "installing pyspark $version into $venv" >&2
        rm -rf "$venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check "pyspark==$version" >&2
    fi
    jars="$("$venv/bin/python" -c 'import os, pyspark; print(os.path.join(os.path.dirname(pyspark.__file__), "jars"))')"
    [ -d "$jars" ] || { echo "no jars directory in $venv" >&2; exit 1; }
    printf '%s\n' "$jars"
}

mkdir -p "$cache"
jars35="$(ensure_pyspark "$cache/pyspark-3.5" 3.5.9)"
jars43="$(ensure_pyspark "$cache/pyspark-4.3" 4.3.0)"

rm -rf "$build/classes" "$build/classes43"
mkdir -p "$build/classes" "$build/classes43"

mapfile -t main_sources < <(find "$here/src/main/java" -name '*.java' | sort)
[ "${#main_sources[@]}" -gt 0 ] || { echo "no sources under $here/src/main/java" >&2; exit 1; }
javac --release 17 -encoding UTF-8 -Xlint:all,-path,-serial,-options -g \
    -cp "$jars35/*" -d "$build/classes" "${main_sources[@]}"

shim_sources=()
if [ -d "$here/src/shim43/java" ]; then
    mapfile -t shim_sources < <(find "$here/src/shim43/java" -name '*.java' | sort)
fi
if [ "${#shim_sources[@]}" -gt 0 ]; then
    javac --release 17 -encoding UTF-8 -Xlint:all,-path,-serial,-options -g \
        -cp "$build/classes:$jars43/*" -d "$build/classes43" "${shim_sources[@]}"
fi

rm -f "$build/sluice-spark-client.jar"
jar --create --file "$build/sluice-spark-client.jar" -C "$build/classes" .
if [ "${#shim_sources[@]}" -gt 0 ]; then
    jar --update --file "$build/sluice-spark-client.jar" -C "$build/classes43" .
fi
echo "$build/sluice-spark-client.jar"

# Optional: src/compat35/java (classes only Spark 3.5 lacks) as a separate jar for Spark 3.5 class paths only.
compat_sources=()
if [ -d "$here/src/compat35/java" ]; then
    mapfile -t compat_sources < <(find "$here/src/compat35/java" -name '*.java' | sort)
fi
rm -rf "$build/classes35compat"
rm -f "$build/sluice-spark35-compat.jar"
if [ "${#compat_sources[@]}" -gt 0 ]; then
    mkdir -p "$build/classes35compat"
    javac --release 17 -encoding UTF-8 -Xlint:all,-path,-serial,-options -g \
        -cp "$jars35/*" -d "$build/classes35compat" "${compat_sources[@]}"
    jar --create --file "$build/sluice-spark35-compat.jar" -C "$build/classes35compat" .
    echo "$build/sluice-spark35-compat.jar"
fi
