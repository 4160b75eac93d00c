import SluiceCompression
import SluiceConfig
import SluiceCore
import SluiceSystem
import SluiceTestKit
import Synchronization
import Testing

@testable import SluiceStorage

#if canImport(Glibc)
    import Glibc
#endif

/// The real system calls until a chosen call, which "crashes" the process: it and every call after it fail
/// without doing anything, so the files are left exactly as a crash of the process at that point leaves them.
final class CrashingSystem: SystemCalls {
    private let real = PosixSystem()
    /// Calls made since `crash(atCall:)`, and the one that crashes (nil: never).
    private let countdown = Mutex<(calls: Int, crashAt: Int?)>((0, nil))

    /// True once the crash happened.
    var crashed: Bool { countdown.withLock { c in c.crashAt.map { c.calls >= $0 } ?? false } }

    /// The `n`-th call from now (1: the next one) crashes.
    func crash(atCall n: Int) { countdown.withLock { $0 = (0, n) } }

    private func enter(_ call: String) throws(SystemCallError) {
        let dead = countdown.withLock { c -> Bool in
            guard let crashAt = c.crashAt else { return false }
            c.calls += 1
            return c.calls >= crashAt
        }
        if dead { throw SystemCallError(errno: EIO, call: call, cause: "crashed") }
    }

    func open(path: String, flags: Int32, mode: UInt32) throws(SystemCallError) -> Int32 {
        try enter("open")
        return try real.open(path: path, flags: flags, mode: mode)
    }
    func close(fd: Int32) { real.close(fd: fd) }
    func pwrite(fd: Int32, bytes: UnsafeRawBufferPointer, offsetBytes: Int) throws(SystemCallError) -> Int {
        try enter("pwrite")
        return try real.pwrite(fd: fd, bytes: bytes, offsetBytes: offsetBytes)
    }
    func pread(fd: Int32, into buffer: UnsafeMutableRawBufferPointer, offsetBytes: Int) throws(SystemCallError) -> Int {
        try enter("pread")
        return try real.pread(fd: fd, into: buffer, offsetBytes: offsetBytes)
    }
    /// A crash point like any call, but not flushed to the disk: the process crashes here, not the machine, so the
    /// page cache survives it either way (and a thousand rounds do not wait on the disk).
    func fsync(fd: Int32) throws(SystemCallError) {
        try enter("fsync")
    }
    func truncate(fd: Int32, lengthBytes: Int) throws(SystemCallError) {
        try enter("truncate")
        try real.truncate(fd: fd, lengthBytes: lengthBytes)
    }
    func fileSizeBytes(fd: Int32) throws(SystemCallError) -> Int {
        try enter("fstat")
        return try real.fileSizeBytes(fd: fd)
    }
    func unlink(path: String) throws(SystemCallError) {
        try enter("unlink")
        try real.unlink(path: path)
    }
    func rename(from: String, to: String) throws(SystemCallError) {
        try enter("rename")
        try real.rename(from: from, to: to)
    }
    func link(from: String, to: String) throws(SystemCallError) {
        try enter("link")
        try real.link(from: from, to: to)
    }
    func makeDirectory(path: String) throws(SystemCallError) {
        try enter("mkdir")
        try real.makeDirectory(path: path)
    }
    func removeDirectory(path: String) throws(SystemCallError) {
        try enter("rmdir")
        try real.removeDirectory(path: path)
    }
    func listDirectory(path: String) throws(SystemCallError) -> [DirectoryEntry] {
        try enter("listDirectory")
        return try real.listDirectory(path: path)
    }
    func spaceBytes(path: String) throws(SystemCallError) -> (freeBytes: Int, capacityBytes: Int) {
        try enter("statvfs")
        return try real.spaceBytes(path: path)
    }
    func receive(fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(SystemCallError) -> Int {
        try real.receive(fd: fd, into: buffer)
    }
    func send(fd: Int32, vectors: UnsafeBufferPointer<iovec>) throws(SystemCallError) -> Int {
        try real.send(fd: fd, vectors: vectors)
    }
    func sendfile(socket: Int32, file: Int32, offsetBytes: inout Int, count: Int) throws(SystemCallError) -> Int {
        try real.sendfile(socket: socket, file: file, offsetBytes: &offsetBytes, count: count)
    }
    func shutdown(fd: Int32, how: Int32) { real.shutdown(fd: fd, how: how) }
}

/// A crash at every system call of a demotion round (copies as they are, and re-encoded to Zstandard), under a few
/// seeds: the store reopened with `recover()` holds exactly one copy of every file, no half-moved copy, and every
/// batch reads back.
@Suite struct DemotionCrashTests {
    static let seeds: [UInt64] = [1, 2, 3]

    @Test(arguments: seeds, [false, true])
    func aCrashAtAnyCallOfAMoveLeavesExactlyOneValidCopy(seed: UInt64, reencode: Bool) throws {
        var crashPoint = 1
        var completedRound = false
        while !completedRound {
            completedRound = try crashRun(seed: seed, reencode: reencode, crashAtCall: crashPoint)
            crashPoint += 1
            try #require(crashPoint < 10_000, "a demotion round ends")
        }
        #expect(crashPoint > 10, "the round made calls to crash at: \(crashPoint)")
    }

    /// Fills a store (file sizes and codecs from `seed`), crashes demotion at its `crashAtCall`-th system call,
    /// reopens the directories and checks every file. Returns true when the round finished before that call.
    func crashRun(seed: UInt64, reencode: Bool, crashAtCall: Int) throws -> Bool {
        let temp = try TempDirectory()
        defer { temp.remove() }
        var tiers = DemotionTests.tiers(temp, reencode: reencode)
        if reencode { tiers.remove(at: 1) }
        let system = CrashingSystem()
        let store = try DemotionTests.store(tiers, fileSystem: system)
        var generator = SeededGenerator(seed: seed)
        let partitions = UInt32(0)..<10
        var raw: [PartitionFileKey: [UInt8]] = [:]
        var batches: [PartitionFileKey: Int] = [:]
        for partition in partitions {
            let k = try key(partition: partition)
            let count = 2 + Int(generator.next() % 5)
            for sequence in 0..<UInt32(count) {
                let codec: Codec = generator.next() % 2 == 0 ? .none : .lz4
                let batch = try DemotionTests.batch(partition: partition, sequence: sequence, codec: codec)
                guard try store.append(k, batch: batch) == .stored else { break }
                raw[k, default: []] += try BatchCodec.decode(batch)
                batches[k, default: 0] += 1
            }
            try store.flush(k)
        }
        system.crash(atCall: crashAtCall)
        let report = store.demote()
        let crashed = system.crashed
        #expect(crashed || report.moved.count > 0, "the round moved files: \(report)")
        // The crashed store is abandoned as it is (closing it only closes descriptors: nothing is buffered); a new
        // one recovers the directories.
        try? store.close()
        let reopened = try DemotionTests.store(tiers)
        defer { try? reopened.close() }
        let recovered = try reopened.recover()
        #expect(recovered.corruptFiles.isEmpty && recovered.truncatedTails.isEmpty, "crash at \(crashAtCall)")
        let dataFiles = TieredStorageScan.files(under: temp.path, suffix: ".data")
        #expect(dataFiles.count == raw.count, "one copy per file after a crash at call \(crashAtCall): \(dataFiles)")
        #expect(TieredStorageScan.files(under: temp.path, suffix: DirectoryPartitionStore.movingSuffix).isEmpty)
        for (k, expected) in raw {
            let read = try readAll(reopened, k).batches
            #expect(read.count == batches[k], "\(k) after a crash at call \(crashAtCall)")
            #expect(try read.flatMap { try BatchCodec.decode($0) } == expected, "\(k) after a crash at \(crashAtCall)")
        }
        return !crashed
    }
}
