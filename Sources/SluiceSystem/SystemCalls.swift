import CSluiceShim

#if canImport(Glibc)
    import Glibc
#endif

/// Every system call the servers make on files and connected sockets, behind one protocol so tests can fail any
/// of them deterministically (ENOSPC, EIO, short transfers, stalls). Each method is one call: the real one retries
/// `EINTR` itself, and callers continue short transfers (the loops are in `SystemCalls+Transfers.swift` and in
/// the network module). A failing call throws the errno it got with the call's name.
public protocol SystemCalls: Sendable {
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

    // Connected sockets.

    /// read(2) once from a socket; returns the bytes read (0 at end of stream). An expired receive time-out
    /// throws EAGAIN.
    func receive(fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(SystemCallError) -> Int
    /// writev(2) once; returns the bytes written (possibly fewer than asked). An expired send time-out throws
    /// EAGAIN.
    func send(fd: Int32, vectors: UnsafeBufferPointer<iovec>) throws(SystemCallError) -> Int
    /// sendfile(2) once: up to `count` bytes of `file` from `offsetBytes` to `socket`, advancing `offsetBytes`;
    /// returns the bytes sent (0 when the file ended).
    func sendfile(socket: Int32, file: Int32, offsetBytes: inout Int, count: Int) throws(SystemCallError) -> Int
    /// shutdown(2); errors are ignored (the peer may be gone already).
    func shutdown(fd: Int32, how: Int32)
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
