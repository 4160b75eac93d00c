import Glibc
import SluiceClient
import SluiceCompression
import SluiceCore
import SluiceTestKit
import Synchronization

/// One Spark-like job of the soak: registers a shuffle of a seeded shape, runs its map tasks on a few threads
/// (a task whose writer fails is run again as a new attempt, as Spark retries a task), reads every partition back
/// on a few threads and checks every (map, partition) pair of the winning attempts against its length and CRC32C,
/// then unregisters the shuffle. Each job has its own client (an executor's), so connections come and go.
struct SoakJob: Sendable {
    let number: UInt32
    let applicationId: String
    let masterEndpoint: String
    let shuffle: SeededShuffle
    let codec: Codec
    let mapThreads: Int
    let readThreads: Int

    /// Spark's `spark.task.maxFailures`: attempts of one map task before the job fails.
    static let mapAttempts = 4
    /// Attempts of one partition read before its pairs count as lost.
    static let readAttempts = 3

    /// The job numbered `number` of a soak seeded `seed`: its shape and codec depend on both alone.
    init(
        number: UInt32, seed: UInt64, applicationId: String, masterEndpoint: String, mapThreads: Int,
        readThreads: Int
    ) {
        var generator = SeededGenerator(seed: seed ^ (UInt64(number) &* 0xD6E8_FEB8_6659_FD93))
        self.number = number
        self.applicationId = applicationId
        self.masterEndpoint = masterEndpoint
        shuffle = SeededShuffle(
            seed: generator.next(), mappers: UInt32.random(in: 4...12, using: &generator),
            partitions: UInt32.random(in: 24...300, using: &generator),
            recordsPerMap: Int.random(in: 200...1_200, using: &generator))
        codec = [Codec.none, .lz4, .zstd][Int.random(in: 0..<3, using: &generator)]
        self.mapThreads = mapThreads
        self.readThreads = readThreads
    }

    var key: ShuffleKey { ShuffleKey(applicationId: applicationId, shuffleId: number) }

    /// What the job was, for messages.
    var description: String {
        "job \(number) (\(shuffle.mappers) maps, \(shuffle.partitions) partitions, \(codec))"
    }

    /// Runs the job, recording what happened in `ledger`.
    func run(into ledger: SoakLedger) {
        ledger.update { $0.jobsStarted += 1 }
        let client = SluiceClient(
            config: ClientConfig(
                masterEndpoint: masterEndpoint, codec: codec, pushBufferBytes: 32 << 10, mergedPushBytes: 256 << 10,
                requestTimeoutMs: 15_000, replicate: true, connectionsPerWorker: 1))
        defer { client.close() }
        let handle: ShuffleHandle
        do {
            handle = try Self.retrying {
                try client.registerShuffle(key, numMappers: shuffle.mappers, numPartitions: shuffle.partitions)
            }
        } catch {
            ledger.jobFailed("\(description): registerShuffle: \(error)")
            return
        }
        defer {
            if (try? Self.retrying({ try client.master.unregisterShuffle(key) })) == nil {
                ledger.jobFailed("\(description): unregisterShuffle failed")
            }
        }
        var retried = false
        guard let winners = writeMaps(client: client, handle: handle, ledger: ledger, retried: &retried) else { return }
        readAll(client: client, winners: winners, ledger: ledger, retried: &retried)
        ledger.update {
            $0.jobsCompleted += 1
            if retried { $0.jobsRetried += 1 }
        }
    }

    /// Runs every map task; returns each map's winning attempt id, or nil when one failed every attempt.
    private func writeMaps(
        client: SluiceClient, handle: ShuffleHandle, ledger: SoakLedger, retried: inout Bool
    ) -> [UInt32: UInt64]? {
        let winners = Mutex<[UInt32: UInt64]>([:])
        let retries = Atomic<Int>(0)
        let job = self
        let bodies: [@Sendable () throws -> Void] = (0..<mapThreads).map { thread in
            {
                for m in stride(from: UInt32(thread), to: job.shuffle.mappers, by: job.mapThreads) {
                    for attempt in 0..<Self.mapAttempts {
                        let attemptId = UInt64(m) << 8 | UInt64(attempt)
                        do {
                            let bytes = try job.shuffle.writeMap(
                                m, client: client, handle: handle, attemptId: attemptId)
                            winners.withLock { $0[m] = attemptId }
                            ledger.update { $0.bytesPushed += bytes }
                            break
                        } catch {
                            guard attempt + 1 < Self.mapAttempts else {
                                ledger.jobFailed(
                                    "\(job.description): map \(m) failed \(Self.mapAttempts) times: \(error)")
                                break
                            }
                            retries.add(1, ordering: .relaxed)
                            ledger.update { $0.mapRetries += 1 }
                            usleep(500_000)
                        }
                    }
                }
            }
        }
        try? Threads.runAll(bodies)
        if retries.load(ordering: .relaxed) > 0 { retried = true }
        let won = winners.withLock { $0 }
        return won.count == Int(shuffle.mappers) ? won : nil
    }

    /// Reads every partition and checks it; wrong data and partitions unreadable after every attempt are losses.
    private func readAll(
        client: SluiceClient, winners: [UInt32: UInt64], ledger: SoakLedger, retried: inout Bool
    ) {
        let expected = shuffle.expected()
        let retries = Atomic<Int>(0)
        let job = self
        let bodies: [@Sendable () throws -> Void] = (0..<readThreads).map { thread in
            {
                var reader = client.reader(job.key)
                for p in stride(from: UInt32(thread), to: job.shuffle.partitions, by: job.readThreads) {
                    for attempt in 0..<Self.readAttempts {
                        var bytes = 0
                        do {
                            let wrong = try job.shuffle.mismatches(
                                partition: p, reader: reader, expected: expected, winners: winners
                            ) { bytes += $0 }
                            if wrong.isEmpty {
                                ledger.update { $0.bytesRead += bytes }
                            } else {
                                ledger.loss(pairs: wrong.count, "\(job.description): read wrong: \(wrong.prefix(3))")
                            }
                            break
                        } catch {
                            guard attempt + 1 < Self.readAttempts else {
                                let pairs = expected.keys.filter { $0.partition == p }.count
                                ledger.loss(pairs: pairs, "\(job.description): partition \(p) unreadable: \(error)")
                                break
                            }
                            retries.add(1, ordering: .relaxed)
                            ledger.update { $0.readRetries += 1 }
                            usleep(1_000_000)
                            reader = client.reader(job.key)  // asks the master for the locations again
                        }
                    }
                }
            }
        }
        try? Threads.runAll(bodies)
        if retries.load(ordering: .relaxed) > 0 { retried = true }
    }

    /// Runs `body` up to 5 times, 500 ms apart, while it throws (a master request during a worker's restart).
    static func retrying<T>(_ body: () throws -> T) throws -> T {
        var attempt = 0
        while true {
            do { return try body() } catch {
                attempt += 1
                guard attempt < 5 else { throw error }
                usleep(500_000)
            }
        }
    }
}
