import CSluiceShim
import Glibc
import SluiceCore
import SluiceTestKit

/// Hardware baselines measured in the same run as the Sluice scenarios: the simplest programs that move the same
/// bytes over loopback TCP with one blocking thread per connection end. Each returns one `Measurement`, stops by
/// itself (stall timeouts bound every blocking call) and removes its files.
enum Baselines {
    static let loopbackName = "loopback-tcp"
    static let receiveAndAppendName = "receive+append"
    static let sendfileName = "sendfile-cached"
    static let copyChecksumAppendName = "copy+crc+append"
    static let sendfileChecksumName = "sendfile+crc"
    /// Batch size of the design-floor baselines: the client's default push buffer.
    static let floorBatchBytes = 256 << 10
    /// Bytes per sendfile call, as the fetch path would send one chunk.
    static let defaultChunkBytes = 8 << 20

    /// Senders write frames (16-byte `FrameHeader` + `messageBytes` body) over `connections` connections;
    /// receivers read and discard. Reports the receive rate of body bytes.
    static func rawLoopbackTCP(totalBytes: Int, messageBytes: Int, connections: Int) throws -> Measurement {
        let frames = FrameStream.framesPerConnection(
            totalBytes: totalBytes, messageBytes: messageBytes, connections: connections)
        let pairs = try Sockets.connectedPairs(count: connections)
        defer {
            for pair in pairs {
                close(pair.client)
                close(pair.server)
            }
        }
        let received = Tally()
        let watch = Stopwatch.settled(writingBytes: 0)
        try Threads.runAll(
            pairs.flatMap { pair -> [@Sendable () throws -> Void] in
                [
                    { try sendThenShutdown(pair.client, messageBytes: messageBytes, frames: frames) },
                    {
                        defer { shutdown(pair.server, Int32(SHUT_RDWR)) }
                        received.add(
                            try FrameStream.receive(
                                from: pair.server, maxBodyBytes: messageBytes, expectedFrames: frames
                            ) { _, _ in })
                    },
                ]
            })
        return watch.finish(name: loopbackName, connections: connections, bytes: received.value)
    }

    /// As `rawLoopbackTCP`, but each receiver appends every frame body to a new file (one per connection) with
    /// pwrite at explicit offsets, and closes it at the end (after fsync when `fsync` is set). Creating, writing
    /// and closing the files is timed; removing them is not.
    /// With `checksummed`, it is `copyChecksumAppend`.
    static func receiveAndAppend(
        totalBytes: Int, messageBytes: Int, connections: Int, directory: String, fsync syncFiles: Bool = false,
        checksummed: Bool = false
    ) throws -> Measurement {
        let frames = FrameStream.framesPerConnection(
            totalBytes: totalBytes, messageBytes: messageBytes, connections: connections)
        let temp = try TempDirectory(in: directory, prefix: "sluice-bench-")
        defer { temp.remove() }
        let pairs = try Sockets.connectedPairs(count: connections)
        defer {
            for pair in pairs {
                close(pair.client)
                close(pair.server)
            }
        }
        let received = Tally()
        let watch = Stopwatch.settled(writingBytes: totalBytes)
        try Threads.runAll(
            pairs.enumerated().flatMap { index, pair -> [@Sendable () throws -> Void] in
                let path = temp.file("append-\(index).data")
                return [
                    {
                        guard checksummed else {
                            return try sendThenShutdown(pair.client, messageBytes: messageBytes, frames: frames)
                        }
                        defer { shutdown(pair.client, Int32(SHUT_RDWR)) }
                        try ChecksummedBatches.send(to: pair.client, messageBytes: messageBytes, frames: frames)
                    },
                    {
                        defer { shutdown(pair.server, Int32(SHUT_RDWR)) }
                        received.add(
                            try receiveToFile(
                                pair.server, path: path, messageBytes: messageBytes,
                                frames: frames, syncFile: syncFiles, verify: checksummed))
                    },
                ]
            })
        let name =
            checksummed
            ? copyChecksumAppendName
            : syncFiles ? receiveAndAppendName + "+fsync" : receiveAndAppendName
        return watch.finish(name: name, connections: connections, bytes: received.value)
    }

    /// Writes one file per connection (about `totalBytes / connections` each), fsyncs it and reads it once so it
    /// sits clean in the page cache; then, timed, sends each file over loopback as frames of `chunkBytes`
    /// (a 16-byte header write, then sendfile of the chunk) while a reader discards. The fetch path's baseline.
    static func sendfileCached(
        totalBytes: Int, connections: Int, directory: String, chunkBytes: Int = defaultChunkBytes,
        verifyBatches: Bool = false
    ) throws -> Measurement {
        let fileBytes = max(1, totalBytes / connections)
        let chunks = (fileBytes + chunkBytes - 1) / chunkBytes
        let temp = try TempDirectory(in: directory, prefix: "sluice-bench-")
        defer { temp.remove() }
        var files: [Int32] = []
        defer { for fd in files { close(fd) } }
        for index in 0..<connections {
            files.append(
                try CachedFile.prepare(
                    path: temp.file("cached-\(index).data"), bytes: fileBytes,
                    bufferBytes: chunkBytes))
        }
        let pairs = try Sockets.connectedPairs(count: connections)
        defer {
            for pair in pairs {
                close(pair.client)
                close(pair.server)
            }
        }
        let received = Tally()
        let expected = verifyBatches ? ChecksummedBatches.patternChecksums(chunkBytes: chunkBytes) : []
        let watch = Stopwatch.settled(writingBytes: 0)
        try Threads.runAll(
            zip(pairs, files).flatMap { pair, file -> [@Sendable () throws -> Void] in
                [
                    {
                        defer { shutdown(pair.client, Int32(SHUT_RDWR)) }
                        try sendFile(file, bytes: fileBytes, to: pair.client, chunkBytes: chunkBytes)
                    },
                    {
                        defer { shutdown(pair.server, Int32(SHUT_RDWR)) }
                        received.add(
                            try FrameStream.receive(
                                from: pair.server, maxBodyBytes: chunkBytes, expectedFrames: chunks
                            ) { body, length in
                                if verifyBatches {
                                    try ChecksummedBatches.verifyPattern(body, length, expected: expected)
                                }
                            })
                    },
                ]
            })
        return watch.finish(
            name: verifyBatches ? sendfileChecksumName : sendfileName, connections: connections,
            bytes: received.value)
    }

    /// The design's floor for a push: `receiveAndAppend` plus the work Sluice cannot skip on every byte. The sender
    /// copies records (32 KiB slices of an 8 MiB pool, as the workload's map tasks write them) into 256 KiB batches
    /// and checksums each (CRC32C in the batch's first 4 bytes); the receiver verifies every batch before appending
    /// the frame. Its ratio to receive+append is the most a copy-and-checksum design can reach on this machine.
    static func copyChecksumAppend(
        totalBytes: Int, messageBytes: Int, connections: Int, directory: String
    ) throws -> Measurement {
        try receiveAndAppend(
            totalBytes: totalBytes, messageBytes: messageBytes, connections: connections,
            directory: directory, checksummed: true)
    }

    /// The design's floor for a fetch: `sendfileCached`, with the receiver checking the CRC32C of every 256 KiB of
    /// what it receives, as a reader checks every batch.
    static func sendfileChecksum(totalBytes: Int, connections: Int, directory: String) throws -> Measurement {
        try sendfileCached(
            totalBytes: totalBytes, connections: connections, directory: directory,
            verifyBatches: true)
    }

    // MARK: - Per-thread bodies

    private static func sendThenShutdown(_ fd: Int32, messageBytes: Int, frames: Int) throws {
        defer { shutdown(fd, Int32(SHUT_RDWR)) }
        try FrameStream.send(to: fd, messageBytes: messageBytes, frames: frames)
    }

    private static func receiveToFile(
        _ socket: Int32, path: String, messageBytes: Int, frames: Int, syncFile: Bool, verify: Bool = false
    ) throws -> Int {
        let file = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard file >= 0 else { throw BenchError.system("open \(path)") }
        var offset = 0
        let bytes: Int
        do {
            bytes = try FrameStream.receive(from: socket, maxBodyBytes: messageBytes, expectedFrames: frames) {
                body, length in
                if verify { try ChecksummedBatches.verify(body, length) }
                try BlockingIO.pwriteAll(file, body, length, at: offset)
                offset += length
            }
            if syncFile, fsync(file) != 0 { throw BenchError.system("fsync \(path)") }
        } catch {
            close(file)
            throw error
        }
        guard close(file) == 0 else { throw BenchError.system("close \(path)") }
        return bytes
    }

    private static func sendFile(_ file: Int32, bytes: Int, to socket: Int32, chunkBytes: Int) throws {
        let header = UnsafeMutableRawPointer.allocate(byteCount: FrameHeader.byteCount, alignment: 16)
        defer { header.deallocate() }
        var offset = off_t(0)
        var chunk: UInt64 = 0
        while Int(offset) < bytes {
            let chunkEnd = min(bytes, Int(offset) + chunkBytes)
            try FrameStream.writeHeader(into: header, bodyBytes: chunkEnd - Int(offset), requestId: chunk)
            try BlockingIO.writeAll(socket, header, FrameHeader.byteCount)
            while Int(offset) < chunkEnd {
                let sent = sluice_sendfile(socket, file, &offset, chunkEnd - Int(offset))
                if sent < 0 {
                    if errno == EINTR { continue }
                    throw BenchError.system("sendfile")
                }
                if sent == 0 { throw BenchError("sendfile: file ended at \(offset) of \(bytes) bytes") }
            }
            chunk += 1
        }
    }
}

/// Preparation for `sendfileCached`: a file written, made durable, and read back once (untimed).
enum CachedFile {
    /// Creates the file with `bytes` bytes, fsyncs it (so no write-back runs during the timed part), reads it once,
    /// and returns a read-only descriptor the caller closes.
    static func prepare(path: String, bytes: Int, bufferBytes: Int) throws -> Int32 {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: bufferBytes, alignment: 4096)
        defer { buffer.deallocate() }
        FrameStream.fillPattern(buffer, bufferBytes)
        let writer = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard writer >= 0 else { throw BenchError.system("open \(path)") }
        do {
            var offset = 0
            while offset < bytes {
                let count = min(bufferBytes, bytes - offset)
                try BlockingIO.pwriteAll(writer, buffer, count, at: offset)
                offset += count
            }
            guard fsync(writer) == 0 else { throw BenchError.system("fsync \(path)") }
        } catch {
            close(writer)
            throw error
        }
        guard close(writer) == 0 else { throw BenchError.system("close \(path)") }

        let reader = open(path, O_RDONLY | O_CLOEXEC)
        guard reader >= 0 else { throw BenchError.system("open \(path)") }
        var offset = 0
        while offset < bytes {
            let got = pread(reader, buffer, min(bufferBytes, bytes - offset), off_t(offset))
            if got < 0, errno == EINTR { continue }
            guard got > 0 else {
                let error = got < 0 ? BenchError.system("pread \(path)") : BenchError("\(path) is short")
                close(reader)
                throw error
            }
            offset += got
        }
        return reader
    }
}
