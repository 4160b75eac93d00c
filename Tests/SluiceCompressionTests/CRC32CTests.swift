import CSluiceShim
import SluiceTestKit
import Testing

@testable import SluiceCompression

@Suite struct CRC32CTests {
    @Test func standardCheckValue() {
        let input = Array("123456789".utf8)
        #expect(CRC32C.checksum(input) == 0xE306_9283)
        #expect(CRC32C.checksum(input[...]) == 0xE306_9283)
        #expect(input.withUnsafeBytes { CRC32C.checksum($0) } == 0xE306_9283)
    }

    @Test func emptyInputReturnsSeed() {
        #expect(CRC32C.checksum([UInt8]()) == 0)
        #expect(CRC32C.checksum([UInt8](), seed: 0x1234_5678) == 0x1234_5678)
    }

    @Test(arguments: [0, 1, 7, 8, 9, 1000, 4095])
    func incrementalEqualsOneShot(splitAt: Int) {
        let data = TestData.shuffleRecords(byteCount: 4096)
        let oneShot = CRC32C.checksum(data)
        let first = CRC32C.checksum(data[..<splitAt])
        #expect(CRC32C.checksum(data[splitAt...], seed: first) == oneShot)
    }

    @Test func detectsASingleBitFlip() {
        var data = TestData.shuffleRecords(byteCount: 1000)
        let before = CRC32C.checksum(data)
        data[500] ^= 0x01
        #expect(CRC32C.checksum(data) != before)
    }

    // The hardware path runs three crc32 chains over blocks of 3 * 8192 bytes, then of 3 * 256 bytes, then
    // 8-byte words, then single bytes; the software path is the plain table. Every block boundary, every
    // start alignment and a non-zero seed must give the same result on both.

    private static let longBlock = 8192
    private static let shortBlock = 256
    /// Random bytes, enough for the largest length checked plus the largest start offset.
    private static let noise = TestData.noise(byteCount: (1 << 20) + 8)

    private static func hardware(_ bytes: ArraySlice<UInt8>, seed: UInt32) -> UInt32 {
        bytes.withUnsafeBytes { sluice_crc32c(seed, $0.baseAddress, $0.count) }
    }

    private static func software(_ bytes: ArraySlice<UInt8>, seed: UInt32) -> UInt32 {
        bytes.withUnsafeBytes { sluice_crc32c_software(seed, $0.baseAddress, $0.count) }
    }

    /// Lengths next to every place where the hardware path changes block size or runs another round.
    private static var boundaryLengths: [Int] {
        let short3 = 3 * shortBlock
        let long3 = 3 * longBlock
        let centres = [short3, 2 * short3, long3, long3 + short3, long3 + 600, 2 * long3, 2 * long3 + short3]
        return centres.flatMap { centre in (-9...9).map { centre + $0 } }
    }

    @Test func softwarePathStandardCheckValue() {
        let input = Array("123456789".utf8)
        #expect(sluice_crc32c_software(0, input, input.count) == 0xE306_9283)
        #expect(sluice_crc32c(0, input, input.count) == 0xE306_9283)
    }

    /// Both paths over `lengths` bytes starting `offset` bytes into `noise`, from seed 0 and from `seed`.
    private static func expectPathsAgree(offset: Int, lengths: [Int], seed: UInt32) {
        for length in lengths {
            let bytes = noise[offset..<(offset + length)]
            #expect(hardware(bytes, seed: 0) == software(bytes, seed: 0), "length \(length)")
            #expect(hardware(bytes, seed: seed) == software(bytes, seed: seed), "length \(length), seed \(seed)")
        }
    }

    @Test(arguments: 0..<8)
    func hardwareEqualsSoftwareForEveryLengthUpTo1200(offset: Int) {
        Self.expectPathsAgree(offset: offset, lengths: Array(0...1200), seed: 0x9E37_79B9)
    }

    @Test(arguments: 0..<8)
    func hardwareEqualsSoftwareAroundBlockBoundaries(offset: Int) {
        Self.expectPathsAgree(offset: offset, lengths: Self.boundaryLengths, seed: 0xDEAD_BEEF)
    }

    @Test(arguments: 0..<8)
    func hardwareEqualsSoftwareForLargeLengths(offset: Int) {
        var generator = SeededGenerator(seed: UInt64(offset) + 1)
        let randomLengths = (0..<4).map { _ in Int.random(in: (3 * Self.longBlock)...(1 << 20), using: &generator) }
        let seed = UInt32.random(in: 1...UInt32.max, using: &generator)
        Self.expectPathsAgree(offset: offset, lengths: [1 << 20] + randomLengths, seed: seed)
    }

    @Test func continuingFromASeedEqualsOneShotAtRandomSplits() {
        var generator = SeededGenerator(seed: 2024)
        let whole = Self.noise[0..<(2 * 3 * Self.longBlock + 3 * Self.shortBlock + 601)]
        let expected = Self.software(whole, seed: 0)
        #expect(Self.hardware(whole, seed: 0) == expected)
        for _ in 0..<200 {
            // Two random cut points: A | B | C, each piece continued from the previous piece's checksum.
            let first = Int.random(in: 0...whole.count, using: &generator)
            let second = Int.random(in: first...whole.count, using: &generator)
            let pieces = [whole[..<first], whole[first..<second], whole[second...]]
            var hardware: UInt32 = 0
            var software: UInt32 = 0
            for piece in pieces {
                hardware = Self.hardware(piece, seed: hardware)
                software = Self.software(piece, seed: software)
            }
            #expect(hardware == expected, "cuts \(first), \(second)")
            #expect(software == expected, "cuts \(first), \(second)")
            #expect(CRC32C.checksum(whole[first...], seed: CRC32C.checksum(whole[..<first])) == expected)
        }
    }
}
