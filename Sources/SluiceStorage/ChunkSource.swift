/// Where one chunk's stored bytes come from: a range of an open file, which the server sends with `sendfile`
/// without copying, or bytes already in memory (a store that keeps a chunk in memory, or one that had to
/// transform it). A reader of a copy whose writer failed never gets this far: `ReadableFile.writerFailure`
/// refuses the stream at open, so the reader turns to the other copy.
public enum ChunkSource: Sendable, Equatable {
    /// `lengthBytes` at `offsetBytes` of `fd`, a descriptor owned by the `ReadableFile` it came from (keep that
    /// file alive until the bytes are sent).
    case fileRange(fd: Int32, offsetBytes: Int, lengthBytes: Int)
    /// The chunk's bytes.
    case bytes([UInt8])

    /// The number of bytes the chunk holds.
    public var lengthBytes: Int {
        switch self {
        case .fileRange(_, _, let lengthBytes): lengthBytes
        case .bytes(let bytes): bytes.count
        }
    }
}
