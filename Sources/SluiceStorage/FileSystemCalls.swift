#if canImport(Glibc)
import Glibc
#endif

/// The file-system operations the store performs, injectable so tests can fail them deterministically.
/// Every failing call throws the errno it got; callers retry `EINTR` and short transfers.
public protocol FileSystemCalls: Sendable {
    /// open(2); returns the descriptor.
    func open(path: String, flags: Int32, mode: UInt32) throws(SystemCallError) -> Int32
    /// close(2); errors are ignored (the descriptor is gone either way on Linux).
    func close(fd: Int32)
    /// pwrite(2) once; returns the bytes written (possibly fewer than asked).
    func pwrite(fd: Int32, bytes: UnsafeRawBufferPointer, offsetBytes: Int) throws(SystemCallError) -> Int
    /// pread(2) once; returns the bytes read (0 at end of file).
    func pread(fd: Int32, into buffer: UnsafeMutableRawBufferPointer, offsetBytes: Int) throws(SystemCallError) -> Int
    /// fdatasync(2).
    func fsync(fd: Int32) throws(SystemCallError)
    /// ftruncate(2).
    func truncate(fd: Int32, lengthBytes: Int) throws(SystemCallError)
    /// The file's size from fstat(2).
    func fileSizeBytes(fd: Int32) throws(SystemCallError) -> Int
    /// unlink(2).
    func unlink(path: String) throws(SystemCallError)
    /// rename(2): moves `from` to `to`, replacing `to` if it exists.
    func rename(from: String, to: String) throws(SystemCallError)
    /// link(2): a second name `to` for the file `from`; fails with EEXIST when `to` exists.
    func link(from: String, to: String) throws(SystemCallError)
    /// mkdir(2) with mode 0o755; throws EEXIST when it exists.
    func makeDirectory(path: String) throws(SystemCallError)
    /// rmdir(2).
    func removeDirectory(path: String) throws(SystemCallError)
    /// The entries of a directory, without "." and "..".
    func listDirectory(path: String) throws(SystemCallError) -> [DirectoryEntry]
    /// statvfs(2): bytes available to unprivileged users, and total bytes.
    func spaceBytes(path: String) throws(SystemCallError) -> (freeBytes: Int, capacityBytes: Int)
}

/// One entry of a directory listing.
public struct DirectoryEntry: Sendable, Hashable {
    /// The entry's name (no path).
    public var name: String
    /// True for a directory.
    public var isDirectory: Bool

    /// Creates an entry.
    public init(name: String, isDirectory: Bool) {
        self.name = name
        self.isDirectory = isDirectory
    }
}

/// The real system calls.
public struct PosixFileSystem: FileSystemCalls {
    /// Creates the real file system.
    public init() {}

    /// open through Glibc.
    public func open(path: String, flags: Int32, mode: UInt32) throws(SystemCallError) -> Int32 {
        while true {
            let fd = Glibc.open(path, flags | O_CLOEXEC, mode_t(mode))
            if fd >= 0 { return fd }
            if errno != EINTR { throw SystemCallError(errno: errno) }
        }
    }

    /// close through Glibc.
    public func close(fd: Int32) { _ = Glibc.close(fd) }

    /// pwrite through Glibc.
    public func pwrite(fd: Int32, bytes: UnsafeRawBufferPointer, offsetBytes: Int) throws(SystemCallError) -> Int {
        let written = Glibc.pwrite(fd, bytes.baseAddress, bytes.count, off_t(offsetBytes))
        if written < 0 { throw SystemCallError(errno: errno) }
        return written
    }

    /// pread through Glibc.
    public func pread(fd: Int32, into buffer: UnsafeMutableRawBufferPointer,
                      offsetBytes: Int) throws(SystemCallError) -> Int {
        let read = Glibc.pread(fd, buffer.baseAddress, buffer.count, off_t(offsetBytes))
        if read < 0 { throw SystemCallError(errno: errno) }
        return read
    }

    /// fsync through Glibc.
    public func fsync(fd: Int32) throws(SystemCallError) {
        while fdatasync(fd) != 0 {
            if errno != EINTR { throw SystemCallError(errno: errno) }
        }
    }

    /// truncate through Glibc.
    public func truncate(fd: Int32, lengthBytes: Int) throws(SystemCallError) {
        while ftruncate(fd, off_t(lengthBytes)) != 0 {
            if errno != EINTR { throw SystemCallError(errno: errno) }
        }
    }

    /// fileSizeBytes through Glibc.
    public func fileSizeBytes(fd: Int32) throws(SystemCallError) -> Int {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw SystemCallError(errno: errno) }
        return Int(info.st_size)
    }

    /// unlink through Glibc.
    public func unlink(path: String) throws(SystemCallError) {
        guard Glibc.unlink(path) == 0 else { throw SystemCallError(errno: errno) }
    }

    /// rename through Glibc.
    public func rename(from: String, to: String) throws(SystemCallError) {
        guard Glibc.rename(from, to) == 0 else { throw SystemCallError(errno: errno) }
    }

    /// link through Glibc.
    public func link(from: String, to: String) throws(SystemCallError) {
        guard Glibc.link(from, to) == 0 else { throw SystemCallError(errno: errno) }
    }

    /// makeDirectory through Glibc.
    public func makeDirectory(path: String) throws(SystemCallError) {
        guard mkdir(path, 0o755) == 0 else { throw SystemCallError(errno: errno) }
    }

    /// removeDirectory through Glibc.
    public func removeDirectory(path: String) throws(SystemCallError) {
        guard rmdir(path) == 0 else { throw SystemCallError(errno: errno) }
    }

    /// listDirectory through Glibc.
    public func listDirectory(path: String) throws(SystemCallError) -> [DirectoryEntry] {
        guard let directory = opendir(path) else { throw SystemCallError(errno: errno) }
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
        guard statvfs(path, &info) == 0 else { throw SystemCallError(errno: errno) }
        let blockBytes = Int(info.f_frsize)
        return (Int(info.f_bavail) * blockBytes, Int(info.f_blocks) * blockBytes)
    }
}

/// Loops of single calls: whole transfers with `EINTR` retried and short transfers continued.
extension FileSystemCalls {
    /// Writes all of `bytes` at `offsetBytes`.
    func writeFully(fd: Int32, bytes: UnsafeRawBufferPointer, offsetBytes: Int) throws(SystemCallError) {
        var done = 0
        while done < bytes.count {
            let written: Int
            do throws(SystemCallError) {
                written = try pwrite(fd: fd, bytes: UnsafeRawBufferPointer(rebasing: bytes[done...]),
                                     offsetBytes: offsetBytes + done)
            } catch where error.errno == EINTR {
                continue
            }
            // A zero-byte write with bytes left would loop forever: report it as an I/O error.
            guard written > 0 else { throw SystemCallError(errno: EIO) }
            done += written
        }
    }

    /// Writes all of `bytes` at `offsetBytes`.
    func writeFully(fd: Int32, slice bytes: ArraySlice<UInt8>, offsetBytes: Int) throws(SystemCallError) {
        var failure: SystemCallError?
        bytes.withUnsafeBytes { raw in
            do throws(SystemCallError) {
                try writeFully(fd: fd, bytes: raw, offsetBytes: offsetBytes)
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
    }

    /// Reads exactly `buffer.count` bytes at `offsetBytes`; returns fewer only at end of file.
    func readFully(fd: Int32, into buffer: UnsafeMutableRawBufferPointer,
                   offsetBytes: Int) throws(SystemCallError) -> Int {
        var done = 0
        while done < buffer.count {
            let read: Int
            do throws(SystemCallError) {
                read = try pread(fd: fd, into: UnsafeMutableRawBufferPointer(rebasing: buffer[done...]),
                                 offsetBytes: offsetBytes + done)
            } catch where error.errno == EINTR {
                continue
            }
            if read == 0 { break }
            done += read
        }
        return done
    }

    /// Reads up to `count` bytes at `offsetBytes` into the start of `array`; returns fewer only at end of file.
    func readFully(fd: Int32, into array: inout [UInt8], count: Int, offsetBytes: Int) throws(SystemCallError) -> Int {
        var failure: SystemCallError?
        var read = 0
        array.withUnsafeMutableBytes { raw in
            do throws(SystemCallError) {
                read = try readFully(fd: fd, into: UnsafeMutableRawBufferPointer(rebasing: raw[0..<count]),
                                     offsetBytes: offsetBytes)
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        return read
    }
}
