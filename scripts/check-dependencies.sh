#!/usr/bin/env bash
# Checks the rules of dependency in docs/architecture.md against the sources' import lines. SwiftPM on Linux lets a
# module import any module built before it, so Package.swift alone does not hold these lines; this does.
set -euo pipefail
cd "$(dirname "$0")/.."

failures=0
# imports MODULE_DIR: every module a Swift file under the directory imports, one per line as "file: module".
imports() {
  grep -rHE '^(@testable )?import [A-Za-z_]+' --include='*.swift' "$1" | sed -E 's/:(@testable )?import ([A-Za-z_]+).*/: \2/'
}
# forbid DIR REGEX WHY: fails when a file under DIR imports a module matching REGEX.
forbid() {
  local hits
  hits=$(imports "$1" | grep -E ": ($2)\$" || true)
  if [ -n "$hits" ]; then
    echo "dependency rule broken: $3" >&2
    echo "$hits" >&2
    failures=$((failures + 1))
  fi
}

forbid Sources/SluiceCore 'Sluice[A-Za-z]*|C[A-Z][A-Za-z0-9]*|Foundation|Logging|Metrics' \
  'SluiceCore imports nothing (no Sluice or C module, no Foundation, no logging)'
forbid Sources/SluiceStorage 'SluiceNet|SluiceHTTP|SluiceWorker|SluiceMaster|SluiceClient' \
  'SluiceStorage never imports Net, HTTP or a server module'
forbid Sources/SluiceHTTP 'SluiceStorage|SluiceNet|SluiceWorker|SluiceMaster|SluiceClient|SluiceConfig' \
  'SluiceHTTP sits on Core, System and nghttp2 only (the servers give it its config and routes)'
forbid Sources/SluiceSystem 'Sluice[A-Za-z]*' 'SluiceSystem sits on the system only'
forbid Sources/SluiceAuth 'Sluice(System|Config|Net|HTTP|Storage|Compression|Operations|Worker|Master|Client)|Foundation|Logging' \
  'SluiceAuth sits on Core and swift-crypto only (keys and proofs, no I/O)'
for dir in Sources/*/; do
  case "$dir" in Sources/SluiceTestKit/) continue ;; esac
  forbid "$dir" 'SluiceTestKit' 'only Tests/ and Benchmarks/ import the test kit'
done

if [ "$failures" -gt 0 ]; then exit 1; fi
echo "dependency rules hold"
