import SluiceCore
import SluiceSystem

#if canImport(Glibc)
    import Glibc
#endif

/// A storage failure: what kind, the errno behind it (0 when none), a message and the file or directory involved.
public struct StorageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kinds of storage failure.
    public enum Code: String, Sendable, Equatable {
        /// A disk operation failed (EIO, EROFS, EBADF...).
        case ioError
        /// The file system is full (ENOSPC, EDQUOT).
        case noSpace
        /// Stored bytes failed header validation or their checksum.
        case corrupt
        /// No file is held for this partition key.
        case unknownPartition
        /// The partition key (application id) is unusable in a path.
        case invalidKey
        /// The batch is inconsistent (payload length differs from the header's stored length).
        case invalidBatch
        /// A file already exists where a new partition file would be created.
        case alreadyExists
        /// The store was closed.
        case closed
    }

    /// What kind of failure.
    public var code: Code
    /// The errno of the failed system call, 0 when no call failed.
    public var errno: Int32
    /// A message for humans.
    public var message: String
    /// The path involved, empty when none.
    public var path: String

    /// Creates an error.
    public init(_ code: Code, errno: Int32 = 0, message: String, path: String = "") {
        self.code = code
        self.errno = errno
        self.message = message
        self.path = path
    }

    /// Maps a failed system call to `.noSpace` (ENOSPC, EDQUOT) or `.ioError` (anything else).
    public static func system(_ failure: SystemCallError, operation: String, path: String) -> StorageError {
        let code: Code = (failure.errno == ENOSPC || failure.errno == EDQUOT) ? .noSpace : .ioError
        return StorageError(
            code, errno: failure.errno,
            message: "\(operation) failed: \(failure.errnoDescription)", path: path)
    }

    /// The status a worker reports for this error.
    /// True when a system call on the file system failed (ENOSPC, EIO, EROFS...): the directory, not the data,
    /// is at fault.
    public var isFileSystemFailure: Bool { (code == .ioError || code == .noSpace) && errno != 0 }

    public var status: StatusCode {
        switch code {
        case .noSpace: .hardSplit  // this location takes no more data: the client revives elsewhere
        case .ioError: .ioError
        case .corrupt: .corrupt
        case .unknownPartition: .unknownPartition
        case .invalidKey, .invalidBatch: .invalidArgument
        case .alreadyExists: .internalError
        case .closed: .shuttingDown
        }
    }

    /// Code, message and path.
    public var description: String {
        var text = "\(code.rawValue): \(message)"
        if !path.isEmpty { text += " (\(path))" }
        return text
    }
}
