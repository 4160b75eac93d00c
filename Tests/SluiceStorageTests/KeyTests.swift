import Testing

@testable import SluiceStorage

@Suite struct KeyTests {
    @Test(arguments: ["", "/", "..", ".", "a/b", "a\u{0}b", "app id", "ü", String(repeating: "a", count: 201)])
    func rejectsUnsafeApplicationIds(_ applicationId: String) {
        #expect(throws: StorageError.self) {
            _ = try PartitionFileKey(
                applicationId: applicationId, shuffleId: 1, partitionId: 2, epoch: 0, role: .primary)
        }
        do {
            try PartitionFileKey.validateApplicationId(applicationId)
        } catch {
            #expect(error.code == .invalidKey)
            #expect(!error.message.isEmpty)
        }
    }

    @Test(arguments: [
        "app-20240101123456-0001", "local-1700000000000", "application_1_2", "a.b",
        String(repeating: "z", count: 200),
    ])
    func acceptsSparkApplicationIds(_ applicationId: String) throws {
        let key = try PartitionFileKey(
            applicationId: applicationId, shuffleId: 3, partitionId: 7, epoch: 2, role: .replica)
        #expect(key.fileName == "7-2-r.data")
    }

    @Test func fileNamesRoundTrip() {
        let parsed = PartitionFileKey.parseFileName("12-3-p.data")
        #expect(parsed?.partitionId == 12 && parsed?.epoch == 3 && parsed?.role == .primary)
        #expect(PartitionFileKey.parseFileName("12-3-x.data") == nil)
        #expect(PartitionFileKey.parseFileName("12-3-p.tmp") == nil)
        #expect(PartitionFileKey.parseFileName("-3-p.data") == nil)
    }

    @Test func chunkMapRangeMatchesAnyMapInRange() {
        let chunk = ChunkInfo(
            index: 0, offsetBytes: 0, lengthBytes: 1, batchCount: 3, mapIndexes: [2, 5, 9],
            hasUncompressed: false)
        #expect(chunk.containsMap(from: 0, to: 3))
        #expect(!chunk.containsMap(from: 3, to: 5))
        #expect(chunk.containsMap(from: 5, to: 6))
        #expect(!chunk.containsMap(from: 10, to: 100))
        #expect(!chunk.containsMap(from: 4, to: 4))
    }
}
