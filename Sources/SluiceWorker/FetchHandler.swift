import SluiceCompression
import SluiceCore
import SluiceNet
import SluiceStorage
import SluiceSystem
import Synchronization

/// The streams open on one connection, kept in the connection's attachment. Bounded by
/// `maxOpenStreamsPerConnection`; released with the connection.
final class StreamTable: Sendable {
    struct OpenStream: Sendable {
        let file: ReadableFile
        let acceptedCodecs: UInt8
    }

    private let streams = Mutex<[UInt64: OpenStream]>([:])

    var count: Int { streams.withLock { $0.count } }
    /// Counts every open stream of the worker, over all tables.
    let open: OpenStreamCount

    init(open: OpenStreamCount) { self.open = open }

    func insert(_ id: UInt64, _ stream: OpenStream) {
        let added = streams.withLock { $0.updateValue(stream, forKey: id) == nil }
        if added { open.value.add(1, ordering: .relaxed) }
    }
    func get(_ id: UInt64) -> OpenStream? { streams.withLock { $0[id] } }
    func remove(_ id: UInt64) -> OpenStream? {
        let removed = streams.withLock { $0.removeValue(forKey: id) }
        if removed != nil { open.value.subtract(1, ordering: .relaxed) }
        return removed
    }

    func removeAll() {
        let count = streams.withLock { streams in
            defer { streams.removeAll() }
            return streams.count
        }
        open.value.subtract(count, ordering: .relaxed)
    }
}

/// The number of fetch streams open on a worker, over all its connections.
final class OpenStreamCount: Sendable {
    let value = Atomic<Int>(0)
}

/// Opens streams over partition files, serves their chunks (sendfile when stored bytes can go as they are,
/// recompressed when the file holds uncompressed batches and the reader accepts a codec), and closes them.
struct FetchHandler {
    let worker: WorkerServer

    private func table(of connection: ServerConnection) -> StreamTable {
        connection.withAttachment { attachment in
            if let existing = attachment as? StreamTable { return existing }
            let created = StreamTable(open: worker.openStreams)
            attachment = created
            return created
        }
    }

    func open(request: Frame, on connection: ServerConnection) throws {
        let message = try OpenStreamRequest.decode(body: request.body[...])
        guard WorkerAccess(logger: worker.logger).permits(request, on: connection, shuffles: [message.shuffle]) else {
            return
        }
        let streams = table(of: connection)
        guard streams.count < worker.config.maxOpenStreamsPerConnection else {
            connection.respond(
                to: request,
                body: OpenStreamResponse(
                    head: ResponseHead(
                        .invalidArgument,
                        "more than \(worker.config.maxOpenStreamsPerConnection) open streams on one connection"
                    )
                ).encoded())
            return
        }
        let file: ReadableFile
        do {
            let key = try PartitionFileKey(
                applicationId: message.shuffle.applicationId,
                shuffleId: message.shuffle.shuffleId, partitionId: message.partitionId,
                epoch: message.epoch, role: message.role)
            file = try worker.store.openForRead(
                key, startMapIndex: message.startMapIndex, endMapIndex: message.endMapIndex)
        } catch {
            connection.respond(
                to: request, body: OpenStreamResponse(head: ResponseHead(error.status, "\(error)")).encoded())
            return
        }
        // A file whose writer failed lacks batches that were acknowledged while still buffered: serving it as
        // whole would let a reader accept a short copy. Refuse it, so the reader reads another copy (the replica
        // holds every acknowledged batch) or fails loudly when there is none.
        if let failure = file.writerFailure {
            worker.metrics.refusedFailedCopies.increment()
            connection.respond(
                to: request,
                body: OpenStreamResponse(
                    head: ResponseHead(
                        .ioError, "this copy is incomplete, its writer failed (\(failure)): read another copy"
                    )
                ).encoded())
            return
        }
        let id = worker.streamIds.wrappingAdd(1, ordering: .relaxed).oldValue
        streams.insert(id, StreamTable.OpenStream(file: file, acceptedCodecs: message.acceptedCodecs))
        let storedBytes = file.chunks.reduce(0) { $0 + $1.lengthBytes }
        connection.respond(
            to: request,
            body: OpenStreamResponse(
                streamId: id, chunkCount: UInt32(file.chunks.count),
                storedBytes: UInt64(storedBytes)
            ).encoded())
    }

    func fetch(request: Frame, on connection: ServerConnection) throws {
        let startedNs = Monotonic.nowNs()
        defer { worker.metrics.fetchDuration.recordNanoseconds(Int64(clamping: Monotonic.nowNs() &- startedNs)) }
        let message = try FetchChunkRequest.decode(body: request.body[...])
        guard let stream = table(of: connection).get(message.streamId) else {
            connection.respondError(to: request, status: .unknownStream, message: "unknown stream \(message.streamId)")
            return
        }
        guard Int(message.chunkIndex) < stream.file.chunks.count else {
            connection.respondError(
                to: request, status: .invalidArgument,
                message: "chunk \(message.chunkIndex) of \(stream.file.chunks.count)")
            return
        }
        let chunk = stream.file.chunks[Int(message.chunkIndex)]
        worker.metrics.fetchedChunks.increment()
        let source: ChunkSource
        do {
            source = try worker.store.chunkSource(stream.file, chunk: chunk)
        } catch {
            connection.respondError(to: request, status: error.status, message: "\(error)")
            return
        }
        if let codec = recompressionCodec(for: chunk, accepted: stream.acceptedCodecs) {
            do {
                let data = try recompressed(stream.file, chunk, source, to: codec)
                worker.metrics.recompressedChunks.increment()
                worker.metrics.fetchedBytes.increment(by: data.count)
                connection.respond(to: request, body: FetchChunkResponse(data: data[...]).encoded())
            } catch {
                connection.respondError(to: request, status: .corrupt, message: "\(error)")
            }
            return
        }
        worker.metrics.fetchedBytes.increment(by: source.lengthBytes)
        switch source {
        case .fileRange(let fd, let offsetBytes, let lengthBytes):
            // The stream table holds the file, so its descriptor stays open until the send completes.
            connection.respondWithFile(
                to: request, prefix: FetchChunkResponse.okPrefix(dataLength: lengthBytes),
                fileDescriptor: fd, offset: Int64(offsetBytes), length: lengthBytes)
        case .bytes(let bytes):
            connection.respond(to: request, body: FetchChunkResponse(data: bytes[...]).encoded())
        }
    }

    func close(request: Frame, on connection: ServerConnection) throws {
        let message = try CloseStreamRequest.decode(body: request.body[...])
        let removed = table(of: connection).remove(message.streamId)
        let head = removed == nil ? ResponseHead(.unknownStream, "unknown stream \(message.streamId)") : ResponseHead()
        connection.respond(to: request, body: StatusResponse(head).encoded())
    }

    func closeAll(on connection: ServerConnection) {
        (connection.attachment as? StreamTable)?.removeAll()
    }

    /// The codec to re-encode uncompressed batches with, or nil to send the chunk as stored.
    private func recompressionCodec(for chunk: ChunkInfo, accepted: UInt8) -> Codec? {
        guard chunk.hasUncompressed else { return nil }
        let preferred = worker.config.fetchCompressionCodec
        if preferred != .none, accepted & preferred.maskBit != 0 { return preferred }
        for codec in [Codec.lz4, .zstd] where accepted & codec.maskBit != 0 { return codec }
        return nil
    }

    private func recompressed(
        _ file: ReadableFile, _ chunk: ChunkInfo, _ source: ChunkSource,
        to codec: Codec
    ) throws -> [UInt8] {
        let stored: [UInt8]
        switch source {
        case .fileRange: stored = try file.readChunk(chunk)
        case .bytes(let bytes): stored = bytes
        }
        var writer = WireWriter(capacity: stored.count)
        for batch in try BatchCodec.splitBatches(stored[...]) {
            try BatchCodec.recompress(batch, to: codec).encode(into: &writer)
        }
        return writer.bytes
    }
}
