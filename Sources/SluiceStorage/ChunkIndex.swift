/// One batch-aligned range of a partition file.
public struct ChunkInfo: Sendable, Equatable {
    /// Position in the file's chunk list (0, 1, ...); stable while the file exists.
    public var index: Int
    /// File offset of the chunk's first batch header.
    public var offsetBytes: Int
    /// Bytes of whole batches (headers and payloads) in the chunk.
    public var lengthBytes: Int
    /// Batches in the chunk.
    public var batchCount: Int
    /// Distinct map indexes of the chunk's batches, ascending.
    public var mapIndexes: [UInt32]
    /// True when at least one batch is stored uncompressed (codec none).
    public var hasUncompressed: Bool

    /// Creates a chunk description.
    public init(
        index: Int, offsetBytes: Int, lengthBytes: Int, batchCount: Int, mapIndexes: [UInt32],
        hasUncompressed: Bool
    ) {
        self.index = index
        self.offsetBytes = offsetBytes
        self.lengthBytes = lengthBytes
        self.batchCount = batchCount
        self.mapIndexes = mapIndexes
        self.hasUncompressed = hasUncompressed
    }

    /// True when some map index of the chunk lies in `startMapIndex..<endMapIndex`.
    public func containsMap(from startMapIndex: UInt32, to endMapIndex: UInt32) -> Bool {
        guard startMapIndex < endMapIndex else { return false }
        var low = 0
        var high = mapIndexes.count
        while low < high {
            let middle = (low + high) / 2
            if mapIndexes[middle] < startMapIndex { low = middle + 1 } else { high = middle }
        }
        return low < mapIndexes.count && mapIndexes[low] < endMapIndex
    }
}

/// Builds a file's chunk list batch by batch; the writer and recovery use the same rules, so a
/// recovered file has exactly the chunks it had when written.
struct ChunkIndexBuilder: Sendable {
    let chunkTargetBytes: Int
    private(set) var sealed: [ChunkInfo] = []
    private(set) var fileBytes = 0
    private var currentOffsetBytes = 0
    private var currentLengthBytes = 0
    private var currentBatchCount = 0
    private var currentMaps: Set<UInt32> = []
    private var currentHasUncompressed = false

    init(chunkTargetBytes: Int) {
        self.chunkTargetBytes = chunkTargetBytes
    }

    /// The builder that produced `chunks` (a manifest's record of a file): every chunk but the last is sealed; the
    /// last is sealed when it reached the target, else it is the open chunk that later batches extend.
    init(chunkTargetBytes: Int, restoring chunks: [ChunkInfo]) {
        self.chunkTargetBytes = chunkTargetBytes
        guard let last = chunks.last else { return }
        let lastIsOpen = last.lengthBytes < chunkTargetBytes
        sealed = lastIsOpen ? Array(chunks.dropLast()) : chunks
        fileBytes = last.offsetBytes + last.lengthBytes
        if lastIsOpen {
            currentOffsetBytes = last.offsetBytes
            currentLengthBytes = last.lengthBytes
            currentBatchCount = last.batchCount
            currentMaps = Set(last.mapIndexes)
            currentHasUncompressed = last.hasUncompressed
        } else {
            currentOffsetBytes = fileBytes
        }
    }

    /// Accounts one batch of `encodedBytes` (header included) appended at the end of the file.
    mutating func add(mapIndex: UInt32, uncompressed: Bool, encodedBytes: Int) {
        if currentLengthBytes > 0 && currentLengthBytes + encodedBytes > chunkTargetBytes { seal() }
        currentLengthBytes += encodedBytes
        currentBatchCount += 1
        currentMaps.insert(mapIndex)
        currentHasUncompressed = currentHasUncompressed || uncompressed
        fileBytes += encodedBytes
        if currentLengthBytes >= chunkTargetBytes { seal() }
    }

    /// Sealed chunks plus the current partial chunk, if any.
    func snapshot() -> [ChunkInfo] {
        guard currentLengthBytes > 0 else { return sealed }
        return sealed + [currentChunk()]
    }

    private func currentChunk() -> ChunkInfo {
        ChunkInfo(
            index: sealed.count, offsetBytes: currentOffsetBytes, lengthBytes: currentLengthBytes,
            batchCount: currentBatchCount, mapIndexes: currentMaps.sorted(),
            hasUncompressed: currentHasUncompressed)
    }

    private mutating func seal() {
        sealed.append(currentChunk())
        currentOffsetBytes += currentLengthBytes
        currentLengthBytes = 0
        currentBatchCount = 0
        currentMaps.removeAll(keepingCapacity: true)
        currentHasUncompressed = false
    }
}
