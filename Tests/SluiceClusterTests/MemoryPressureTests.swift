import SluiceClient
import SluiceCore
import SluiceTestKit
import Testing

@Suite(.serialized) struct MemoryPressureTests {
    /// Hundreds of partition files whose flush buffers never fill would hold a small budget above its high
    /// watermark forever (push connections paused, nothing flushing). The worker must flush under pressure.
    @Test func manyPartitionsUnderASmallBudgetDoNotStall() throws {
        let cluster = try MiniCluster(workers: 2, workerOverrides: ["worker.memoryBudget": "16m"])
        defer { cluster.shutdown() }
        let client = cluster.client(codec: .none)
        defer { client.close() }
        let mappers: UInt32 = 4
        let partitions: UInt32 = 400
        let recordBytes = 8 << 10
        func record(_ m: UInt32, _ p: UInt32, _ i: Int) -> [UInt8] {
            (0..<recordBytes).map { UInt8(truncatingIfNeeded: $0 &+ Int(m) &* 7 &+ Int(p) &* 13 &+ i) }
        }
        let key = ShuffleKey(applicationId: "app-pressure", shuffleId: 0)
        let handle = try client.registerShuffle(key, numMappers: mappers, numPartitions: partitions)
        for m in 0..<mappers {
            let writer = client.writer(handle, mapIndex: m, attemptId: UInt64(m) + 1)
            for i in 0..<3 {
                for p in 0..<partitions { try writer.write(partitionId: p, bytes: record(m, p, i)) }
            }
            _ = try writer.close()  // 2 x 38 MiB through two 16 MiB budgets: must not stall
        }
        let reader = client.reader(key)
        let winners = Dictionary(uniqueKeysWithValues: (0..<mappers).map { ($0, UInt64($0) + 1) })
        for p in stride(from: UInt32(0), to: partitions, by: 37) {
            var got: [UInt32: [UInt8]] = [:]
            try reader.read(partitionId: p, winners: winners, nonEmptyMaps: Set(0..<mappers)) { header, raw in
                got[header.mapIndex, default: []] += raw
            }
            for m in 0..<mappers {
                #expect(got[m] == (0..<3).flatMap { record(m, p, $0) }, "map \(m) partition \(p)")
            }
        }
    }
}
