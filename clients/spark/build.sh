#!/usr/bin/env bash
# Builds one jar per Spark line with plain javac + jar against pip's pyspark jars (no Maven):
#   clients/spark/build/sluice-spark-3.5_2.12-VERSION.jar and clients/spark/build/sluice-spark-4_2.13-VERSION.jar.
#   src/main/java   (every package) with javac --release 17 against pyspark 3.5.9's jars,
#   src/shim43/java (if it has .java files) against pyspark 4.3.0's jars plus the first output;
#   src/compat/java (if it has .java files) against pyspark 3.5.9's jars, into both jars (see docs/spark.md,
#   "One jar for every Spark 4.x minor").
# Installs pyspark 3.5.9 and 4.3.0 into <repo>/.cache/pyspark-3.5 and .cache/pyspark-4.3 virtual environments
# when they are missing. Prints the jars' paths on success.
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

# One self-contained jar per Spark line, the version in its name and manifest. Both carry everything, including the
# declaration of the one interface Spark 3.5 to 4.2 lack (src/compat); they differ in the Scala line they are for.
version="$(sed -nE 's/.*current = "([^"]+)".*/\1/p' "$repo/Sources/SluiceCore/SluiceVersion.swift")"
[ -n "$version" ] || { echo "no version in Sources/SluiceCore/SluiceVersion.swift" >&2; exit 1; }
compat_sources=()
if [ -d "$here/src/compat/java" ]; then
    mapfile -t compat_sources < <(find "$here/src/compat/java" -name '*.java' | sort)
fi
rm -rf "$build/classescompat"
mkdir -p "$build/classescompat"
if [ "${#compat_sources[@]}" -gt 0 ]; then
    javac --release 17 -encoding UTF-8 -Xlint:all,-path,-serial,-options -g \
        -cp "$jars35/*" -d "$build/classescompat" "${compat_sources[@]}"
fi
rm -f "$build"/sluice-spark-*.jar "$build/sluice-spark35-compat.jar"
# make_jar NAME LINE CLASS_DIRS...: a jar of the class directories with a manifest naming the version and the line.
make_jar() {
    local name="$1" line="$2"
    shift 2
    local manifest="$build/MANIFEST-$line.MF"
    printf 'Implementation-Title: Sluice Spark client\nImplementation-Version: %s\nSluice-Spark-Line: %s\n' \
        "$version" "$line" > "$manifest"
    local args=()
    for dir in "$@"; do
        [ -n "$(ls -A "$dir")" ] && args+=(-C "$dir" .)
    done
    jar --create --file "$build/$name" --manifest "$manifest" "${args[@]}"
    echo "$build/$name"
}
make_jar "sluice-spark-3.5_2.12-$version.jar" 3.5 "$build/classes" "$build/classes43" "$build/classescompat"
make_jar "sluice-spark-4_2.13-$version.jar" 4 "$build/classes" "$build/classes43" "$build/classescompat"
