/// One worker's folder in a shared (`fsx`) directory: `directory string | folder string`. The directory is the path
/// the file system is mounted at (workers sharing it mount it at the same path); the folder holds that worker's
/// files and manifest, `<directory>/<folder>`.
public struct SharedFolder: Sendable, Hashable {
    /// The `fsx` directory as configured.
    public var directory: String
    /// The worker's folder inside it.
    public var folder: String

    /// Creates a description.
    public init(directory: String, folder: String) {
        self.directory = directory
        self.folder = folder
    }

    /// `<directory>/<folder>`.
    public var path: String { directory + "/" + folder }

    func encode(into writer: inout WireWriter) {
        writer.writeString(directory)
        writer.writeString(folder)
    }

    static func decode(from reader: inout WireReader) throws(ProtocolError) -> SharedFolder {
        SharedFolder(directory: try reader.readString("directory"), folder: try reader.readString("folder"))
    }

    /// `count u32 | SharedFolder...`.
    static func decodeList(from reader: inout WireReader) throws(ProtocolError) -> [SharedFolder] {
        let count = try reader.readCount("sharedFolders", minimumElementBytes: 4)
        var folders: [SharedFolder] = []
        folders.reserveCapacity(count)
        for _ in 0..<count { folders.append(try decode(from: &reader)) }
        return folders
    }

    static func encodeList(_ folders: [SharedFolder], into writer: inout WireWriter) {
        writer.writeU32(UInt32(folders.count))
        for folder in folders { folder.encode(into: &writer) }
    }
}

/// Master → worker, in a heartbeat answer: adopt the shared folder of a worker lost for good,
/// `lostWorkerId string | SharedFolder`.
public struct AdoptionOrder: Sendable, Hashable {
    /// The lost worker.
    public var lostWorkerId: String
    /// Its folder, on a file system the adopter mounts.
    public var folder: SharedFolder

    /// Creates an order.
    public init(lostWorkerId: String, folder: SharedFolder) {
        self.lostWorkerId = lostWorkerId
        self.folder = folder
    }

    func encode(into writer: inout WireWriter) {
        writer.writeString(lostWorkerId)
        folder.encode(into: &writer)
    }

    static func decode(from reader: inout WireReader) throws(ProtocolError) -> AdoptionOrder {
        AdoptionOrder(
            lostWorkerId: try reader.readString("lostWorkerId"), folder: try SharedFolder.decode(from: &reader))
    }
}

/// Worker → master, after adopting a lost worker's shared folder: `workerId string | lostWorkerId string |
/// folder string | last bool | heldCount u32 | HeldPartition...`, in pages like `reportHeldPartitions`; answered with a
/// `StatusResponse`. The master points readers of every listed file at the adopter; the last page completes the
/// order (for that folder). `unknownWorker` means the adopter is not registered: register again (the adopted files
/// are then in its registration report).
public struct AdoptPartitionsRequest: WireMessage, Equatable {
    public static let messageType = MessageType.adoptPartitions
    /// The adopter.
    public var workerId: String
    /// The lost worker whose files these were.
    public var lostWorkerId: String
    /// The adopted folder's path (`SharedFolder.path`).
    public var folderPath: String
    /// True on the last page.
    public var last: Bool
    public var held: [HeldPartition]

    public init(workerId: String, lostWorkerId: String, folderPath: String, last: Bool, held: [HeldPartition]) {
        self.workerId = workerId
        self.lostWorkerId = lostWorkerId
        self.folderPath = folderPath
        self.last = last
        self.held = held
    }

    public func encode(into writer: inout WireWriter) {
        writer.writeString(workerId)
        writer.writeString(lostWorkerId)
        writer.writeString(folderPath)
        writer.writeBool(last)
        HeldPartition.encodeList(held, into: &writer)
    }

    public static func decode(from reader: inout WireReader) throws(ProtocolError) -> AdoptPartitionsRequest {
        AdoptPartitionsRequest(
            workerId: try reader.readString("workerId"), lostWorkerId: try reader.readString("lostWorkerId"),
            folderPath: try reader.readString("folderPath"), last: try reader.readBool("last"),
            held: try HeldPartition.decodeList(from: &reader))
    }
}
