import SluiceCore

/// File-name tags of `PartitionRole` (SluiceCore): the primary copy "p", the replica copy "r".
extension PartitionRole {
    /// The one-letter tag used in file names: "p" or "r".
    public var fileTag: String {
        switch self {
        case .primary: "p"
        case .replica: "r"
        }
    }

    /// Parses a file-name tag ("p" or "r").
    public init?(fileTag: Substring) {
        switch fileTag {
        case "p": self = .primary
        case "r": self = .replica
        default: return nil
        }
    }
}

/// Identifies one partition file: (application, shuffle, partition, epoch, role).
public struct PartitionFileKey: Sendable, Hashable, CustomStringConvertible {
    /// The most UTF-8 bytes accepted in an application id (it becomes a directory name).
    public static let maxApplicationIdBytes = 200

    /// Spark application id; a directory name under the store root.
    public let applicationId: String
    /// Spark shuffle id.
    public let shuffleId: UInt32
    /// Reduce partition id.
    public let partitionId: UInt32
    /// Location epoch: a revived or split partition gets a new epoch and a new file.
    public let epoch: UInt32
    /// Primary or replica copy.
    public let role: PartitionRole

    /// Creates a key after validating `applicationId` for use as a directory name.
    /// - Throws: `StorageError` with code `.invalidKey` when the application id is unsafe in a path.
    public init(
        applicationId: String, shuffleId: UInt32, partitionId: UInt32, epoch: UInt32,
        role: PartitionRole
    ) throws(StorageError) {
        try Self.validateApplicationId(applicationId)
        self.applicationId = applicationId
        self.shuffleId = shuffleId
        self.partitionId = partitionId
        self.epoch = epoch
        self.role = role
    }

    /// The file name inside the shuffle directory: `<partitionId>-<epoch>-<p|r>.data`.
    public var fileName: String { "\(partitionId)-\(epoch)-\(role.fileTag).data" }

    /// `app/shuffle/partition-epoch-role`.
    public var description: String {
        "\(applicationId)/\(shuffleId)/\(partitionId)-\(epoch)-\(role.fileTag)"
    }

    /// The shuffle this file belongs to.
    public var shuffle: ShuffleKey { ShuffleKey(applicationId: applicationId, shuffleId: shuffleId) }

    /// Parses a file name produced by `fileName`; nil for anything else.
    static func parseFileName(_ name: String) -> (partitionId: UInt32, epoch: UInt32, role: PartitionRole)? {
        guard name.hasSuffix(".data") else { return nil }
        let stem = name.dropLast(5)
        let parts = stem.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, let partition = UInt32(parts[0]), let epoch = UInt32(parts[1]),
            let role = PartitionRole(fileTag: parts[2])
        else { return nil }
        return (partition, epoch, role)
    }

    /// Accepts 1...200 bytes of `[A-Za-z0-9._-]` (Spark's `app-2024...`, `local-1700...`, YARN's
    /// `application_1_2`), other than "." and "..".
    /// - Throws: `StorageError` with code `.invalidKey` and a message naming the problem.
    public static func validateApplicationId(_ applicationId: String) throws(StorageError) {
        let utf8 = applicationId.utf8
        guard !utf8.isEmpty else {
            throw StorageError(.invalidKey, message: "application id is empty")
        }
        guard utf8.count <= maxApplicationIdBytes else {
            throw StorageError(
                .invalidKey,
                message: "application id is \(utf8.count) bytes, more than \(maxApplicationIdBytes)")
        }
        guard applicationId != ".", applicationId != ".." else {
            throw StorageError(.invalidKey, message: "application id '\(applicationId)' is a relative path component")
        }
        for byte in utf8 where !isAllowed(byte) {
            throw StorageError(
                .invalidKey,
                message: "application id contains byte 0x\(String(byte, radix: 16)); allowed: A-Z a-z 0-9 . _ -")
        }
    }

    private static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
            true
        default:
            false
        }
    }
}
