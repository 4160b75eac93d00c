/// One partition file a worker holds, reported when it registers so a restarted master can rebuild its tables:
/// `ShuffleKey | partitionId u32 | epoch u32 | role u8 | bytes u64`.
public struct HeldPartition: Sendable, Hashable {
    public var shuffle: ShuffleKey
    public var partitionId: UInt32
    public var epoch: UInt32
    public var role: PartitionRole
    public var bytes: UInt64

    public init(shuffle: ShuffleKey, partitionId: UInt32, epoch: UInt32, role: PartitionRole, bytes: UInt64) {
        self.shuffle = shuffle
        self.partitionId = partitionId
        self.epoch = epoch
        self.role = role
        self.bytes = bytes
    }

    func encode(into writer: inout WireWriter) {
        shuffle.encode(into: &writer)
        writer.writeU32(partitionId)
        writer.writeU32(epoch)
        writer.writeU8(role.rawValue)
        writer.writeU64(bytes)
    }

    static func decode(from reader: inout WireReader) throws(ProtocolError) -> HeldPartition {
        HeldPartition(
            shuffle: try ShuffleKey.decode(from: &reader), partitionId: try reader.readU32("partitionId"),
            epoch: try reader.readU32("epoch"), role: try PartitionRole.decode(from: &reader),
            bytes: try reader.readU64("bytes"))
    }
}

/// Worker → master, on start and whenever the master asks for a resync:
/// `WorkerAddress | httpPort u16 | capacityBytes u64 | freeBytes u64 | heldCount u32 | HeldPartition... |
/// [morePages bool | [sharedCount u32 | SharedFolder...]]`. `held` is the first page of what the worker holds; with
/// `morePages` (absent: false) the rest follows in `reportHeldPartitions` pages, and the master places nothing on the
/// worker until the last one. `sharedFolders` (absent: none) are the worker's own folders in shared `fsx`
/// directories, which another worker mounting the same directory may adopt once this one is lost for good.
public struct RegisterWorkerRequest: WireMessage, Equatable {
    public static let messageType = MessageType.registerWorker
    public var address: WorkerAddress
    public var httpPort: UInt16
    public var capacityBytes: UInt64
    public var freeBytes: UInt64
    public var held: [HeldPartition]
    /// True when `reportHeldPartitions` pages follow.
    public var morePages: Bool
    /// The worker's folders in shared directories.
    public var sharedFolders: [SharedFolder]

    public init(
        address: WorkerAddress, httpPort: UInt16 = 0, capacityBytes: UInt64, freeBytes: UInt64,
        held: [HeldPartition], morePages: Bool = false, sharedFolders: [SharedFolder] = []
    ) {
        self.address = address
        self.httpPort = httpPort
        self.capacityBytes = capacityBytes
        self.freeBytes = freeBytes
        self.held = held
        self.morePages = morePages
        self.sharedFolders = sharedFolders
    }

    public func encode(into writer: inout WireWriter) {
        address.encode(into: &writer)
        writer.writeU16(httpPort)
        writer.writeU64(capacityBytes)
        writer.writeU64(freeBytes)
        HeldPartition.encodeList(held, into: &writer)
        // Written only when needed, so a one-page registration is what masters before paging read.
        if morePages || !sharedFolders.isEmpty { writer.writeBool(morePages) }
        if !sharedFolders.isEmpty { SharedFolder.encodeList(sharedFolders, into: &writer) }
    }

    public static func decode(from reader: inout WireReader) throws(ProtocolError) -> RegisterWorkerRequest {
        let address = try WorkerAddress.decode(from: &reader)
        let httpPort = try reader.readU16("httpPort")
        let capacity = try reader.readU64("capacityBytes")
        let free = try reader.readU64("freeBytes")
        let held = try HeldPartition.decodeList(from: &reader)
        let morePages = reader.remaining > 0 ? try reader.readBool("morePages") : false
        let shared = reader.remaining > 0 ? try SharedFolder.decodeList(from: &reader) : []
        return RegisterWorkerRequest(
            address: address, httpPort: httpPort, capacityBytes: capacity, freeBytes: free,
            held: held, morePages: morePages, sharedFolders: shared)
    }
}

/// Worker → master, after a `registerWorker` with `morePages`: `workerId string | last bool | heldCount u32 |
/// HeldPartition...`, in order on the same connection; answered with a `StatusResponse`. Applying a page twice
/// changes nothing. `unknownWorker` means the registration was lost (master restart): register again.
public struct ReportHeldPartitionsRequest: WireMessage, Equatable {
    public static let messageType = MessageType.reportHeldPartitions
    public var workerId: String
    /// True on the registration's last page.
    public var last: Bool
    public var held: [HeldPartition]

    public init(workerId: String, last: Bool, held: [HeldPartition]) {
        self.workerId = workerId
        self.last = last
        self.held = held
    }

    public func encode(into writer: inout WireWriter) {
        writer.writeString(workerId)
        writer.writeBool(last)
        HeldPartition.encodeList(held, into: &writer)
    }

    public static func decode(from reader: inout WireReader) throws(ProtocolError) -> ReportHeldPartitionsRequest {
        ReportHeldPartitionsRequest(
            workerId: try reader.readString("workerId"), last: try reader.readBool("last"),
            held: try HeldPartition.decodeList(from: &reader))
    }
}

extension HeldPartition {
    /// Writes `heldCount u32 | HeldPartition...`.
    static func encodeList(_ held: [HeldPartition], into writer: inout WireWriter) {
        writer.writeU32(UInt32(held.count))
        for partition in held { partition.encode(into: &writer) }
    }

    /// `heldCount u32 | HeldPartition...`.
    static func decodeList(from reader: inout WireReader) throws(ProtocolError) -> [HeldPartition] {
        let count = try reader.readCount("held", minimumElementBytes: 23)
        var held: [HeldPartition] = []
        held.reserveCapacity(count)
        for _ in 0..<count { held.append(try HeldPartition.decode(from: &reader)) }
        return held
    }
}

/// Master → worker: `ResponseHead | heartbeatIntervalMs u32` (the interval only when ok).
public struct RegisterWorkerResponse: WireResponse, Equatable {
    public static let messageType = MessageType.registerWorker
    public var head: ResponseHead
    public var heartbeatIntervalMs: UInt32

    public init(head: ResponseHead = ResponseHead(), heartbeatIntervalMs: UInt32) {
        self.head = head
        self.heartbeatIntervalMs = heartbeatIntervalMs
    }

    public func encode(into writer: inout WireWriter) {
        head.encode(into: &writer)
        if head.status == .ok { writer.writeU32(heartbeatIntervalMs) }
    }

    public static func decode(from reader: inout WireReader) throws(ProtocolError) -> RegisterWorkerResponse {
        let head = try ResponseHead.decode(from: &reader)
        guard head.status == .ok else { return RegisterWorkerResponse(head: head, heartbeatIntervalMs: 0) }
        return RegisterWorkerResponse(head: head, heartbeatIntervalMs: try reader.readU32("heartbeatIntervalMs"))
    }
}

/// Worker → master, every heartbeat interval:
/// `workerId string | freeBytes u64 | draining bool | shuffleCount u32 | ShuffleKey... | [tierCount u8 | TierSpace...]`
/// (the shuffles it holds, then room per storage tier, fastest first; absent from older workers: none).
public struct WorkerHeartbeatRequest: WireMessage, Equatable {
    public static let messageType = MessageType.workerHeartbeat
    public var workerId: String
    public var freeBytes: UInt64
    /// True while the worker shuts down gracefully: it gets no new slots.
    public var draining: Bool
    public var shuffles: [ShuffleKey]
    /// Room in each storage tier, fastest first (the master places by the fastest tier with room).
    public var tiers: [TierSpace]

    public init(
        workerId: String, freeBytes: UInt64, draining: Bool = false, shuffles: [ShuffleKey], tiers: [TierSpace] = []
    ) {
        self.workerId = workerId
        self.freeBytes = freeBytes
        self.draining = draining
        self.shuffles = shuffles
        self.tiers = Array(tiers.prefix(TierSpace.maxCount))
    }

    public func encode(into writer: inout WireWriter) {
        writer.writeString(workerId)
        writer.writeU64(freeBytes)
        writer.writeBool(draining)
        writer.writeU32(UInt32(shuffles.count))
        for key in shuffles { key.encode(into: &writer) }
        guard !tiers.isEmpty else { return }
        writer.writeU8(UInt8(tiers.count))
        for tier in tiers { tier.encode(into: &writer) }
    }

    public static func decode(from reader: inout WireReader) throws(ProtocolError) -> WorkerHeartbeatRequest {
        let workerId = try reader.readString("workerId")
        let free = try reader.readU64("freeBytes")
        let draining = try reader.readBool("draining")
        let count = try reader.readCount("shuffles", minimumElementBytes: 6)
        var shuffles: [ShuffleKey] = []
        shuffles.reserveCapacity(count)
        for _ in 0..<count { shuffles.append(try ShuffleKey.decode(from: &reader)) }
        var tiers: [TierSpace] = []
        if reader.remaining > 0 {
            let tierCount = Int(try reader.readU8("tierCount"))
            guard tierCount <= TierSpace.maxCount else {
                throw ProtocolError(.malformed, "\(tierCount) tiers, at most \(TierSpace.maxCount)")
            }
            for _ in 0..<tierCount { tiers.append(try TierSpace.decode(from: &reader)) }
        }
        return WorkerHeartbeatRequest(
            workerId: workerId, freeBytes: free, draining: draining, shuffles: shuffles, tiers: tiers)
    }
}

/// Master → worker: `ResponseHead | resync bool | deleteCount u32 | ShuffleKey... | decommissioned bool |
/// [adoptionCount u32 | AdoptionOrder...]`.
/// `decommissioned` (absent from older masters: false) says an operator decommissioned the worker: it drains.
/// `adoptions` (absent: none) ask the worker to adopt lost workers' shared folders (`AdoptPartitionsRequest`).
/// Status `unknownWorker` (no body after the head) means: register again with everything you hold.
/// `resync` asks for a fresh registration too (the worker holds shuffles the master has not heard of).
/// The listed shuffles were unregistered or their application ended: delete their files.
public struct WorkerHeartbeatResponse: WireResponse, Equatable {
    public static let messageType = MessageType.workerHeartbeat
    public var head: ResponseHead
    public var resync: Bool
    public var shufflesToDelete: [ShuffleKey]
    public var decommissioned: Bool
    public var adoptions: [AdoptionOrder]

    public init(
        head: ResponseHead = ResponseHead(), resync: Bool = false, shufflesToDelete: [ShuffleKey] = [],
        decommissioned: Bool = false, adoptions: [AdoptionOrder] = []
    ) {
        self.head = head
        self.resync = resync
        self.shufflesToDelete = shufflesToDelete
        self.decommissioned = decommissioned
        self.adoptions = adoptions
    }

    public func encode(into writer: inout WireWriter) {
        head.encode(into: &writer)
        guard head.status == .ok else { return }
        writer.writeBool(resync)
        writer.writeU32(UInt32(shufflesToDelete.count))
        for key in shufflesToDelete { key.encode(into: &writer) }
        writer.writeBool(decommissioned)
        guard !adoptions.isEmpty else { return }
        writer.writeU32(UInt32(adoptions.count))
        for order in adoptions { order.encode(into: &writer) }
    }

    public static func decode(from reader: inout WireReader) throws(ProtocolError) -> WorkerHeartbeatResponse {
        let head = try ResponseHead.decode(from: &reader)
        guard head.status == .ok else { return WorkerHeartbeatResponse(head: head) }
        let resync = try reader.readBool("resync")
        let count = try reader.readCount("shufflesToDelete", minimumElementBytes: 6)
        var keys: [ShuffleKey] = []
        for _ in 0..<count { keys.append(try ShuffleKey.decode(from: &reader)) }
        let decommissioned = reader.remaining > 0 ? try reader.readBool("decommissioned") : false
        var adoptions: [AdoptionOrder] = []
        if reader.remaining > 0 {
            let count = try reader.readCount("adoptions", minimumElementBytes: 12)
            for _ in 0..<count { adoptions.append(try AdoptionOrder.decode(from: &reader)) }
        }
        return WorkerHeartbeatResponse(
            head: head, resync: resync, shufflesToDelete: keys, decommissioned: decommissioned,
            adoptions: adoptions)
    }
}
