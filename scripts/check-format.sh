#!/usr/bin/env bash
# Checks that the Swift sources are formatted and lint-clean by .swift-format (120 columns); `make format` fixes the
# formatting. Run by `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
paths=(Sources Tests Benchmarks Package.swift)
unformatted=()
while IFS= read -r file; do
  if ! diff -q "$file" <(swift format format "$file") >/dev/null; then unformatted+=("$file"); fi
done < <(find Sources Tests Benchmarks -name '*.swift'; echo Package.swift)
if [ "${#unformatted[@]}" -gt 0 ]; then
  echo "not formatted (run make format):" >&2
  printf '  %s\n' "${unformatted[@]}" >&2
  exit 1
fi
swift format lint --strict -r -p "${paths[@]}"
echo "formatting and lint hold"
