import SluiceCore

/// Places partitions on workers: smooth weighted round-robin by free bytes for primaries, and for each
/// replica the next worker in the same weighted order that is not the primary. Deterministic for a given
/// worker list, so tests can assert exact spreads.
public struct SlotAllocator: Sendable {
    /// A worker that may receive slots.
    public struct Candidate: Sendable {
        public var address: WorkerAddress
        public var freeBytes: UInt64

        public init(address: WorkerAddress, freeBytes: UInt64) {
            self.address = address
            self.freeBytes = freeBytes
        }
    }

    private var candidates: [Candidate]
    private var weights: [Int]
    private var current: [Int]

    /// - Parameter candidates: live, non-draining workers; order is made deterministic by worker id.
    public init(candidates: [Candidate]) {
        self.candidates = candidates.sorted { $0.address.workerId < $1.address.workerId }
        // Weights in 1...100 proportional to free space: a nearly full worker still gets a trickle.
        let maxFree = max(self.candidates.map(\.freeBytes).max() ?? 1, 1)
        weights = self.candidates.map { max(1, Int((Double($0.freeBytes) / Double(maxFree)) * 100)) }
        current = Array(repeating: 0, count: self.candidates.count)
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
