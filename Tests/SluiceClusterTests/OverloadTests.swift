import Foundation
import SluiceClient
import SluiceCore
import SluiceSystem
import SluiceTestKit
import Synchronization
import Testing

/// Issue #16's overload line against a real worker process: 64 pushers, each with its own client and connections,
/// push six times a small memory budget into one worker as fast as it takes them. The worker must push back
/// (its budget pauses reading), stay within 1.25 times its budget in resident memory (VmHWM, so the peak of the whole
/// run), every writer must finish with only statuses it rides out, and every acknowledged byte must read back.
///
/// `MemoryPressureTests` covers the in-process case where flush buffers alone fill the budget; this one covers many
/// connections racing for the budget, measured where it matters: the worker's resident set.
@Suite(.serialized) struct OverloadTests {
    /// The worker's `--memory-budget`: the smallest round size where 1.25x is an honest bound. An idle worker (debug
    /// build) is 24 MiB resident, mostly the Swift runtime's libraries, and the flush buffer pool may hold an eighth
    /// of the budget outside it: at 64 MiB those two alone leave the budget 8 MiB of its 16 MiB headroom.
    static let budgetBytes = 128 << 20
    static let pushers: UInt32 = 64
    static let workload = OverloadWorkload(
        seed: 0x10AD, mappers: pushers, partitions: 256, partitionsPerMap: 16, bytesPerMap: 12 << 20)

    /// A client per pusher, as executors have: the default two connections to the worker and merged pushes of the
    /// default 1 MiB (128 readers racing for the budget with a frame each), uncompressed so every pushed byte reaches
    /// the worker. A few pushes in flight per writer keep the test process's own memory moderate (about 500 MiB), and
    /// the reader fetches into fresh arrays: growing a reused chunk buffer is a per-byte loop in a debug build.
    static func clientConfig(_ masterEndpoint: String, statuses: StatusTally) -> ClientConfig {
        var config = ClientConfig(
            masterEndpoint: masterEndpoint, codec: .none, pushBufferBytes: 64 << 10, mergedPushBytes: 1 << 20,
            maxInFlightPushesPerWorker: 4, maxInFlightPushesTotal: 4, requestTimeoutMs: 30_000, replicate: false,
            connectionsPerWorker: 2, reusedChunkBuffersPerConnection: 0)
        config.pushStatusRecorder = { statuses.record($0) }
        return config
    }

    @Test(.enabled(if: BuiltExecutables.directory != nil, "sluice-master/sluice-worker are not built"))
    func sixtyFourPushersAgainstASmallBudget() throws {
        let startedNs = Monotonic.nowNs()
        // One worker: every push is read under its budget. With replication, the replica's incoming copies come on
        // worker connections that are exempt from the pause (two workers would otherwise deadlock), so a second
        // worker's memory would be bounded by its peer's budget rather than its own.
        let cluster = try ProcessCluster(workers: 1, memoryBudget: "\(Self.budgetBytes)") { _, _ in
            // The default flush buffer; the pool is capped at an eighth of the budget anyway: say so explicitly.
            ["--flush-buffer-size", "256k", "--flush-buffer-pool-size", "\(Self.budgetBytes / 8)"]
        }
        defer { cluster.shutdown() }
        let worker = cluster.workers[0]
        let httpPort = try #require(worker.announcedPort(prefix: "sluice-worker operations API on ", timeoutMs: 5_000))
        let idle = try #require(ProcessMemory(pid: worker.pid))
        let idleCPUSeconds = cpuSeconds(pid: worker.pid) ?? 0

        let statuses = StatusTally()
        let key = ShuffleKey(applicationId: "app-overload", shuffleId: 0)
        let driver = SluiceClient(config: Self.clientConfig(cluster.masterEndpoint, statuses: statuses))
        defer { driver.close() }
        let handle = try driver.registerShuffle(
            key, numMappers: Self.workload.mappers, numPartitions: Self.workload.partitions)

        let pushStartedNs = Monotonic.nowNs()
        let outcomes = try Self.workload.pushConcurrently(handle: handle) { _ in
            SluiceClient(config: Self.clientConfig(cluster.masterEndpoint, statuses: statuses))
        }
        let pushSeconds = Double(Monotonic.nowNs() - pushStartedNs) / 1e9
        let pushCPUSeconds = (cpuSeconds(pid: worker.pid) ?? 0) - idleCPUSeconds
        let afterPush = try #require(ProcessMemory(pid: worker.pid))
        let metrics = try curl([], port: httpPort, path: "/metrics").text

        let expected = Self.workload.expected()
        var failedWriters: [String] = []
        var acknowledged: [PairKey: Int] = [:]
        for (m, outcome) in outcomes.enumerated() {
            switch outcome {
            case .success(let result):
                for (p, bytes) in result.partitionRawBytes.enumerated() where bytes > 0 {
                    acknowledged[PairKey(map: UInt32(m), partition: UInt32(p))] = Int(bytes)
                }
            case .failure(let error): failedWriters.append("map \(m): \(error)")
            }
        }
        let readStartedNs = Monotonic.nowNs()
        let wrong = try Self.workload.mismatches(reader: driver.reader(key), expected: expected)
        let readSeconds = Double(Monotonic.nowNs() - readStartedNs) / 1e9
        let final = try #require(ProcessMemory(pid: worker.pid))

        let pauses = Self.metric("sluice_worker_backpressure_pauses_total", in: metrics)
        let budgetPeak = Self.metric("sluice_worker_memory_peak_bytes", in: metrics)
        let pushedBytes = Self.workload.totalBytes
        let seen = statuses.counts
        let ratio = Double(final.peakBytes) / Double(Self.budgetBytes)
        let mib = { (bytes: Int) in String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
        print(
            """
            overload: \(Self.pushers) pushers, \(mib(pushedBytes)) pushed (\(pushedBytes / Self.budgetBytes)x the \
            \(mib(Self.budgetBytes)) budget) in \(String(format: "%.1f", pushSeconds)) s (worker CPU \
            \(String(format: "%.1f", pushCPUSeconds)) s), read back in \
            \(String(format: "%.1f", readSeconds)) s, wall \(String(format: "%.1f", Double(Monotonic.nowNs() - startedNs) / 1e9)) s
            overload: worker RSS idle \(mib(idle.residentBytes)), peak after push \(mib(afterPush.peakBytes)), \
            peak overall \(mib(final.peakBytes)) = \(String(format: "%.3f", ratio)) x budget; budget peak \
            \(mib(Int(budgetPeak ?? -1))), backpressure pauses \(Int(pauses ?? -1)); statuses \(seen); test process peak \
            \(mib(ProcessMemory(pid: getpid())?.peakBytes ?? -1))
            """)

        // (a) resident memory within 1.25 times the budget, over the whole run.
        #expect(
            final.peakBytes <= Self.budgetBytes * 5 / 4,
            "worker peak RSS \(mib(final.peakBytes)) over 1.25 x \(mib(Self.budgetBytes))")
        // (b) the worker reached overload and pushed back.
        #expect((pauses ?? 0) >= 1, "the budget never paused: no overload reached")
        // (c) no writer failed, and each saw only statuses it rides out (stored, or congested: retry later).
        #expect(failedWriters.isEmpty, "\(failedWriters.prefix(5))")
        let unexpected = seen.filter { status, _ in !(status.isStored || status == .congested) }
        #expect(unexpected.isEmpty, "statuses a writer does not ride out: \(unexpected)")
        // (d) what close() acknowledged is what was written, and all of it reads back.
        let expectedLengths = expected.mapValues(\.length)
        #expect(failedWriters.isEmpty && acknowledged == expectedLengths, "acknowledged sizes differ from written")
        #expect(wrong.isEmpty, "\(wrong.count) (map, partition) pairs differ: \(wrong.prefix(5))")
    }

    /// The value of an unlabelled sample `name` in Prometheus text.
    static func metric(_ name: String, in text: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }
}

/// Every push status writers saw, counted.
final class StatusTally: Sendable {
    private let state = Mutex<[StatusCode: Int]>([:])

    func record(_ statuses: [StatusCode]) {
        state.withLock { counts in
            for status in statuses { counts[status, default: 0] += 1 }
        }
    }

    var counts: [StatusCode: Int] { state.withLock { $0 } }
}

/// A process's resident memory from /proc/PID/status: VmRSS now and VmHWM (the peak since it started).
struct ProcessMemory {
    var residentBytes: Int
    var peakBytes: Int

    init?(pid: pid_t) {
        guard let text = readProcFile("/proc/\(pid)/status") else { return nil }
        func kilobytes(_ field: String) -> Int? {
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(field + ":") }) else {
                return nil
            }
            return line.dropFirst(field.count + 1).split(whereSeparator: { $0 == " " || $0 == "\t" }).first
                .flatMap { Int($0) }
        }
        guard let rss = kilobytes("VmRSS"), let hwm = kilobytes("VmHWM") else { return nil }
        residentBytes = rss * 1024
        peakBytes = hwm * 1024
    }
}

/// A seeded shuffle for the overload run: map `m` writes `bytesPerMap` in records of 1 byte to 8 KiB, each to one of
/// its own `partitionsPerMap` seeded partitions (so a map's client buffers few partitions while the worker has files
/// for all of them). The expected length and CRC32C of every (map, partition) pair is known.
struct OverloadWorkload: Sendable {
    let seed: UInt64
    let mappers: UInt32
    let partitions: UInt32
    let partitionsPerMap: Int
    let bytesPerMap: Int

    var totalBytes: Int { Int(mappers) * bytesPerMap }

    static func attemptId(_ m: UInt32) -> UInt64 { 9_000 + UInt64(m) }

    /// 1 MiB of seeded random bytes that records are cut from (no record compresses away).
    static let pool = SeededGenerator.bytes(count: 1 << 20, seed: 0x0E51)

    /// Calls `body` with map `m`'s records in write order.
    func forEachRecord(map m: UInt32, _ body: (UInt32, ArraySlice<UInt8>) throws -> Void) rethrows {
        let pool = Self.pool
        var generator = SeededGenerator(seed: (seed &* 1_000_003 &+ UInt64(m)) &* 0x9E37_79B9_7F4A_7C15)
        let own = (0..<partitionsPerMap).map { _ in UInt32.random(in: 0..<partitions, using: &generator) }
        var written = 0
        while written < bytesPerMap {
            let size = min(Int.random(in: 1...8192, using: &generator), bytesPerMap - written)
            let offset = Int.random(in: 0...(pool.count - size), using: &generator)
            let partition = own[Int.random(in: 0..<own.count, using: &generator)]
            try body(partition, pool[offset..<offset + size])
            written += size
        }
    }

    func expected() -> [PairKey: PairDigest] {
        var result: [PairKey: PairDigest] = [:]
        for m in 0..<mappers {
            forEachRecord(map: m) { partition, bytes in
                result[PairKey(map: m, partition: partition), default: PairDigest()].add(bytes)
            }
        }
        return result
    }

    /// Runs every map on a thread of its own, all at once, each through the client `makeClient` gives it (closed
    /// after the map). Returns each map's outcome by map index.
    func pushConcurrently(
        handle: ShuffleHandle, makeClient: @escaping @Sendable (UInt32) -> SluiceClient
    ) throws -> [Result<MapWriteResult, any Error>] {
        let outcomes = Mutex<[UInt32: Result<MapWriteResult, any Error>]>([:])
        let finished = ConditionVariable()
        let workload = self
        for m in 0..<mappers {
            try SystemThread.spawn(stackBytes: 2 << 20) {
                let client = makeClient(m)
                let outcome = Result { () throws -> MapWriteResult in
                    let writer = client.writer(handle, mapIndex: m, attemptId: Self.attemptId(m))
                    try workload.forEachRecord(map: m) { try writer.write(partitionId: $0, bytes: $1) }
                    return try writer.close()
                }
                client.close()
                outcomes.withLock { $0[m] = outcome }
                finished.broadcast()
            }
        }
        let all = finished.wait(until: { outcomes.withLock { $0.count } == Int(mappers) }, timeoutMs: 300_000)
        guard all else { throw TimedOut(what: "pushers to finish") }
        return outcomes.withLock { done in (0..<mappers).map { done[$0] ?? .failure(TimedOut(what: "map \($0)")) } }
    }

    /// Reads every partition and returns the pairs whose length or CRC differ from `expected`.
    func mismatches(reader: ShuffleReader, expected: [PairKey: PairDigest]) throws -> [String] {
        let winners = Dictionary(uniqueKeysWithValues: (0..<mappers).map { ($0, Self.attemptId($0)) })
        var wrong: [String] = []
        for p in 0..<partitions {
            let nonEmpty = Set(expected.keys.filter { $0.partition == p }.map(\.map))
            var batches: [UInt32: [UInt32: [UInt8]]] = [:]
            try reader.read(partitionId: p, winners: winners, nonEmptyMaps: nonEmpty) { header, raw in
                batches[header.mapIndex, default: [:]][header.sequence] = Array(raw)
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

/// User and system CPU seconds `pid` used so far (/proc/PID/stat), or nil.
func cpuSeconds(pid: pid_t) -> Double? {
    guard let text = readProcFile("/proc/\(pid)/stat"), let end = text.lastIndex(of: ")") else { return nil }
    // After "pid (comm)": state is field 3, utime 14 and stime 15.
    let fields = text[text.index(after: end)...].split(separator: " ")
    guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

/// The whole text of a /proc file (they report size 0, so read until end of file), or nil.
func readProcFile(_ path: String) -> String? {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 64 << 10)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        guard n >= 0 else { return nil }
        if n == 0 { break }
        bytes += chunk[0..<n]
    }
    return String(decoding: bytes, as: UTF8.self)
}
