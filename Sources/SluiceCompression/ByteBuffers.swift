// Pointer plumbing shared by the C codec wrappers. The C libraries get non-null pointers even for
// zero-length buffers (some of their entry points reject NULL), and every written count is range-checked.

/// Calls `body` with a non-null pointer to `bytes` and their count.
func withNonNullBytes<R>(_ bytes: ArraySlice<UInt8>, _ body: (UnsafeRawPointer, Int) -> R) -> R {
    bytes.withUnsafeBytes { buffer in
        if let base = buffer.baseAddress { return body(base, buffer.count) }
        var placeholder: UInt8 = 0
        return withUnsafePointer(to: &placeholder) { body(UnsafeRawPointer($0), 0) }
    }
}

/// A new array filled by `fill`, which gets a non-null destination of `capacityBytes` bytes and returns
/// how many it wrote, or nil on failure. Returns nil when `fill` fails or claims more than the capacity.
func makeBytes(capacityBytes: Int, _ fill: (UnsafeMutableRawPointer, Int) -> Int?) -> [UInt8]? {
    var failed = false
    let bytes = [UInt8](unsafeUninitializedCapacity: max(capacityBytes, 1)) { buffer, initializedCount in
        initializedCount = 0
        guard let base = buffer.baseAddress,
            let written = fill(UnsafeMutableRawPointer(base), capacityBytes),
            written >= 0, written <= capacityBytes
        else {
            failed = true
            return
        }
        initializedCount = written
    }
    return failed ? nil : bytes
}

/// Appends up to `capacityBytes` bytes written by `fill` to `output` (see `makeBytes`); on failure
/// `output` is left as it was and the result is false. The reserved tail is zero-filled first.
func appendBytes(
    to output: inout [UInt8], capacityBytes: Int,
    _ fill: (UnsafeMutableRawPointer, Int) -> Int?
) -> Bool {
    let start = output.count
    output.append(contentsOf: repeatElement(0, count: max(capacityBytes, 1)))
    let reserved = output.count - start
    let written: Int? = output.withUnsafeMutableBytes { buffer in
        guard let base = buffer.baseAddress else { return nil }
        return fill(base + start, capacityBytes)
    }
    guard let written, written >= 0, written <= capacityBytes else {
        output.removeLast(reserved)
        return false
    }
    output.removeLast(reserved - written)
    return true
}
