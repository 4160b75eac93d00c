import Dispatch
import SluiceClient
import SluiceCore
import SluiceNet
import SluiceTestKit
import Synchronization

/// Deterministic shuffle output for tests: what map `m` writes to partition `p`, with empty pairs, 1-byte
/// batches, small records and a few 4 MiB records.
struct ShuffleData {
    let mappers: UInt32
    let partitions: UInt32
    var bigRecordBytes = 4 << 20

    func isEmpty(map m: UInt32, partition p: UInt32) -> Bool {
        p % 50 == 49 || (m &* 7 &+ p) % 5 == 0
    }

    /// The records of one (map, partition) pair, in write order.
    func records(map m: UInt32, partition p: UInt32) -> [[UInt8]] {
        guard !isEmpty(map: m, partition: p) else { return [] }
        if p == 1 { return [[UInt8(truncatingIfNeeded: m)]] }
        var generator = SeededGenerator(seed: UInt64(m) &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(p) &* 0xBF58_476D_1CE4_E5B9)
        func next() -> UInt64 { generator.next() }
        var result: [[UInt8]] = []
        for _ in 0..<(1 + Int(next() % 4)) {
            let size = 1 + Int(next() % 300)
            // Shuffle-like text: repeated words compress, varying digits do not.
            let text = "key-\(m)-\(p)-\(next() % 1000) value \(String(repeating: "abc", count: size / 3))"
            result.append(Array(text.utf8.prefix(size)))
        }
        if (m + p) % 97 == 0 && m % 10 == 0 {
            result.append((0..<bigRecordBytes).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(m)) })
        }
        return result
    }

    func expected(map m: UInt32, partition p: UInt32) -> [UInt8] { records(map: m, partition: p).flatMap { $0 } }

    func nonEmptyMaps(partition p: UInt32) -> Set<UInt32> {
        Set((0..<mappers).filter { !isEmpty(map: $0, partition: p) })
    }

    /// Runs every map task (or those in `maps`) on `threads` threads; each writes with `attemptId(m)`.
    func writeAll(
        client: SluiceClient, handle: ShuffleHandle, threads: Int = 4, maps: [UInt32]? = nil,
        attemptId: @Sendable (UInt32) -> UInt64
    ) throws -> [MapWriteResult] {
        let results = Mutex<[UInt32: MapWriteResult]>([:])
        let failures = Mutex<[String]>([])
        let data = self
        let selected = maps ?? Array(0..<mappers)
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            for m in stride(from: thread, to: selected.count, by: threads).map({ selected[$0] }) {
                do {
                    let writer = client.writer(handle, mapIndex: m, attemptId: attemptId(m))
                    for p in 0..<data.partitions {
                        for record in data.records(map: m, partition: p) {
                            try writer.write(partitionId: p, bytes: record)
                        }
                    }
                    let result = try writer.close()
                    results.withLock { $0[m] = result }
                } catch {
                    failures.withLock { $0.append("map \(m): \(error)") }
                }
            }
        }
        let failed = failures.withLock { $0 }
        guard failed.isEmpty else { throw ClientError(.internalError, failed.joined(separator: "\n")) }
        return results.withLock { r in selected.compactMap { r[$0] } }
    }

    /// Reads every partition and returns the pairs whose bytes differ from what was written.
    /// What the reader got wrong, per (map, partition). `knowsNonEmptyMaps: false` reads as a client that cannot
    /// tell which maps wrote to a partition, so only the copies themselves can reveal a missing map.
    func mismatches(reader: ShuffleReader, attemptId: (UInt32) -> UInt64, knowsNonEmptyMaps: Bool = true) throws
        -> [String]
    {
        var wrong: [String] = []
        let winners = Dictionary(uniqueKeysWithValues: (0..<mappers).map { ($0, attemptId($0)) })
        for p in 0..<partitions {
            var batches: [UInt32: [UInt32: [UInt8]]] = [:]
            let nonEmpty = knowsNonEmptyMaps ? nonEmptyMaps(partition: p) : []
            try reader.read(partitionId: p, winners: winners, nonEmptyMaps: nonEmpty) { header, raw in
                batches[header.mapIndex, default: [:]][header.sequence] = Array(raw)
            }
            for m in 0..<mappers {
                let got = (batches[m] ?? [:]).sorted { $0.key < $1.key }.flatMap(\.value)
                if got != expected(map: m, partition: p) { wrong.append("map \(m) partition \(p): \(got.count) bytes") }
            }
        }
        return wrong
    }
}

/// Sends one raw push of `batch` for `partitionId` to the partition's primary (as a misbehaving or retrying
/// client would), returning the entry status.
func pushRaw(_ batch: Batch, partitionId: UInt32, handle: ShuffleHandle) throws -> StatusCode {
    guard let location = handle.locations.locations.first(where: { $0.partitionId == partitionId }),
        let primary = location.primary
    else { throw ClientError(.unknownPartition, "no location") }
    let client = try FrameClient.connect(host: primary.host, port: Int(primary.port), role: .client, identity: "raw")
    defer { client.close() }
    let push = PushRequest(
        shuffle: handle.shuffle, role: .primary,
        entries: [
            PushEntry(
                partitionId: partitionId, epoch: location.epoch,
                replica: location.replica, batch: batch)
        ])
    let reply = try PushResponse.decode(body: try client.call(type: push.frameType, body: push.encodedBody()).body)
    return reply.statuses(count: 1)[0]
}
