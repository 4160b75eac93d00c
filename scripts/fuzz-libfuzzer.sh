#!/usr/bin/env bash
# Longer, coverage-guided fuzzing of one decoder target with libFuzzer and AddressSanitizer (not part of `make test`).
# The targets are those of Tests/SluiceFuzzTests (docs/fuzzing.md; an unknown name prints the list):
#   scripts/fuzz-libfuzzer.sh PushRequest -max_total_time=600
# Extra arguments go to libFuzzer. Builds into .build-fuzz/; the corpus grows in .build-fuzz/corpus/<target>/,
# seeded from the checked-in Tests/SluiceFuzzTests/Corpus/<target>/ and the target's generated seeds. A crash, a
# violated property (the entry point aborts) or a hang over 2 s leaves its input in .build-fuzz/artifacts/<target>/:
# once fixed, copy it into the checked-in corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:?usage: $0 TARGET [libFuzzer options...]}"
shift
build=.build-fuzz
sanitizers=(--sanitize fuzzer --sanitize address)

swift build --build-path "$build" "${sanitizers[@]}" -Xswiftc -enable-testing --target SluiceHTTP
swift build --build-path "$build" "${sanitizers[@]}" -Xswiftc -enable-testing --target SluiceCompression
debug="$build/debug"
out="$build/libfuzzer"
mkdir -p "$out"

# The seeded generator the targets use, as its own small module (the whole test kit pulls in the servers).
swiftc -sanitize=fuzzer,address -parse-as-library -wmo -module-name SluiceTestKit \
  -emit-module -emit-module-path "$out/SluiceTestKit.swiftmodule" -c -o "$out/SluiceTestKit.o" \
  Sources/SluiceTestKit/SeededGenerator.swift Sources/SluiceTestKit/TestKitError.swift

targets=(FuzzTarget MessageSamples MessageTargets BatchTargets HTTPTargets)
sources=()
for name in "${targets[@]}"; do sources+=("Tests/SluiceFuzzTests/$name.swift"); done
objects=()
for module in SluiceCore SluiceSystem SluiceHTTP SluiceCompression CSluiceShim Logging; do
  objects+=("$debug/$module.build"/*.o)
done
swiftc -sanitize=fuzzer,address -parse-as-library -swift-version 6 -module-name SluiceFuzz \
  -I "$debug/Modules" -I "$out" -I Sources/CLZ4 -I Sources/CZstd -I Sources/CNghttp2 -I Sources/CSluiceShim/include \
  -Xcc -fmodule-map-file="$debug/CSluiceShim.build/module.modulemap" \
  "${sources[@]}" scripts/fuzz/LibFuzzerEntry.swift "$out/SluiceTestKit.o" "${objects[@]}" \
  -llz4 -lzstd -lnghttp2 -o "$out/sluice-fuzz"

corpus="$build/corpus/$target"
artifacts="$build/artifacts/$target/"
mkdir -p "$corpus" "$artifacts"
if [ -d "Tests/SluiceFuzzTests/Corpus/$target" ]; then cp -n "Tests/SluiceFuzzTests/Corpus/$target"/*.bin "$corpus"/; fi
SLUICE_FUZZ_TARGET="$target" SLUICE_FUZZ_SEED_DIR="$corpus" \
  "$out/sluice-fuzz" -timeout=2 -artifact_prefix="$artifacts" "$@" "$corpus"
