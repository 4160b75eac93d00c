import Glibc
import SluiceCore
import SluiceSystem

/// One timed run of one scenario: payload bytes moved, wall time, and the process's CPU time over the run.
///
/// `bytes` counts frame bodies only (the 16-byte frame headers are left out). `cpuSeconds` is user + system time of
/// the whole process (senders and receivers alike) from `getrusage(RUSAGE_SELF)`. GB means 10^9 bytes.
struct Measurement: Codable, Sendable {
    /// Scenario name, e.g. `loopback-tcp`.
    let name: String
    /// Number of connections (streams) the scenario used.
    let connections: Int
    /// Body bytes moved end to end.
    let bytes: Int
    /// Wall-clock seconds from the first send to the last receiver finishing.
    let seconds: Double
    /// User + system CPU seconds of the process during the run.
    let cpuSeconds: Double
    /// `bytes / seconds / 1e9`.
    let gigabytesPerSecond: Double
    /// `cpuSeconds / (bytes / 1e9)`.
    let cpuSecondsPerGigabyte: Double

    init(name: String, connections: Int, bytes: Int, seconds: Double, cpuSeconds: Double) {
        self.name = name
        self.connections = connections
        self.bytes = bytes
        self.seconds = seconds
        self.cpuSeconds = cpuSeconds
        let gigabytes = Double(bytes) / 1e9
        gigabytesPerSecond = seconds > 0 ? gigabytes / seconds : 0
        cpuSecondsPerGigabyte = gigabytes > 0 ? cpuSeconds / gigabytes : 0
    }
}

/// Wall-clock and CPU readings taken at the start of a run; `finish` turns them into a `Measurement`.
struct Stopwatch {
    private let startNs: UInt64
    private let startCPUSeconds: Double

    init() {
        startCPUSeconds = Stopwatch.processCPUSeconds()
        startNs = Monotonic.nowNs()
    }

    /// Starts a measurement from a fixed memory state: every dirty page of the machine written back, and at
    /// least `writingBytes` of free memory freshly touched (both untimed). See `MemoryState`.
    static func settled(writingBytes: Int) -> Stopwatch {
        MemoryState.settle(writingBytes: writingBytes)
        return Stopwatch()
    }

    func finish(name: String, connections: Int, bytes: Int) -> Measurement {
        let endNs = Monotonic.nowNs()
        let cpu = Stopwatch.processCPUSeconds() - startCPUSeconds
        return Measurement(
            name: name, connections: connections, bytes: bytes,
            seconds: Double(endNs - startNs) / 1e9, cpuSeconds: cpu)
    }

    /// User + system CPU time of the whole process so far.
    static func processCPUSeconds() -> Double {
        var usage = rusage()
        guard getrusage(Int32(RUSAGE_SELF.rawValue), &usage) == 0 else { return 0 }
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }
}
