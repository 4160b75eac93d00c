import CSluiceShim

#if canImport(Glibc)
    import Glibc
#endif

/// The real system calls.
public struct PosixSystem: SystemCalls {
    /// Creates the real system layer.
    public init() {}

    /// open(2), close-on-exec.
    public func open(path: String, flags: Int32, mode: UInt32) throws(SystemCallError) -> Int32 {
        try Posix.retrying("open") { Glibc.open(path, flags | O_CLOEXEC, mode_t(mode)) }
    }

    /// close through Glibc.
    public func close(fd: Int32) { _ = Glibc.close(fd) }

    /// pwrite through Glibc.
    public func pwrite(fd: Int32, bytes: UnsafeRawBufferPointer, offsetBytes: Int) throws(SystemCallError) -> Int {
        try Posix.retrying("pwrite") { Glibc.pwrite(fd, bytes.baseAddress, bytes.count, off_t(offsetBytes)) }
    }

    /// pread through Glibc.
    public func pread(
        fd: Int32, into buffer: UnsafeMutableRawBufferPointer,
        offsetBytes: Int
    ) throws(SystemCallError) -> Int {
        try Posix.retrying("pread") { Glibc.pread(fd, buffer.baseAddress, buffer.count, off_t(offsetBytes)) }
    }

    /// fsync through Glibc.
    public func fsync(fd: Int32) throws(SystemCallError) {
        try Posix.retrying("fdatasync") { fdatasync(fd) }
    }

    /// truncate through Glibc.
    public func truncate(fd: Int32, lengthBytes: Int) throws(SystemCallError) {
        try Posix.retrying("ftruncate") { ftruncate(fd, off_t(lengthBytes)) }
    }

    /// fileSizeBytes through Glibc.
    public func fileSizeBytes(fd: Int32) throws(SystemCallError) -> Int {
        var info = stat()
        try Posix.retrying("fstat") { fstat(fd, &info) }
        return Int(info.st_size)
    }

    /// unlink through Glibc.
    public func unlink(path: String) throws(SystemCallError) {
        try Posix.retrying("unlink") { Glibc.unlink(path) }
    }

    /// rename through Glibc.
    public func rename(from: String, to: String) throws(SystemCallError) {
        try Posix.retrying("rename") { Glibc.rename(from, to) }
    }

    /// link through Glibc.
    public func link(from: String, to: String) throws(SystemCallError) {
        try Posix.retrying("link") { Glibc.link(from, to) }
    }

    /// makeDirectory through Glibc.
    public func makeDirectory(path: String) throws(SystemCallError) {
        try Posix.retrying("mkdir") { mkdir(path, 0o755) }
    }

    /// removeDirectory through Glibc.
    public func removeDirectory(path: String) throws(SystemCallError) {
        try Posix.retrying("rmdir") { rmdir(path) }
    }

    /// listDirectory through Glibc.
    public func listDirectory(path: String) throws(SystemCallError) -> [DirectoryEntry] {
        guard let directory = opendir(path) else { throw SystemCallError(errno: errno, call: "opendir") }
        defer { closedir(directory) }
        var entries: [DirectoryEntry] = []
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name == "." || name == ".." { continue }
            var isDirectory = entry.pointee.d_type == UInt8(DT_DIR)
            if entry.pointee.d_type == UInt8(DT_UNKNOWN) {
                var info = stat()
                if stat(path + "/" + name, &info) == 0 { isDirectory = (info.st_mode & S_IFMT) == S_IFDIR }
            }
            entries.append(DirectoryEntry(name: name, isDirectory: isDirectory))
        }
        return entries
    }

    /// spaceBytes through Glibc.
    public func spaceBytes(path: String) throws(SystemCallError) -> (freeBytes: Int, capacityBytes: Int) {
        var info = statvfs()
        try Posix.retrying("statvfs") { statvfs(path, &info) }
        let blockBytes = Int(info.f_frsize)
        return (Int(info.f_bavail) * blockBytes, Int(info.f_blocks) * blockBytes)
    }

    /// read(2) through Glibc.
    public func receive(fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(SystemCallError) -> Int {
        try Posix.retrying("read") { Glibc.read(fd, buffer.baseAddress, buffer.count) }
    }

    /// writev(2) through Glibc (at most IOV_MAX vectors are the caller's concern).
    public func send(fd: Int32, vectors: UnsafeBufferPointer<iovec>) throws(SystemCallError) -> Int {
        try Posix.retrying("writev") { writev(fd, vectors.baseAddress, Int32(vectors.count)) }
    }

    /// sendfile(2) through the shim.
    public func sendfile(socket: Int32, file: Int32, offsetBytes: inout Int, count: Int) throws(SystemCallError) -> Int
    {
        var position = off_t(offsetBytes)
        let sent = try Posix.retrying("sendfile") { sluice_sendfile(socket, file, &position, count) }
        offsetBytes = Int(position)
        return sent
    }

    /// shutdown(2) through Glibc, ignoring errors.
    public func shutdown(fd: Int32, how: Int32) { _ = Glibc.shutdown(fd, how) }
}
