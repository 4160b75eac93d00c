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
}
