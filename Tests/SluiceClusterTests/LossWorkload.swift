import Dispatch
import Foundation
import SluiceClient
import SluiceCompression
import SluiceCore
import SluiceTestKit
import Synchronization

/// A seeded multi-mapper shuffle for worker-loss runs: every map writes `recordsPerMap` records of 1 byte to
/// 4 KiB, each to a seeded partition, and the expected length and CRC32C of every (map, partition) pair is known.
/// `onRecord` is called with the running count of records written by all maps (the kill trigger).
struct LossWorkload: Sendable {
    let seed: UInt64
    let mappers: UInt32
    let partitions: UInt32
    let recordsPerMap: Int

    var totalRecords: Int { Int(mappers) * recordsPerMap }

    /// The attempt id map `m` writes with (its winning attempt).
    static func attemptId(_ m: UInt32) -> UInt64 { 7_000 + UInt64(m) }

    /// Map `m`'s records in write order, with their partitions: slices of a seeded random pool, so batches do
    /// not compress away and every push carries real bytes.
    func records(map m: UInt32) -> [(partition: UInt32, bytes: ArraySlice<UInt8>)] {
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
    static let pool = SeededGenerator.bytes(count: 1 << 20, seed: 0x5EED)

    /// Expected (length, CRC32C) of every non-empty (map, partition) pair.
    func expected() -> [PairKey: PairDigest] {
        var result: [PairKey: PairDigest] = [:]
        for m in 0..<mappers {
            for record in records(map: m) {
                result[PairKey(map: m, partition: record.partition), default: PairDigest()].add(record.bytes)
            }
        }
        return result
    }

    /// Runs every map on `threads` threads through `client`; throws the first failure of any map.
    func writeAll(
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
                    let writer = client.writer(handle, mapIndex: m, attemptId: Self.attemptId(m))
                    for record in allRecords[Int(m)] {
                        try writer.write(partitionId: record.partition, bytes: record.bytes)
                        onRecord(written.add(1, ordering: .relaxed).newValue)
                    }
                    _ = try writer.close()
                } catch {
                    failures.withLock { $0.append("map \(m): \(error)") }
                }
            }
        }
        let failed = failures.withLock { $0 }
        guard failed.isEmpty else { throw ClientError(.internalError, failed.joined(separator: "\n")) }
    }

    /// Reads every partition through `reader` and returns the pairs whose length or CRC differ from `expected`.
    /// `onBatch` is called with the running count of batches consumed (the kill trigger of fetch-phase runs).
    func mismatches(
        reader: ShuffleReader, expected: [PairKey: PairDigest],
        onBatch: (Int) -> Void = { _ in }
    ) throws -> [String] {
        let winners = Dictionary(uniqueKeysWithValues: (0..<mappers).map { ($0, Self.attemptId($0)) })
        var consumed = 0
        var wrong: [String] = []
        for p in 0..<partitions {
            let nonEmpty = Set(expected.keys.filter { $0.partition == p }.map(\.map))
            var batches: [UInt32: [UInt32: [UInt8]]] = [:]
            try reader.read(partitionId: p, winners: winners, nonEmptyMaps: nonEmpty) { header, raw in
                batches[header.mapIndex, default: [:]][header.sequence] = Array(raw)
                consumed += 1
                onBatch(consumed)
            }
            for m in 0..<mappers {
                var got = PairDigest()
                for (_, bytes) in (batches[m] ?? [:]).sorted(by: { $0.key < $1.key }) { got.add(bytes[...]) }
                let want = expected[PairKey(map: m, partition: p)] ?? PairDigest()
                if got != want { wrong.append("map \(m) partition \(p): \(got) expected \(want)") }
            }
        }
        return wrong
    }
}

/// One (map, partition) pair.
struct PairKey: Hashable, Sendable {
    var map: UInt32
    var partition: UInt32
}

/// Length and running CRC32C of a pair's bytes in write order.
struct PairDigest: Equatable, Sendable, CustomStringConvertible {
    var length = 0
    var crc: UInt32 = 0

    mutating func add(_ bytes: ArraySlice<UInt8>) {
        length += bytes.count
        crc = CRC32C.checksum(bytes, seed: crc)
    }

    var description: String { "\(length) bytes crc \(crc)" }
}

/// The seeds of the kill loops: `SLUICE_KILL_SEED=N` replays one, `SLUICE_KILL_SEEDS=K` runs 1...K, else 1...30.
enum KillSeeds {
    static let all: [UInt64] = {
        let environment = ProcessInfo.processInfo.environment
        if let one = try? SeededGenerator.seed(fromEnvironment: "SLUICE_KILL_SEED") { return [one] }
        let count = environment["SLUICE_KILL_SEEDS"].flatMap(UInt64.init) ?? 30
        return Array(1...max(count, 1))
    }()
}
