import SluiceCore

/// Places partitions on workers: smooth weighted round-robin for primaries, and for each replica the next worker in
/// the same weighted order that is not the primary. Weights follow room in the fastest storage tier: the workers
/// whose fastest tier with room is the fastest any candidate has (nvme before ebs before fsx) weigh in proportion to
/// that tier's free bytes; the others get a trickle, so a partition lands on NVMe while any worker has NVMe room.
/// Deterministic for a given worker list, so tests can assert exact spreads.
public struct SlotAllocator: Sendable {
    /// A worker that may receive slots.
    public struct Candidate: Sendable {
        public var address: WorkerAddress
        public var freeBytes: UInt64
        /// Room per storage tier, fastest first; empty when the worker has not reported it (then `freeBytes`
        /// counts as room in a fastest-kind tier).
        public var tiers: [TierSpace]

        public init(address: WorkerAddress, freeBytes: UInt64, tiers: [TierSpace] = []) {
            self.address = address
            self.freeBytes = freeBytes
            self.tiers = tiers
        }

        /// The speed rank of a tier kind (lower is faster); unknown kinds rank last.
        static func rank(ofKind kind: String) -> Int {
            switch kind {
            case "nvme": 0
            case "ebs": 1
            case "fsx": 2
            default: 3
            }
        }

        /// The rank and free bytes of the fastest kind of tier with room (nil when no tier has room).
        var fastestRoom: (rank: Int, freeBytes: UInt64)? {
            guard !tiers.isEmpty else { return freeBytes > 0 ? (0, freeBytes) : nil }
            var best: (rank: Int, freeBytes: UInt64)?
            for tier in tiers where tier.freeBytes > 0 {
                let rank = Self.rank(ofKind: tier.kind)
                if let current = best, current.rank < rank { continue }
                best = (rank, best?.rank == rank ? (best?.freeBytes ?? 0) + tier.freeBytes : tier.freeBytes)
            }
            return best
        }
    }

    private var candidates: [Candidate]
    private var weights: [Int]
    private var current: [Int]

    /// - Parameter candidates: live, non-draining workers; order is made deterministic by worker id.
    public init(candidates: [Candidate]) {
        self.candidates = candidates.sorted { $0.address.workerId < $1.address.workerId }
        weights = Self.weights(of: self.candidates)
        current = Array(repeating: 0, count: self.candidates.count)
    }

    /// Weights in 1...100: in proportion to the free bytes of the fastest tier kind with room for the workers that
    /// have room there, 1 for the rest (a nearly full worker, or one with room only on slower tiers, still gets a
    /// trickle).
    static func weights(of candidates: [Candidate]) -> [Int] {
        let rooms = candidates.map(\.fastestRoom)
        guard let bestRank = rooms.compactMap({ $0?.rank }).min() else { return candidates.map { _ in 1 } }
        let maxFree = max(rooms.compactMap { $0?.rank == bestRank ? $0?.freeBytes : nil }.max() ?? 1, 1)
        return rooms.map { room in
            guard let room, room.rank == bestRank else { return 1 }
            return max(1, Int((Double(room.freeBytes) / Double(maxFree)) * 100))
        }
    }

    public var isEmpty: Bool { candidates.isEmpty }

    /// Picks the next primary (and a distinct replica when `replicate` and two or more workers exist).
    public mutating func next(replicate: Bool) -> (primary: WorkerAddress, replica: WorkerAddress?)? {
        guard let primaryIndex = pick(excluding: nil) else { return nil }
        let primary = candidates[primaryIndex].address
        guard replicate, candidates.count > 1 else { return (primary, nil) }
        let replicaIndex = strongestOther(than: primaryIndex)
        return (primary, candidates[replicaIndex].address)
    }

    private mutating func pick(excluding excluded: Int?) -> Int? {
        guard !candidates.isEmpty else { return nil }
        let total = weights.reduce(0, +)
        var best: Int?
        for index in candidates.indices where index != excluded {
            current[index] += weights[index]
            if best.map({ current[index] > current[$0] }) ?? true { best = index }
        }
        if let best { current[best] -= total }
        return best
    }

    /// The replica: the candidate after the primary with the highest running weight, so replicas spread too.
    private mutating func strongestOther(than primaryIndex: Int) -> Int {
        var best = (primaryIndex + 1) % candidates.count
        for index in candidates.indices where index != primaryIndex && current[index] > current[best] {
            best = index
        }
        current[best] -= weights[best]
        return best
    }
}
