import SluiceCore

/// Valid values of every wire type, encoded into the message targets' seeds: short and long strings, non-ASCII
/// text, extreme numbers, empty and non-empty lists, ok and error heads.
enum MessageSamples {
    static let shuffles = [
        ShuffleKey(applicationId: "app-1", shuffleId: 0),
        ShuffleKey(applicationId: "application_1700000000000_0042", shuffleId: .max),
        ShuffleKey(applicationId: "\u{e9}t\u{e9}-\u{1F600}", shuffleId: 7),
    ]

    static let workers = [
        WorkerAddress(workerId: "worker-1", host: "10.0.0.1", port: 9_097),
        WorkerAddress(workerId: "worker-2", host: "host.example.org", port: .max),
        WorkerAddress(workerId: "", host: "", port: 0),
    ]

    static let heads = [
        ResponseHead(),
        ResponseHead(.unknownShuffle, "unknown shuffle app-1/0"),
        ResponseHead(.internalError, String(repeating: "x", count: 300)),
    ]

    static let tables = [
        LocationTable(),
        LocationTable([
            PartitionLocation(partitionId: 0, epoch: 0, primary: workers[0], replica: nil),
            PartitionLocation(partitionId: 1, epoch: 0, primary: workers[0], replica: workers[1]),
            PartitionLocation(partitionId: 1, epoch: 3, primary: nil, replica: workers[2]),
            PartitionLocation(partitionId: .max, epoch: .max, primary: workers[1], replica: workers[0]),
        ]),
    ]

    static let held = [
        HeldPartition(shuffle: shuffles[0], partitionId: 0, epoch: 0, role: .primary, bytes: 0),
        HeldPartition(shuffle: shuffles[1], partitionId: 9, epoch: 2, role: .replica, bytes: .max),
    ]

    /// Batches of every codec byte; message decoders do not check payloads, so these need no real compression.
    static let batches: [Batch] = [
        batch(payload: [], codec: .none, flags: []),
        batch(payload: Array("records of map 0, ".utf8), codec: .none, flags: [.last]),
        batch(payload: [0x1F, 0x00, 0x01, 0x02, 0x03], codec: .lz4, flags: [], rawLength: 40),
        batch(payload: [0x28, 0xB5, 0x2F, 0xFD, 0x00], codec: .zstd, flags: [.last], rawLength: 1),
    ]

    static func batch(payload: [UInt8], codec: Codec, flags: BatchFlags, rawLength: Int? = nil) -> Batch {
        Batch(
            header: BatchHeader(
                mapIndex: 3, attemptId: 0x1234_5678_9ABC, sequence: 1, flags: flags, codec: codec,
                rawLength: UInt32(rawLength ?? payload.count), storedLength: UInt32(payload.count),
                crc32c: 0xDEAD_BEEF),
            payload: payload[...])
    }

    static let pushEntries = [
        PushEntry(partitionId: 0, epoch: 0, replica: nil, batch: batches[0]),
        PushEntry(partitionId: 5, epoch: 1, replica: workers[1], batch: batches[1]),
        PushEntry(partitionId: .max, epoch: 2, replica: nil, batch: batches[2]),
        PushEntry(partitionId: 7, epoch: 0, replica: workers[0], batch: batches[3]),
    ]

    /// Every status but ok, for the heads of error responses.
    static let errorStatuses = StatusCode.allCases.filter { $0 != .ok }
}
