import Dispatch
import SluiceClient
import SluiceCompression
import SluiceCore
import Synchronization

/// A seeded multi-mapper shuffle for worker-loss runs (the kill tests and the soak): every map writes
/// `recordsPerMap` records of 1 byte to 4 KiB, each to a seeded partition, and the expected length and CRC32C of
/// every (map, partition) pair is known without keeping the bytes.
public struct SeededShuffle: Sendable {
    public let seed: UInt64
    public let mappers: UInt32
    public let partitions: UInt32
    public let recordsPerMap: Int

    public init(seed: UInt64, mappers: UInt32, partitions: UInt32, recordsPerMap: Int) {
        self.seed = seed
        self.mappers = mappers
        self.partitions = partitions
        self.recordsPerMap = recordsPerMap
    }

    public var totalRecords: Int { Int(mappers) * recordsPerMap }

    /// The attempt id map `m` writes with in `writeAll` (its winning attempt).
    public static func attemptId(_ m: UInt32) -> UInt64 { 7_000 + UInt64(m) }

    /// Map `m`'s records in write order, with their partitions: slices of a seeded random pool, so batches do
    /// not compress away and every push carries real bytes.
    public func records(map m: UInt32) -> [(partition: UInt32, bytes: ArraySlice<UInt8>)] {
        let pool = Self.pool
        var generator = SeededGenerator(seed: (seed &* 1_000_003 &+ UInt64(m)) &* 0x9E37_79B9_7F4A_7C15)
        return (0..<recordsPerMap).map { _ in
            let partition = UInt32.random(in: 0..<partitions, using: &generator)
            let size = Int.random(in: 1...4096, using: &generator)
            let offset = Int.random(in: 0...(pool.count - size), using: &generator)
            return (partition, pool[offset..<offset + size])
        }
    }

    /// 1 MiB of seeded random bytes that records are cut from.
    public static let pool = SeededGenerator.bytes(count: 1 << 20, seed: 0x5EED)

    /// Expected (length, CRC32C) of every non-empty (map, partition) pair.
    public func expected() -> [PairKey: PairDigest] {
        var result: [PairKey: PairDigest] = [:]
        for m in 0..<mappers {
            for record in records(map: m) {
                result[PairKey(map: m, partition: record.partition), default: PairDigest()].add(record.bytes)
            }
        }
        return result
    }

    /// Writes map `m`'s records (generated beforehand, or now) as attempt `attemptId` and closes the writer:
    /// once it returns, every batch was acknowledged by every copy. Returns the bytes written.
    /// `onRecord` is called after each record with the bytes written so far by this map.
    @discardableResult
    public func writeMap(
        _ m: UInt32, client: SluiceClient, handle: ShuffleHandle, attemptId: UInt64,
        records: [(partition: UInt32, bytes: ArraySlice<UInt8>)]? = nil, onRecord: (Int) -> Void = { _ in }
    ) throws -> Int {
        let writer = client.writer(handle, mapIndex: m, attemptId: attemptId)
        var bytes = 0
        for record in records ?? self.records(map: m) {
            try writer.write(partitionId: record.partition, bytes: record.bytes)
            bytes += record.bytes.count
            onRecord(bytes)
        }
        _ = try writer.close()
        return bytes
    }

    /// Runs every map on `threads` threads through `client`; throws the first failure of any map.
    /// `onRecord` is called with the running count of records written by all maps (the kill trigger).
    public func writeAll(
        client: SluiceClient, handle: ShuffleHandle, threads: Int = 2,
        onRecord: @escaping @Sendable (Int) -> Void
    ) throws {
        // Generated first, so that the pushes (not the generator) set the pace the kill point falls into.
        let allRecords = (0..<mappers).map { records(map: $0) }
        let written = Atomic<Int>(0)
        let failures = Mutex<[String]>([])
        let workload = self
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            for m in stride(from: UInt32(thread), to: workload.mappers, by: threads) {
                do {
                    try workload.writeMap(
                        m, client: client, handle: handle, attemptId: Self.attemptId(m), records: allRecords[Int(m)]
                    ) { _ in onRecord(written.add(1, ordering: .relaxed).newValue) }
                } catch {
                    failures.withLock { $0.append("map \(m): \(error)") }
                }
            }
        }
        let failed = failures.withLock { $0 }
        guard failed.isEmpty else { throw ClientError(.internalError, failed.joined(separator: "\n")) }
    }

    /// Reads every partition through `reader` and returns the pairs whose length or CRC differ from `expected`.
    /// `winners` is each map's winning attempt (`attemptId(m)` by default). `onBatch` is called with the running
    /// count of batches consumed (the kill trigger of fetch-phase runs).
    public func mismatches(
        reader: ShuffleReader, expected: [PairKey: PairDigest], winners: [UInt32: UInt64]? = nil,
        onBatch: (Int) -> Void = { _ in }
    ) throws -> [String] {
        var consumed = 0
        var wrong: [String] = []
        for p in 0..<partitions {
            wrong += try mismatches(partition: p, reader: reader, expected: expected, winners: winners) { _ in
                consumed += 1
                onBatch(consumed)
            }
        }
        return wrong
    }

    /// Reads partition `p` through `reader` and returns its pairs whose length or CRC differ from `expected`.
    /// `onBatch` is called with each batch's byte count.
    public func mismatches(
        partition p: UInt32, reader: ShuffleReader, expected: [PairKey: PairDigest],
        winners: [UInt32: UInt64]? = nil, onBatch: (Int) -> Void = { _ in }
    ) throws -> [String] {
        let winners = winners ?? Dictionary(uniqueKeysWithValues: (0..<mappers).map { ($0, Self.attemptId($0)) })
        let nonEmpty = Set(expected.keys.filter { $0.partition == p }.map(\.map))
        var batches: [UInt32: [UInt32: [UInt8]]] = [:]
        try reader.read(partitionId: p, winners: winners, nonEmptyMaps: nonEmpty) { header, raw in
            batches[header.mapIndex, default: [:]][header.sequence] = Array(raw)
            onBatch(raw.count)
        }
        var wrong: [String] = []
        for m in 0..<mappers {
            var got = PairDigest()
            for (_, bytes) in (batches[m] ?? [:]).sorted(by: { $0.key < $1.key }) { got.add(bytes[...]) }
            let want = expected[PairKey(map: m, partition: p)] ?? PairDigest()
            if got != want { wrong.append("map \(m) partition \(p): \(got) expected \(want)") }
        }
        return wrong
    }
}

/// One (map, partition) pair.
public struct PairKey: Hashable, Sendable {
    public var map: UInt32
    public var partition: UInt32

    public init(map: UInt32, partition: UInt32) {
        self.map = map
        self.partition = partition
    }
}

/// Length and running CRC32C of a pair's bytes in write order.
public struct PairDigest: Equatable, Sendable, CustomStringConvertible {
    public var length = 0
    public var crc: UInt32 = 0

    public init() {}

    public mutating func add(_ bytes: ArraySlice<UInt8>) {
        length += bytes.count
        crc = CRC32C.checksum(bytes, seed: crc)
    }

    public var description: String { "\(length) bytes crc \(crc)" }
}
