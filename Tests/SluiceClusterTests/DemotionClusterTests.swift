import SluiceClient
import SluiceCore
import SluiceSystem
import SluiceTestKit
import SluiceWorker
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Workers with three small tiers and demotion on: a shuffle overflows the first tier, the background loop demotes
/// idle files into the second and third (re-encoding them to Zstandard on the way into fsx), reads made while it
/// runs succeed, and every byte reads back.
@Suite struct DemotionClusterTests {
    static let winner: @Sendable (UInt32) -> UInt64 = { 700 + UInt64($0) }

    /// The sum of a counter's samples on a worker's /metrics whose labels include `label`.
    static func counter(_ name: String, label: String, port: Int) throws -> Double {
        try curl([], port: port, path: "/metrics").text.split(separator: "\n")
            .filter { $0.hasPrefix(name + "{") && $0.contains(label) }
            .compactMap { line in line.split(separator: " ").last.flatMap { Double($0) } }
            .reduce(0, +)
    }

    /// The codecs of the batches of every partition file under `directory`, walking their headers.
    static func codecs(under directory: String) throws -> [Codec] {
        let system = PosixSystem()
        var codecs: [Codec] = []
        for entry in try system.listDirectory(path: directory) {
            let path = directory + "/" + entry.name
            if entry.isDirectory {
                codecs += try Self.codecs(under: path)
                continue
            }
            guard entry.name.hasSuffix(".data") else { continue }
            let fd = try system.open(path: path, flags: O_RDONLY, mode: 0)
            defer { system.close(fd: fd) }
            let size = try system.fileSizeBytes(fd: fd)
            var header = [UInt8](repeating: 0, count: BatchHeader.byteCount)
            var offset = 0
            while offset + BatchHeader.byteCount <= size {
                _ = try system.readFully(fd: fd, into: &header, count: BatchHeader.byteCount, offsetBytes: offset)
                var reader = WireReader(header)
                let decoded = try BatchHeader.decode(from: &reader)
                codecs.append(decoded.codec)
                offset += BatchHeader.byteCount + Int(decoded.storedLength)
            }
        }
        return codecs
    }

    @Test func aShuffleOverflowingTheFirstTierIsDemotedIntoTheNextTwoWhileReadsSucceed() throws {
        let cluster = try MiniCluster(workers: 0)
        defer { cluster.shutdown() }
        for index in 0..<2 {
            let dir = { (name: String) in cluster.scratch.file("w\(index)-\(name)") }
            try cluster.addWorker(
                index: index,
                overrides: [
                    "worker.tiers":
                        "kind=nvme dirs=\(dir("nvme")) capacity=64k high=0.5 low=0.25; "
                        + "kind=ebs dirs=\(dir("ebs")) capacity=64k high=0.5 low=0.25; "
                        + "kind=fsx dirs=\(dir("fsx")) capacity=256m reencode=zstd",
                    "worker.demotionIdleTime": "0",
                    "worker.demotionCheckInterval": "20ms",
                    "worker.demotionRate": "256k",
                ])
        }
        try waitUntil("workers registered") { cluster.workers.allSatisfy(\.isRegistered) }
        let client = cluster.client(codec: .none)
        defer { client.close() }
        var data = ShuffleData(mappers: 40, partitions: 16)
        data.bigRecordBytes = 20_000
        let key = ShuffleKey(applicationId: "app-demotion", shuffleId: 0)
        let handle = try client.registerShuffle(key, numMappers: data.mappers, numPartitions: data.partitions)
        _ = try data.writeAll(client: client, handle: handle, attemptId: Self.winner)

        let ports = try cluster.workers.map { try #require($0.httpPort) }
        func demoted(toTier tier: Int) throws -> Double {
            try ports.reduce(0) {
                $0 + (try Self.counter("sluice_worker_demoted_files_total", label: "to_tier=\"\(tier)\"", port: $1))
            }
        }
        // Read everything again and again while the loops demote, until files went into both later tiers.
        var readPasses = 0
        try waitUntil("files demoted into the second and third tiers", timeoutMs: 60_000, pollIntervalMs: 20) {
            let wrong = (try? data.mismatches(reader: client.reader(key), attemptId: Self.winner)) ?? ["read failed"]
            #expect(wrong.isEmpty, "read pass \(readPasses) during demotion: \(wrong.prefix(5))")
            readPasses += 1
            return ((try? demoted(toTier: 1)) ?? 0) > 0 && ((try? demoted(toTier: 2)) ?? 0) > 0
        }
        #expect(try demoted(toTier: 1) > 0 && demoted(toTier: 2) > 0)
        let fsxCodecs = try (0..<2).flatMap { try Self.codecs(under: cluster.scratch.file("w\($0)-fsx")) }
        #expect(fsxCodecs.contains(.zstd), "batches demoted into fsx were re-encoded to Zstandard")
        let wrong = try data.mismatches(reader: client.reader(key), attemptId: Self.winner)
        #expect(wrong.isEmpty, "\(wrong.prefix(5))")
    }
}
