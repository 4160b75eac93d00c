// libFuzzer entry points for the decoder fuzz targets of Tests/SluiceFuzzTests, built by scripts/fuzz-libfuzzer.sh
// (not by SwiftPM). SLUICE_FUZZ_TARGET names the target; SLUICE_FUZZ_SEED_DIR, when set, receives the target's
// generated seeds before libFuzzer reads its corpus directories.

#if canImport(Glibc)
    import Glibc
#endif

/// The target under fuzz and its check, chosen once in `LLVMFuzzerInitialize` (libFuzzer calls in from one thread).
enum LibFuzzerState {
    nonisolated(unsafe) static var check: ((ArraySlice<UInt8>) -> FuzzOutcome)?
}

@_cdecl("LLVMFuzzerInitialize")
public func libFuzzerInitialize(
    _ argc: UnsafeMutablePointer<CInt>?,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?
) -> CInt {
    let name = getenv("SLUICE_FUZZ_TARGET").map { String(cString: $0) } ?? ""
    guard let target = FuzzTarget.all.first(where: { $0.name == name }) else {
        print("set SLUICE_FUZZ_TARGET to one of: \(FuzzTarget.all.map(\.name).joined(separator: " "))")
        exit(2)
    }
    if let directory = getenv("SLUICE_FUZZ_SEED_DIR").map({ String(cString: $0) }) {
        for (index, seed) in target.seeds().enumerated() {
            guard let file = fopen("\(directory)/seed-\(index).bin", "wb") else { continue }
            _ = seed.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
            fclose(file)
        }
    }
    LibFuzzerState.check = target.makeCheck()
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func libFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    if case .violation(let problem) = LibFuzzerState.check?(input[...]) {
        print("fuzz target violation: \(problem)")
        abort()  // libFuzzer saves the input as crash-<sha1>
    }
    return 0
}
