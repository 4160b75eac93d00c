import SluiceSystem
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The real system calls with failures injected on demand, for file and socket calls alike: a call can fail
/// with an errno (always, a number of times, or after some successes), transfer fewer bytes than asked, or be
/// interrupted with EINTR every n-th time. Counts every call so tests can wait for one to happen.
public final class FaultInjectingSystem: SystemCalls {
    /// The calls faults can be attached to.
    public enum Call: String, Sendable, CaseIterable {
        case open, close, pwrite, pread, fsync, truncate, fstat, unlink, rename, link, mkdir, rmdir, listDirectory
        case statvfs, receive, send, sendfile, shutdown
    }

    private struct Failure {
        var errno: Int32
        /// Successful calls to let through before failing.
        var skipCalls: Int
        /// Failures left; nil fails forever.
        var remaining: Int?
    }

    private struct State {
        var failures: [Call: Failure] = [:]
        var maxTransferBytes: [Call: Int] = [:]
        var interruptEvery: Int?
        var interruptibleCalls = 0
        var counts: [Call: Int] = [:]
        /// Directories whose file calls fail, with the errno and the calls it applies to (nil: every call).
        var directoryFailures: [String: (errno: Int32, calls: Set<Call>?)] = [:]
        /// Directories whose file calls block until healed: a disk that stops answering.
        var stalledDirectories: Set<String> = []
        /// Directories that stall once this many more file calls were made under them.
        var pendingStalls: [String: Int] = [:]
        /// Calls blocked in a stalled directory now.
        var stalledCalls = 0
        /// The path each open descriptor was opened at (for directory faults).
        var openPaths: [Int32: String] = [:]

        func directoryFailure(_ path: String, _ call: Call) -> Int32? {
            directoryFailures.first { entry in
                (path == entry.key || path.hasPrefix(entry.key + "/")) && (entry.value.calls?.contains(call) ?? true)
            }?.value.errno
        }

        func isStalled(_ path: String) -> Bool {
            stalledDirectories.contains { path == $0 || path.hasPrefix($0 + "/") }
        }

        /// Counts a file call on `path` towards the pending stalls of the directories it is under; the call that
        /// uses up a directory's count stalls it (that call included).
        mutating func countTowardsStalls(_ path: String) {
            for (directory, remaining) in pendingStalls where path == directory || path.hasPrefix(directory + "/") {
                if remaining > 1 {
                    pendingStalls[directory] = remaining - 1
                } else {
                    pendingStalls[directory] = nil
                    stalledDirectories.insert(directory)
                }
            }
        }
    }

    private let state = Mutex(State())
    /// Wakes calls blocked in a stalled directory when it is healed.
    private let stallEnded = ConditionVariable()
    private let real = PosixSystem()

    /// Creates a layer that passes every call through until told otherwise.
    public init() {}

    /// Makes `call` fail with `errno` after `afterCalls` more successes, `times` times (nil: until `heal`).
    public func fail(_ call: Call, errno: Int32, afterCalls: Int = 0, times: Int? = nil) {
        state.withLock { $0.failures[call] = Failure(errno: errno, skipCalls: afterCalls, remaining: times) }
    }

    /// Lets `call` (every call when nil) succeed again and transfer whole buffers.
    public func heal(_ call: Call? = nil) {
        state.withLock { s in
            if let call {
                s.failures[call] = nil
                s.maxTransferBytes[call] = nil
            } else {
                s.failures = [:]
                s.maxTransferBytes = [:]
                s.interruptEvery = nil
            }
        }
    }

    /// Caps each `call` (pwrite, pread, receive, send, sendfile) at `bytes` per call: short transfers.
    public func limitTransfer(_ call: Call, toBytes bytes: Int?) {
        state.withLock { $0.maxTransferBytes[call] = bytes }
    }

    /// Interrupts every `n`-th pwrite, pread, receive and send with EINTR before it runs (nil: never).
    public func interrupt(every n: Int?) {
        state.withLock { $0.interruptEvery = n }
    }

    /// Makes every file call on a path under `directory`, or on a descriptor opened there (open, pwrite, pread,
    /// sendfile from it, fsync, ftruncate, mkdir, statvfs, unlink, listing), fail with `errno` until `heal(under:)`: one failing disk
    /// among several.
    /// Only `calls` fail when given: e.g. writes refused with EACCES while reads work (a volume turned read-only), or
    /// reads failing with EIO while writes work.
    public func fail(under directory: String, errno: Int32, calls: Set<Call>? = nil) {
        state.withLock { $0.directoryFailures[directory] = (errno, calls) }
    }

    /// Makes every file call on a path under `directory`, or on a descriptor opened there, block until
    /// `heal(under:)`: a disk that stops answering (a hung NFS or Lustre mount, a dying device). With `afterCalls`,
    /// the `afterCalls`-th file call under it from now on is the first to block (a stall that begins mid-push).
    public func stall(under directory: String, afterCalls: Int = 1) {
        precondition(afterCalls >= 1, "the stall begins at a call: afterCalls counts from 1")
        state.withLock { s in
            if afterCalls == 1 {
                s.stalledDirectories.insert(directory)
            } else {
                s.pendingStalls[directory] = afterCalls
            }
        }
    }

    /// Lets calls under `directory` succeed again (failing or stalled), waking the blocked ones.
    public func heal(under directory: String) {
        state.withLock { s in
            s.directoryFailures[directory] = nil
            s.pendingStalls[directory] = nil
            s.stalledDirectories.remove(directory)
        }
        stallEnded.broadcast()
    }

    /// File calls blocked in a stalled directory now.
    public var stalledCallCount: Int { state.withLock { $0.stalledCalls } }

    /// Blocks while `path` is under a stalled directory, then throws the directory fault for it, if one applies.
    private func check(_ call: Call, path: String) throws(SystemCallError) {
        waitWhileStalled { _ in path }
        if let errno = state.withLock({ $0.directoryFailure(path, call) }) {
            throw SystemCallError(errno: errno, call: call.rawValue, cause: "injected for \(path)")
        }
    }

    /// The same for the file `fd` was opened at.
    private func check(_ call: Call, fd: Int32) throws(SystemCallError) {
        waitWhileStalled { $0.openPaths[fd] }
        let errno = state.withLock { s in s.openPaths[fd].flatMap { s.directoryFailure($0, call) } }
        if let errno {
            throw SystemCallError(errno: errno, call: call.rawValue, cause: "injected for descriptor \(fd)")
        }
    }

    /// Blocks the calling thread while the path `pathOf` names is in a stalled directory.
    private func waitWhileStalled(_ pathOf: (State) -> String?) {
        let stalled = state.withLock { s -> Bool in
            guard let path = pathOf(s) else { return false }
            s.countTowardsStalls(path)
            guard s.isStalled(path) else { return false }
            s.stalledCalls += 1
            return true
        }
        guard stalled else { return }
        stallEnded.wait(
            until: { state.withLock { s in pathOf(s).map { !s.isStalled($0) } ?? true } }, timeoutMs: -1)
        state.withLock { $0.stalledCalls -= 1 }
    }

    /// How many times `call` was made (failed attempts included).
    public func count(_ call: Call) -> Int { state.withLock { $0.counts[call, default: 0] } }

    /// Counts the call, then throws its injected failure if one is due.
    private func enter(_ call: Call, interruptible: Bool = false) throws(SystemCallError) {
        let errno: Int32? = state.withLock { s in
            s.counts[call, default: 0] += 1
            if interruptible, let every = s.interruptEvery {
                s.interruptibleCalls += 1
                if s.interruptibleCalls % every == 0 { return EINTR }
            }
            guard var failure = s.failures[call] else { return nil }
            if failure.skipCalls > 0 {
                failure.skipCalls -= 1
                s.failures[call] = failure
                return nil
            }
            if let remaining = failure.remaining {
                s.failures[call] =
                    remaining > 1
                    ? Failure(errno: failure.errno, skipCalls: 0, remaining: remaining - 1)
                    : nil
            }
            return failure.errno
        }
        if let errno { throw SystemCallError(errno: errno, call: call.rawValue, cause: "injected") }
    }

    private func limit(_ call: Call, _ count: Int) -> Int {
        min(count, state.withLock { $0.maxTransferBytes[call] } ?? count)
    }

    /// open, or its injected failure.
    public func open(path: String, flags: Int32, mode: UInt32) throws(SystemCallError) -> Int32 {
        try enter(.open)
        try check(.open, path: path)
        let fd = try real.open(path: path, flags: flags, mode: mode)
        state.withLock { $0.openPaths[fd] = path }
        return fd
    }

    /// close (never fails).
    public func close(fd: Int32) {
        state.withLock { s in
            s.counts[.close, default: 0] += 1
            s.openPaths[fd] = nil
        }
        real.close(fd: fd)
    }

    /// pwrite, possibly short, or its injected failure.
    public func pwrite(fd: Int32, bytes: UnsafeRawBufferPointer, offsetBytes: Int) throws(SystemCallError) -> Int {
        try enter(.pwrite, interruptible: true)
        try check(.pwrite, fd: fd)
        let count = limit(.pwrite, bytes.count)
        return try real.pwrite(
            fd: fd, bytes: UnsafeRawBufferPointer(rebasing: bytes[0..<count]), offsetBytes: offsetBytes)
    }

    /// pread, possibly short, or its injected failure.
    public func pread(fd: Int32, into buffer: UnsafeMutableRawBufferPointer, offsetBytes: Int) throws(SystemCallError)
        -> Int
    {
        try enter(.pread, interruptible: true)
        try check(.pread, fd: fd)
        let count = limit(.pread, buffer.count)
        return try real.pread(
            fd: fd, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<count]),
            offsetBytes: offsetBytes)
    }

    /// fdatasync, or its injected failure.
    public func fsync(fd: Int32) throws(SystemCallError) {
        try enter(.fsync)
        try check(.fsync, fd: fd)
        try real.fsync(fd: fd)
    }

    /// ftruncate, or its injected failure.
    public func truncate(fd: Int32, lengthBytes: Int) throws(SystemCallError) {
        try enter(.truncate)
        try check(.truncate, fd: fd)
        try real.truncate(fd: fd, lengthBytes: lengthBytes)
    }

    /// fstat size, or its injected failure.
    public func fileSizeBytes(fd: Int32) throws(SystemCallError) -> Int {
        try enter(.fstat)
        return try real.fileSizeBytes(fd: fd)
    }

    /// unlink, or its injected failure.
    public func unlink(path: String) throws(SystemCallError) {
        try enter(.unlink)
        try check(.unlink, path: path)
        try real.unlink(path: path)
    }

    /// rename, or its injected failure.
    public func rename(from: String, to: String) throws(SystemCallError) {
        try enter(.rename)
        try real.rename(from: from, to: to)
    }

    /// link, or its injected failure.
    public func link(from: String, to: String) throws(SystemCallError) {
        try enter(.link)
        try real.link(from: from, to: to)
    }

    /// mkdir, or its injected failure.
    public func makeDirectory(path: String) throws(SystemCallError) {
        try enter(.mkdir)
        try check(.mkdir, path: path)
        try real.makeDirectory(path: path)
    }

    /// rmdir, or its injected failure.
    public func removeDirectory(path: String) throws(SystemCallError) {
        try enter(.rmdir)
        try real.removeDirectory(path: path)
    }

    /// Directory listing, or its injected failure.
    public func listDirectory(path: String) throws(SystemCallError) -> [DirectoryEntry] {
        try enter(.listDirectory)
        try check(.listDirectory, path: path)
        return try real.listDirectory(path: path)
    }

    /// statvfs, or its injected failure.
    public func spaceBytes(path: String) throws(SystemCallError) -> (freeBytes: Int, capacityBytes: Int) {
        try enter(.statvfs)
        try check(.statvfs, path: path)
        return try real.spaceBytes(path: path)
    }

    /// read from a socket, possibly short, or its injected failure.
    public func receive(fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(SystemCallError) -> Int {
        try enter(.receive, interruptible: true)
        let count = limit(.receive, buffer.count)
        return try real.receive(fd: fd, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<count]))
    }

    /// writev, possibly short (only the first vector is sent when limited), or its injected failure.
    public func send(fd: Int32, vectors: UnsafeBufferPointer<iovec>) throws(SystemCallError) -> Int {
        try enter(.send, interruptible: true)
        guard let cap = state.withLock({ $0.maxTransferBytes[.send] }), let first = vectors.first else {
            return try real.send(fd: fd, vectors: vectors)
        }
        let one = [iovec(iov_base: first.iov_base, iov_len: min(first.iov_len, cap))]
        return try one.withUnsafeBufferPointer { v throws(SystemCallError) in try real.send(fd: fd, vectors: v) }
    }

    /// sendfile, possibly short, or its injected failure.
    public func sendfile(socket: Int32, file: Int32, offsetBytes: inout Int, count: Int) throws(SystemCallError) -> Int
    {
        try enter(.sendfile)
        try check(.sendfile, fd: file)
        return try real.sendfile(socket: socket, file: file, offsetBytes: &offsetBytes, count: limit(.sendfile, count))
    }

    /// shutdown (never fails).
    public func shutdown(fd: Int32, how: Int32) {
        state.withLock { $0.counts[.shutdown, default: 0] += 1 }
        real.shutdown(fd: fd, how: how)
    }
}
