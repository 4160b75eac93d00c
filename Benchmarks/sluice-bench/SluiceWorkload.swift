import Dispatch
import SluiceClient
import SluiceCompression
import SluiceCore
import Synchronization

/// One Sluice scenario run: M mappers push realistic records into R partitions, then reducers read every partition
/// back and verify every byte: per (map, partition) the length and the CRC32C of the bytes in write order must equal
/// what the mapper wrote. Push and fetch are measured alone; the optional mixed phase pushes a second shuffle while
/// the first is read (and verified) again.
struct SluiceWorkload {
    let masterEndpoint: String
    /// The run's application id (one per `sluice-bench` run).
    let applicationId: String
    let scenario: Scenario
    let mappers: Int
    let partitions: Int
    /// Bytes each map task writes.
    let bytesPerMap: Int
    /// Each `write` call hands the writer this many bytes (a serializer's output buffer, or one small block).
    let writeSliceBytes: Int
    let threads: Int
    let pushBytes: Int
    let mixed: Bool
    /// Measures the child-process cluster's workers; nil for a remote or in-process cluster.
    let meter: WorkerMeter?
    /// Where progress and warnings go.
    let log: RunLog

    /// What one (map, partition) pair received: byte count and CRC32C of the bytes in write order.
    struct Written: Sendable, Equatable {
        var bytes = 0
        var crc32c: UInt32 = 0
    }

    /// One measured phase: throughput and client CPU, the workers' CPU and peak RSS, and push latencies.
    struct Phase {
        var measurement: Measurement
        var server: ServerMetrics
        var pushLatency: LatencySummary?
    }

    /// Runs push, fetch and (if `mixed`) the mixed phase under fresh shuffle ids `shuffleId` and `shuffleId + 1`.
    func run(shuffleId: UInt32) throws -> [Phase] {
        let latencies = LatencyLog()
        let client = SluiceClient(
            config: ClientConfig(
                masterEndpoint: masterEndpoint, codec: scenario.codec, pushBufferBytes: 256 << 10,
                mergedPushBytes: pushBytes, acceptedCodecs: Codec.none.maskBit | scenario.codec.maskBit,
                replicate: scenario.replicas > 1, connectionsPerWorker: threads,
                pushLatencyRecorder: { latencies.record(nanoseconds: $0) }))
        defer { client.close() }
        let first = ShuffleKey(applicationId: applicationId, shuffleId: shuffleId)
        let second = ShuffleKey(applicationId: applicationId, shuffleId: shuffleId &+ 1)
        defer {
            try? client.master.unregisterShuffle(first)
            try? client.master.unregisterShuffle(second)
            meter?.waitUntilDeleted(
                applicationId: first.applicationId, shuffleIds: [first.shuffleId, second.shuffleId])
        }
        var phases: [Phase] = []

        let storedBytes = mappers * bytesPerMap * scenario.replicas
        // The record pool is generated on first use (~1 billion instructions under callgrind); that must not land
        // inside the first timed push (it did in runs with --no-local-disk-shuffle, whose baseline touches it first).
        _ = RecordPool.shared
        _ = latencies.take()
        var snapshot = meter?.begin()
        log.progress("\(scenario.pushName): push")
        let pushClock = Stopwatch.settled(writingBytes: storedBytes)
        let pushed = try push(first, client: client)
        let push = pushClock.finish(name: scenario.pushName, connections: threads, bytes: Self.total(pushed))
        phases.append(Phase(measurement: push, server: endPhase(snapshot), pushLatency: latencies.take()))
        let expected = expectedContent(pushed)  // untimed: the benchmark's own bookkeeping

        log.progress("\(scenario.fetchName): fetch")
        snapshot = meter?.begin()
        let fetchClock = Stopwatch.settled(writingBytes: 0)
        try fetch(first, client: client, expected: expected, checkContent: false)
        let fetch = fetchClock.finish(name: scenario.fetchName, connections: threads, bytes: push.bytes)
        phases.append(Phase(measurement: fetch, server: endPhase(snapshot), pushLatency: nil))
        // Untimed: read everything again and compare every byte (CRC32C per map and partition, in write order).
        log.progress("\(scenario): verify every byte (untimed)")
        try self.fetch(first, client: client, expected: expected, checkContent: true)

        if mixed {
            log.progress("\(scenario.mixedName): push and fetch at once")
            _ = latencies.take()
            snapshot = meter?.begin()
            let mixedClock = Stopwatch.settled(writingBytes: storedBytes)
            let secondPushed = Mutex<[Int: [WrittenSlice]]>([:])
            let failure = Mutex<(any Error)?>(nil)
            let workload = self
            DispatchQueue.concurrentPerform(iterations: 2) { side in
                do {
                    if side == 0 {
                        let result = try workload.push(second, client: client)
                        secondPushed.withLock { $0 = result }
                    } else {
                        try workload.fetch(first, client: client, expected: expected, checkContent: false)
                    }
                } catch {
                    failure.withLock { $0 = $0 ?? error }
                }
            }
            if let error = failure.withLock({ $0 }) { throw BenchError("mixed phase failed: \(error)") }
            let moved = Self.total(secondPushed.withLock { $0 }) + push.bytes
            let measurement = mixedClock.finish(name: scenario.mixedName, connections: 2 * threads, bytes: moved)
            phases.append(Phase(measurement: measurement, server: endPhase(snapshot), pushLatency: latencies.take()))
        }
        return phases
    }

    private func endPhase(_ snapshot: ServerSnapshot?) -> ServerMetrics {
        guard let meter, let snapshot else { return .unavailable }
        return meter.end(snapshot)
    }

    /// Registers `key` and runs every map task on `threads` threads; returns what each wrote, per map.
    private func push(_ key: ShuffleKey, client: SluiceClient) throws -> [Int: [WrittenSlice]] {
        let handle = try client.registerShuffle(key, numMappers: UInt32(mappers), numPartitions: UInt32(partitions))
        let unreplicated = handle.locations.entries.filter { $0.replicaIndex == LocationTable.noReplica }.count
        if scenario.replicas > 1, unreplicated > 0 {
            log.warn(
                "\(scenario) asks for \(scenario.replicas) copies but the master placed \(unreplicated) of "
                    + "\(partitions) partitions without a replica (fewer than \(scenario.replicas) live workers?): "
                    + "its figures are for one copy")
        }
        let pool = RecordPool.shared
        let written = Mutex<[Int: [WrittenSlice]]>([:])
        let failures = Mutex<[String]>([])
        let workload = self
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            for mapIndex in stride(from: thread, to: workload.mappers, by: workload.threads) {
                do {
                    let result = try workload.writeMap(mapIndex, client: client, handle: handle, pool: pool)
                    written.withLock { $0[mapIndex] = result }
                } catch {
                    failures.withLock { $0.append("map \(mapIndex): \(error)") }
                }
            }
        }
        if let failure = failures.withLock({ $0.first }) { throw BenchError("push failed: \(failure)") }
        return written.withLock { $0 }
    }

    /// Reads every partition of `key` on `threads` threads and checks it against `expected`: the byte count of
    /// every map's output always (with the reader's own checks: CRC32C per batch, no gap, no missing map), and
    /// with `checkContent` also every byte (CRC32C per map in write order).
    private func fetch(_ key: ShuffleKey, client: SluiceClient, expected: [Int: [Written]], checkContent: Bool) throws {
        let failures = Mutex<[String]>([])
        let workload = self
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            let reader = client.reader(key)
            for partition in stride(from: thread, to: workload.partitions, by: workload.threads) {
                do {
                    try workload.verifyPartition(
                        partition, reader: reader, expected: expected,
                        checkContent: checkContent)
                } catch {
                    failures.withLock { $0.append("partition \(partition): \(error)") }
                }
            }
        }
        if let failure = failures.withLock({ $0.first }) { throw BenchError("fetch failed: \(failure)") }
    }

    private static func total(_ written: [Int: [WrittenSlice]]) -> Int {
        written.values.reduce(0) { $0 + $1.reduce(0) { $0 + Int($1.count) } }
    }

    /// What every (map, partition) pair must read back: its slices of the record pool, in write order.
    private func expectedContent(_ pushed: [Int: [WrittenSlice]]) -> [Int: [Written]] {
        let pool = RecordPool.shared
        var expected: [Int: [Written]] = [:]
        for (map, slices) in pushed {
            var written = [Written](repeating: Written(), count: partitions)
            for slice in slices {
                let partition = Int(slice.partition)
                written[partition].bytes += Int(slice.count)
                written[partition].crc32c = pool.crc32c(
                    offset: Int(slice.offset), count: Int(slice.count),
                    seed: written[partition].crc32c)
            }
            expected[map] = written
        }
        return expected
    }

    /// One map task: slices of the record pool, round-robin over partitions, `bytesPerMap` in all. Hands the
    /// writer the pool's bytes without copying them (a serializer's buffer) and only notes which slices went
    /// where; their checksums are computed after the timed phase.
    private func writeMap(
        _ mapIndex: Int, client: SluiceClient, handle: ShuffleHandle,
        pool: RecordPool
    ) throws -> [WrittenSlice] {
        let writer = client.writer(handle, mapIndex: UInt32(mapIndex), attemptId: UInt64(mapIndex) + 1)
        var slices: [WrittenSlice] = []
        slices.reserveCapacity(bytesPerMap / max(writeSliceBytes, 1) + 1)
        var remaining = bytesPerMap
        var offset = (mapIndex * 7_919) % pool.bytes.count
        var slice = 0
        while remaining > 0 {
            let count = min(writeSliceBytes, remaining)
            let partition = (mapIndex + slice) % partitions
            try pool.forEachPiece(offset: offset, count: count) { piece in
                try writer.write(partitionId: UInt32(partition), bytes: piece)
            }
            slices.append(WrittenSlice(partition: UInt32(partition), offset: UInt32(offset), count: UInt32(count)))
            offset = (offset + count) % pool.bytes.count
            remaining -= count
            slice += 1
        }
        _ = try writer.close()
        return slices
    }

    /// Reads one partition and checks every map's bytes against what it wrote: the count, and with
    /// `checkContent` the CRC32C of the bytes in write order.
    private func verifyPartition(
        _ partition: Int, reader: ShuffleReader, expected: [Int: [Written]],
        checkContent: Bool
    ) throws {
        var got = [Int: Written]()
        var nextSequence = [Int: UInt32]()
        var early = [Int: [UInt32: ArraySlice<UInt8>]]()
        let winners = Dictionary(uniqueKeysWithValues: (0..<mappers).map { (UInt32($0), UInt64($0) + 1) })
        let nonEmpty = Set((0..<mappers).filter { (expected[$0]?[partition].bytes ?? 0) > 0 }.map { UInt32($0) })
        try reader.read(partitionId: UInt32(partition), winners: winners, nonEmptyMaps: nonEmpty) { header, raw in
            let map = Int(header.mapIndex)
            guard checkContent else {
                got[map, default: Written()].bytes += raw.count
                return
            }
            early[map, default: [:]][header.sequence] = raw
            // Fold batches in sequence order (they normally arrive in order; a revive can reorder them).
            while let next = early[map]?.removeValue(forKey: nextSequence[map, default: 0]) {
                got[map, default: Written()].bytes += next.count
                got[map, default: Written()].crc32c = CRC32C.checksum(next, seed: got[map]?.crc32c ?? 0)
                nextSequence[map, default: 0] += 1
            }
        }
        for map in 0..<mappers {
            var want = expected[map]?[partition] ?? Written()
            if !checkContent { want.crc32c = 0 }
            guard (got[map] ?? Written()) == want else {
                throw BenchError(
                    "map \(map) partition \(partition): read \(got[map]?.bytes ?? 0) bytes, "
                        + "wrote \(want.bytes)" + (checkContent ? ", or checksums differ" : ""))
            }
        }
    }
}

/// Where a map task's `write` call took its bytes from: `count` bytes of the record pool at `offset` (wrapping),
/// for `partition`.
struct WrittenSlice: Sendable {
    var partition: UInt32
    var offset: UInt32
    var count: UInt32
}

/// Realistic shuffle rows (key, tab, text with repetition, newline), generated once and sliced by writers.
final class RecordPool: Sendable {
    static let shared = RecordPool(bytes: 8 << 20)
    let bytes: [UInt8]

    init(bytes count: Int) {
        var generated: [UInt8] = []
        generated.reserveCapacity(count + 256)
        var state: UInt64 = 0x2545_F491_4F6C_DD1D
        let words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"]
        while generated.count < count {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            let key = "user-\(state % 1_000_000)\t"
            var value = ""
            for index in 0..<Int(4 + state % 12) { value += words[Int((state >> (index % 50)) % 10)] + " " }
            generated.append(contentsOf: (key + value + "\(state % 100_000)\n").utf8)
        }
        bytes = Array(generated.prefix(count))
    }

    /// Calls `body` with the pool's `count` bytes from `offset` (wrapping around the end: then two pieces),
    /// without copying them.
    func forEachPiece(offset: Int, count: Int, _ body: (ArraySlice<UInt8>) throws -> Void) rethrows {
        let end = offset + count
        if end <= bytes.count { return try body(bytes[offset..<end]) }
        try body(bytes[offset...])
        try body(bytes[..<(end - bytes.count)])
    }

    /// The CRC32C, continuing from `seed`, of the bytes `forEachPiece` hands over for the same range.
    func crc32c(offset: Int, count: Int, seed: UInt32) -> UInt32 {
        var crc = seed
        forEachPiece(offset: offset, count: count) { crc = CRC32C.checksum($0, seed: crc) }
        return crc
    }
}
