import CSluiceShim

/// CRC32C (Castagnoli) checksums over `sluice_crc32c` from the C shim (SSE4.2 when the CPU has it).
///
/// A checksum of zero bytes with seed 0 is 0. Feeding a previous result back as `seed` continues the
/// checksum, so `checksum(b, seed: checksum(a)) == checksum(a + b)`.
public enum CRC32C {
    /// True when `sluice_crc32c_is_hardware` reports the SSE4.2 instruction path.
    public static var isHardwareAccelerated: Bool { sluice_crc32c_is_hardware() != 0 }

    /// CRC32C of `bytes`, continuing from `seed` (0 to start); calls `sluice_crc32c`.
    public static func checksum(_ bytes: UnsafeRawBufferPointer, seed: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return seed }
        return sluice_crc32c(seed, base, bytes.count)
    }

    /// CRC32C of `bytes`, continuing from `seed` (0 to start); calls `sluice_crc32c`.
    public static func checksum(_ bytes: ArraySlice<UInt8>, seed: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0, seed: seed) }
    }

    /// CRC32C of `bytes`, continuing from `seed` (0 to start); calls `sluice_crc32c`.
    public static func checksum(_ bytes: [UInt8], seed: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0, seed: seed) }
    }
}
