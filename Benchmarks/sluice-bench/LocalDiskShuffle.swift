import Glibc
import SluiceCore
import SluiceTestKit

/// The local-disk shuffle baseline, done the way Spark's sort shuffle does it: each mapper writes ONE data file
/// with its records grouped by partition (partition 0's bytes, then partition 1's, ...) plus an index file of
/// `partitions + 1` offsets; each reducer reads the index of every mapper and preads its range from every
/// mapper's data file. Mappers and reducers run on `threads` threads. Files live in page cache (no fsync, as
/// Spark); the read phase reads what the write phase just wrote, so it measures a hot cache.
enum LocalDiskShuffle {
    static let writeName = "local-disk-shuffle write"
    static let readName = "local-disk-shuffle read"
    /// Spark's `spark.shuffle.file.buffer` is 32 KiB; writes go out in buffers of this size.
    static let bufferBytes = 32 << 10

    /// Returns the write and the read measurement; `suffix` goes after the names (e.g. " small-partitions").
    static func run(
        mappers: Int, partitions: Int, bytesPerBlock: Int, threads: Int, directory: String,
        suffix: String = ""
    ) throws -> (write: Measurement, read: Measurement) {
        let temp = try TempDirectory(in: directory, prefix: "sluice-bench-")
        defer { temp.remove() }
        let pool = RecordPool.shared
        let written = Tally()
        let writeClock = Stopwatch.settled(writingBytes: mappers * partitions * bytesPerBlock)
        try Threads.runAll(
            (0..<threads).map { thread -> @Sendable () throws -> Void in
                {
                    for map in stride(from: thread, to: mappers, by: threads) {
                        written.add(
                            try writeMap(
                                map, partitions: partitions, bytesPerBlock: bytesPerBlock,
                                pool: pool, temp: temp))
                    }
                }
            })
        let write = writeClock.finish(name: writeName + suffix, connections: threads, bytes: written.value)

        let read = Tally()
        let readClock = Stopwatch.settled(writingBytes: 0)
        try Threads.runAll(
            (0..<threads).map { thread -> @Sendable () throws -> Void in
                {
                    read.add(
                        try readPartitions(
                            stride(from: thread, to: partitions, by: threads), mappers: mappers,
                            temp: temp))
                }
            })
        guard read.value == written.value else {
            throw BenchError("local-disk shuffle read \(read.value) bytes, wrote \(written.value)")
        }
        return (write, readClock.finish(name: readName + suffix, connections: threads, bytes: read.value))
    }

    /// One map task: writes each partition's block through a 32 KiB buffer into one data file, then the index.
    private static func writeMap(
        _ map: Int, partitions: Int, bytesPerBlock: Int, pool: RecordPool,
        temp: TempDirectory
    ) throws -> Int {
        let dataPath = temp.file("shuffle_0_\(map)_0.data")
        let file = open(dataPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard file >= 0 else { throw BenchError.system("open \(dataPath)") }
        var offsets = [Int64](repeating: 0, count: partitions + 1)
        var fileOffset = 0
        do {
            var buffer = [UInt8]()
            buffer.reserveCapacity(bufferBytes)
            var poolOffset = (map * 7_919) % pool.bytes.count
            func flush() throws {
                try buffer.withUnsafeBytes { raw in
                    guard let base = raw.baseAddress, raw.count > 0 else { return }
                    try BlockingIO.pwriteAll(file, base, raw.count, at: fileOffset)
                }
                fileOffset += buffer.count
                buffer.removeAll(keepingCapacity: true)
            }
            for partition in 0..<partitions {
                var remaining = bytesPerBlock
                while remaining > 0 {
                    let count = min(remaining, bufferBytes - buffer.count, pool.bytes.count - poolOffset)
                    buffer.append(contentsOf: pool.bytes[poolOffset..<(poolOffset + count)])
                    poolOffset = (poolOffset + count) % pool.bytes.count
                    remaining -= count
                    if buffer.count == bufferBytes { try flush() }
                }
                offsets[partition + 1] = Int64(fileOffset + buffer.count)
            }
            try flush()
        } catch {
            close(file)
            throw error
        }
        guard close(file) == 0 else { throw BenchError.system("close \(dataPath)") }

        let indexPath = temp.file("shuffle_0_\(map)_0.index")
        let index = open(indexPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard index >= 0 else { throw BenchError.system("open \(indexPath)") }
        do {
            try offsets.withUnsafeBytes { raw in
                guard let base = raw.baseAddress else { return }
                try BlockingIO.pwriteAll(index, base, raw.count, at: 0)
            }
        } catch {
            close(index)
            throw error
        }
        guard close(index) == 0 else { throw BenchError.system("close \(indexPath)") }
        return fileOffset
    }

    /// Reducers: for each partition, read its two offsets from every mapper's index and pread the range.
    private static func readPartitions(_ partitions: StrideTo<Int>, mappers: Int, temp: TempDirectory) throws -> Int {
        var dataFiles: [Int32] = []
        var indexFiles: [Int32] = []
        defer { for fd in dataFiles + indexFiles { close(fd) } }
        for map in 0..<mappers {
            for (path, list) in [("data", 0), ("index", 1)] {
                let full = temp.file("shuffle_0_\(map)_0.\(path)")
                let fd = open(full, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { throw BenchError.system("open \(full)") }
                if list == 0 { dataFiles.append(fd) } else { indexFiles.append(fd) }
            }
        }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 1 << 20, alignment: 4096)
        defer { buffer.deallocate() }
        var range = [Int64](repeating: 0, count: 2)
        var total = 0
        for partition in partitions {
            for map in 0..<mappers {
                // Spark opens the index, reads the two offsets, then reads the range of the data file.
                try range.withUnsafeMutableBytes { raw in
                    guard let base = raw.baseAddress else { return }
                    try preadExactly(indexFiles[map], base, raw.count, at: partition * 8)
                }
                var offset = Int(range[0])
                let end = Int(range[1])
                while offset < end {
                    let count = min(1 << 20, end - offset)
                    try preadExactly(dataFiles[map], buffer, count, at: offset)
                    offset += count
                    total += count
                }
            }
        }
        return total
    }

    private static func preadExactly(_ fd: Int32, _ base: UnsafeMutableRawPointer, _ count: Int, at offset: Int) throws
    {
        var done = 0
        while done < count {
            let got = pread(fd, base + done, count - done, off_t(offset + done))
            if got < 0, errno == EINTR { continue }
            guard got > 0 else {
                throw got < 0 ? BenchError.system("pread") : BenchError("pread: file ended at \(offset + done)")
            }
            done += got
        }
    }
}
