import SluiceCompression
import SluiceCore
import SluiceNet

/// Reads partitions of one shuffle: asks the master once for every epoch's locations, reads each epoch from its
/// primary and, on any failure (connection, status, checksum), from its replica — batches already delivered
/// from the failed copy are dropped as repeats — and, when what it read is incomplete, the copies it skipped;
/// hands over only verified batches of winning attempts.
/// Fails with `ReadError` instead of returning short data. Used from one thread.
public final class ShuffleReader {
    public let shuffle: ShuffleKey
    let config: ClientConfig
    let master: MasterClient
    let workers: FrameClientPool
    private var locationsByPartition: [UInt32: [PartitionLocation]]?
    private let codecContext: CodecContext?
    /// Copies that failed and were replaced by the other copy (for tests and metrics).
    public private(set) var failovers = 0

    init(shuffle: ShuffleKey, config: ClientConfig, master: MasterClient, workers: FrameClientPool) {
        self.shuffle = shuffle
        self.config = config
        self.master = master
        self.workers = workers
        codecContext = try? CodecContext()
    }

    private func locations(of partitionId: UInt32) throws -> [PartitionLocation] {
        if locationsByPartition == nil {
            let all: [PartitionLocation]
            do {
                all = try master.allLocations(shuffle)
            } catch {
                throw ReadError.master("locations of \(shuffle): \(error)")
            }
            locationsByPartition = Dictionary(grouping: all, by: \.partitionId).mapValues {
                $0.sorted { $0.epoch < $1.epoch }
            }
        }
        return locationsByPartition?[partitionId] ?? []
    }

    /// Reads one partition for the maps in `mapRange`, calling `consume` with each kept batch's header and
    /// decompressed bytes (for an uncompressed batch, a slice of the received chunk: no copy is made).
    /// - Parameters:
    ///   - winners: the winning attempt id of every map index in range.
    ///   - nonEmptyMaps: maps whose output for this partition is known to be non-empty.
    public func read(
        partitionId: UInt32, mapRange: Range<UInt32> = OpenStreamRequest.allMaps,
        winners: [UInt32: UInt64], nonEmptyMaps: Set<UInt32>,
        consume: (BatchHeader, ArraySlice<UInt8>) throws -> Void
    ) throws {
        var filter = ReadFilter(
            winners: winners.filter { mapRange.contains($0.key) },
            nonEmptyMaps: nonEmptyMaps.filter { mapRange.contains($0) })
        var unreadable: [String] = []
        // Copies not read because an earlier copy of the same epoch read without error.
        var unread: [(location: PartitionLocation, role: PartitionRole, worker: WorkerAddress)] = []
        for location in try locations(of: partitionId) {
            var failures: [String] = []
            var missing = 0
            var done = false
            for copy in location.copies {
                if done {
                    unread.append((location, copy.role, copy.worker))
                    continue
                }
                do {
                    try readCopy(location, copy.role, copy.worker, mapRange, &filter, consume)
                    done = true
                    continue
                } catch let error as ClientError where error.status == .unknownPartition {
                    missing += 1
                    failures.append("\(copy.role) \(copy.worker): no such file")
                } catch let error as CallerError {
                    throw error.underlying
                } catch {
                    failures.append("\(copy.role) \(copy.worker): \(error)")
                }
                failovers += 1
            }
            // A batch is acknowledged only once every copy stored it, so a copy that answers "no such file"
            // proves the epoch holds no acknowledged data even if the other copy is unreachable. Real loss
            // still fails below: `finish()` checks every winning attempt for gaps and missing maps.
            if !done && missing == 0 {
                unreadable.append("epoch \(location.epoch): " + failures.joined(separator: "; "))
            }
        }
        if filter.isComplete { return }
        // A copy can read without error and still be short (its file lost a tail to a failed write, or a batch
        // was stored under another copy by a misrouted push): read the other copies too. The filter hands over
        // only what was not kept yet, so nothing is delivered twice.
        for copy in unread {
            failovers += 1
            do {
                try readCopy(copy.location, copy.role, copy.worker, mapRange, &filter, consume)
            } catch let error as CallerError {
                throw error.underlying
            } catch {
                unreadable.append("epoch \(copy.location.epoch) \(copy.role) \(copy.worker): \(error)")
            }
            if filter.isComplete { return }
        }
        // An epoch no copy of which can be read is fatal only if it held winning data: after a map stage rerun
        // the new attempts write to revived epochs, and a dead worker's old epoch holds only losers. The
        // completeness check below decides exactly.
        do {
            try filter.finish()
        } catch {
            guard unreadable.isEmpty else {
                throw ReadError.unavailable(
                    "partition \(partitionId) of \(shuffle): \(error); unreadable "
                        + unreadable.joined(separator: " | "))
            }
            throw error
        }
    }

    private func readCopy(
        _ location: PartitionLocation, _ role: PartitionRole, _ worker: WorkerAddress,
        _ mapRange: Range<UInt32>, _ filter: inout ReadFilter,
        _ consume: (BatchHeader, ArraySlice<UInt8>) throws -> Void
    ) throws {
        let client = try workers.client(host: worker.host, port: Int(worker.port))
        let open = OpenStreamRequest(
            shuffle: shuffle, partitionId: location.partitionId, epoch: location.epoch,
            role: role, mapRange: mapRange, acceptedCodecs: config.acceptedCodecs)
        let opened = try OpenStreamResponse.decode(body: try client.call(type: .openStream, body: open.encoded()).body)
        guard opened.head.status == .ok else { throw ClientError(opened.head.status, opened.head.message) }
        defer {
            client.send(type: .closeStream, body: CloseStreamRequest(streamId: opened.streamId).encoded()) { _ in }
        }
        let fetcher = ChunkFetcher(
            client: client, streamId: opened.streamId, chunkCount: opened.chunkCount,
            windowChunks: config.fetchWindowChunks, timeoutMs: config.requestTimeoutMs)
        try fetcher.forEachChunk { data in
            for batch in try BatchCodec.splitBatches(data) where mapRange.contains(batch.header.mapIndex) {
                let raw = try BatchCodec.decodeSlice(batch, context: codecContext)  // verifies the checksum first
                if filter.accept(batch.header) {
                    do {
                        try consume(batch.header, raw)
                    } catch {
                        throw CallerError(underlying: error)
                    }
                }
            }
        }
    }
}

/// An error thrown by the caller's `consume`: passed through, never treated as a copy's failure.
struct CallerError: Error {
    let underlying: any Error
}
