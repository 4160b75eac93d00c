/// Identifies one shuffle of one application: `applicationId string | shuffleId u32`.
public struct ShuffleKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var applicationId: String
    public var shuffleId: UInt32

    public init(applicationId: String, shuffleId: UInt32) {
        self.applicationId = applicationId
        self.shuffleId = shuffleId
    }

    public var description: String { "\(applicationId)/\(shuffleId)" }

    public static func < (lhs: ShuffleKey, rhs: ShuffleKey) -> Bool {
        (lhs.applicationId, lhs.shuffleId) < (rhs.applicationId, rhs.shuffleId)
    }

    public func encode(into writer: inout WireWriter) {
        writer.writeString(applicationId)
        writer.writeU32(shuffleId)
    }

    public static func decode(from reader: inout WireReader) throws(ProtocolError) -> ShuffleKey {
        let applicationId = try reader.readString("applicationId")
        let shuffleId = try reader.readU32("shuffleId")
        guard !applicationId.isEmpty else { throw ProtocolError(.invalidArgument, "empty application id") }
        return ShuffleKey(applicationId: applicationId, shuffleId: shuffleId)
    }
}

/// Which copy of a partition a file or push is: the primary, or the replica the primary forwards to.
public enum PartitionRole: UInt8, Sendable, CaseIterable {
    case primary = 0
    case replica = 1

    static func decode(from reader: inout WireReader) throws(ProtocolError) -> PartitionRole {
        let raw = try reader.readU8("role")
        guard let role = PartitionRole(rawValue: raw) else { throw ProtocolError(.malformed, "unknown role \(raw)") }
        return role
    }
}

/// A worker's data endpoint as clients reach it: `workerId string | host string | port u16`.
public struct WorkerAddress: Sendable, Hashable, CustomStringConvertible {
    public var workerId: String
    public var host: String
    public var port: UInt16

    public init(workerId: String, host: String, port: UInt16) {
        self.workerId = workerId
        self.host = host
        self.port = port
    }

    /// `host:port`, or `[host]:port` for an IPv6 literal.
    public var endpoint: String { EndpointText.format(host: host, port: Int(port)) }
    public var description: String { "\(workerId)@\(endpoint)" }

    public func encode(into writer: inout WireWriter) {
        writer.writeString(workerId)
        writer.writeString(host)
        writer.writeU16(port)
    }

    public static func decode(from reader: inout WireReader) throws(ProtocolError) -> WorkerAddress {
        WorkerAddress(
            workerId: try reader.readString("workerId"), host: try reader.readString("host"),
            port: try reader.readU16("port"))
    }
}

/// Where one epoch of one partition lives: its primary and, with replication, its replica.
/// `primary` is nil only in tables a restarted master rebuilt from a replica's report alone.
public struct PartitionLocation: Sendable, Hashable {
    public var partitionId: UInt32
    public var epoch: UInt32
    public var primary: WorkerAddress?
    public var replica: WorkerAddress?

    /// The copies a reader may try, primary first.
    public var copies: [(role: PartitionRole, worker: WorkerAddress)] {
        var result: [(role: PartitionRole, worker: WorkerAddress)] = []
        if let primary { result.append((.primary, primary)) }
        if let replica { result.append((.replica, replica)) }
        return result
    }

    public init(partitionId: UInt32, epoch: UInt32, primary: WorkerAddress?, replica: WorkerAddress?) {
        self.partitionId = partitionId
        self.epoch = epoch
        self.primary = primary
        self.replica = replica
    }
}

/// A compact list of partition locations: each worker appears once, entries refer to workers by index.
/// Encoding: `workerCount u32 | WorkerAddress... | entryCount u32 | (partitionId u32 | epoch u32 |
/// primaryIndex u16 | replicaIndex u16)...`; index 0xFFFF means none (at least one of the two is set).
public struct LocationTable: Sendable, Equatable {
    /// The worker index that means "no worker" (no replica, or a primary that is not known).
    public static let noReplica: UInt16 = 0xFFFF
    /// The largest worker list a table can index (indexes are u16, 0xFFFF is reserved).
    public static let maxWorkers = 0xFFFE

    public private(set) var workers: [WorkerAddress] = []
    public private(set) var entries: [Entry] = []
    private var workerIndexById: [String: UInt16] = [:]

    /// One partition epoch, by worker index.
    public struct Entry: Sendable, Equatable {
        public var partitionId: UInt32
        public var epoch: UInt32
        public var primaryIndex: UInt16
        public var replicaIndex: UInt16
    }

    public init() {}

    public init(_ locations: [PartitionLocation]) {
        for location in locations { append(location) }
    }

    public static func == (lhs: LocationTable, rhs: LocationTable) -> Bool {
        lhs.locations == rhs.locations
    }

    /// Adds one location (a worker already in the table is not repeated). Returns false, adding nothing, when the
    /// location names a worker the table has no index left for (past `maxWorkers`).
    @discardableResult
    public mutating func append(_ location: PartitionLocation) -> Bool {
        let primaryIsNew = location.primary.map { workerIndexById[$0.workerId] == nil } ?? false
        let replicaIsNew =
            location.replica.map {
                workerIndexById[$0.workerId] == nil && $0.workerId != location.primary?.workerId
            } ?? false
        guard workers.count + (primaryIsNew ? 1 : 0) + (replicaIsNew ? 1 : 0) <= Self.maxWorkers else { return false }
        let primaryIndex = location.primary.map { index(of: $0) } ?? Self.noReplica
        let replicaIndex = location.replica.map { index(of: $0) } ?? Self.noReplica
        entries.append(
            Entry(
                partitionId: location.partitionId, epoch: location.epoch,
                primaryIndex: primaryIndex, replicaIndex: replicaIndex))
        return true
    }

    /// The index of `worker`, added when new; the caller checked there is room.
    private mutating func index(of worker: WorkerAddress) -> UInt16 {
        if let existing = workerIndexById[worker.workerId] { return existing }
        let index = UInt16(truncatingIfNeeded: workers.count)
        workers.append(worker)
        workerIndexById[worker.workerId] = index
        return index
    }

    /// Every location, in entry order.
    public var locations: [PartitionLocation] {
        entries.map { entry in
            PartitionLocation(
                partitionId: entry.partitionId, epoch: entry.epoch,
                primary: entry.primaryIndex == Self.noReplica ? nil : workers[Int(entry.primaryIndex)],
                replica: entry.replicaIndex == Self.noReplica ? nil : workers[Int(entry.replicaIndex)])
        }
    }

    public func encode(into writer: inout WireWriter) {
        writer.writeU32(UInt32(workers.count))
        for worker in workers { worker.encode(into: &writer) }
        writer.writeU32(UInt32(entries.count))
        for entry in entries {
            writer.writeU32(entry.partitionId)
            writer.writeU32(entry.epoch)
            writer.writeU16(entry.primaryIndex)
            writer.writeU16(entry.replicaIndex)
        }
    }

    public static func decode(from reader: inout WireReader) throws(ProtocolError) -> LocationTable {
        var table = LocationTable()
        let workerCount = try reader.readCount("table.workers", minimumElementBytes: 6)
        guard workerCount <= maxWorkers else { throw ProtocolError(.malformed, "too many workers: \(workerCount)") }
        for _ in 0..<workerCount {
            let worker = try WorkerAddress.decode(from: &reader)
            guard table.workerIndexById[worker.workerId] == nil else {
                throw ProtocolError(.malformed, "worker \(worker.workerId) listed twice")
            }
            table.workerIndexById[worker.workerId] = UInt16(table.workers.count)
            table.workers.append(worker)
        }
        let entryCount = try reader.readCount("table.entries", minimumElementBytes: 12)
        table.entries.reserveCapacity(entryCount)
        for _ in 0..<entryCount {
            let entry = Entry(
                partitionId: try reader.readU32("partitionId"), epoch: try reader.readU32("epoch"),
                primaryIndex: try reader.readU16("primaryIndex"),
                replicaIndex: try reader.readU16("replicaIndex"))
            guard entry.primaryIndex == noReplica || Int(entry.primaryIndex) < workerCount,
                entry.replicaIndex == noReplica || Int(entry.replicaIndex) < workerCount,
                entry.primaryIndex != noReplica || entry.replicaIndex != noReplica
            else {
                throw ProtocolError(.malformed, "location entry refers to a worker index out of range")
            }
            table.entries.append(entry)
        }
        return table
    }
}

/// Reads the `status u16 | message string` head every response starts with.
public struct ResponseHead: Sendable, Equatable {
    public var status: StatusCode
    public var message: String

    public init(_ status: StatusCode = .ok, _ message: String = "") {
        self.status = status
        self.message = message
    }

    public func encode(into writer: inout WireWriter) {
        writer.writeU16(status.rawValue)
        writer.writeString(String(message.utf8.prefix(4096)) ?? "")
    }

    public static func decode(from reader: inout WireReader) throws(ProtocolError) -> ResponseHead {
        ResponseHead(StatusCode.decode(try reader.readU16("status")), try reader.readString("message"))
    }

    /// Throws a ProtocolError carrying the status when it is not `.ok`.
    public func requireOK() throws(ProtocolError) {
        guard status == .ok else { throw ProtocolError(status, message) }
    }
}

/// A request or response body that knows its message type and its encoding.
public protocol WireMessage: Sendable {
    static var messageType: MessageType { get }
    func encode(into writer: inout WireWriter)
    static func decode(from reader: inout WireReader) throws(ProtocolError) -> Self
}

extension WireMessage {
    /// The encoded body.
    public func encoded() -> [UInt8] {
        var writer = WireWriter()
        encode(into: &writer)
        return writer.bytes
    }

    /// Decodes a whole body; trailing bytes are malformed.
    public static func decode(body: ArraySlice<UInt8>) throws(ProtocolError) -> Self {
        var reader = WireReader(body)
        let message = try decode(from: &reader)
        try reader.expectEnd("message")
        return message
    }

    public static func decode(body: [UInt8]) throws(ProtocolError) -> Self { try decode(body: body[...]) }
}

/// A response body: starts with a `ResponseHead`; the rest is present only when the status says so.
public protocol WireResponse: WireMessage {
    var head: ResponseHead { get }
}
