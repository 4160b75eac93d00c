import Synchronization

/// Push latencies (send to acknowledgement) recorded from connection threads through
/// `ClientConfig.pushLatencyRecorder`, kept in microseconds. Bounded: only the first `capacity` samples of a
/// phase are kept (about a terabyte of 1 MiB pushes), later ones are counted only.
final class LatencyLog: Sendable {
    static let capacity = 1 << 20
    private struct State {
        var samples: [UInt32] = []
        var seen = 0
    }
    private let state = Mutex(State())

    func record(nanoseconds: UInt64) {
        let micros = UInt32(clamping: nanoseconds / 1_000)
        state.withLock { s in
            s.seen += 1
            if s.samples.count < Self.capacity { s.samples.append(micros) }
        }
    }

    /// The summary of everything recorded since the last `take`, and a fresh start; nil when nothing was recorded.
    func take() -> LatencySummary? {
        let samples = state.withLock { s -> [UInt32] in
            defer { s = State() }
            return s.samples
        }
        return LatencySummary(microseconds: samples)
    }
}

/// Percentiles of push latency, in microseconds.
struct LatencySummary: Codable, Sendable {
    let count: Int
    let p50Micros: Int
    let p99Micros: Int
    let maxMicros: Int

    init?(microseconds samples: [UInt32]) {
        guard !samples.isEmpty else { return nil }
        let sorted = samples.sorted()
        func percentile(_ p: Double) -> Int {
            Int(sorted[min(sorted.count - 1, Int((p * Double(sorted.count - 1)).rounded()))])
        }
        count = samples.count
        p50Micros = percentile(0.50)
        p99Micros = percentile(0.99)
        maxMicros = Int(sorted[sorted.count - 1])
    }
}
