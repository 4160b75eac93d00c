import Foundation
import SluiceSystem
import SluiceTestKit
import Synchronization

/// How a fuzz run is seeded and bounded: `SLUICE_FUZZ_SEED` (decimal, or hex after 0x) replays a run,
/// `SLUICE_FUZZ_TIME_MS` is each target's time budget, `SLUICE_FUZZ_TARGETS` picks targets.
struct FuzzSettings: Sendable {
    static let seedVariable = "SLUICE_FUZZ_SEED"
    static let timeBudgetVariable = "SLUICE_FUZZ_TIME_MS"
    static let targetsVariable = "SLUICE_FUZZ_TARGETS"
    static let defaultSeed: UInt64 = 0xDEC0_DE5E_ED00
    /// About 30 targets run one after the other: 1 s each keeps the decoder fuzz near 30 s of wall time.
    static let defaultTimeBudgetMs = 1_000
    /// One input taking more CPU time than this is reported as a hang.
    static let hangLimitMs = 2_000
    /// One input taking this much CPU time, or ten times as long in wall-clock time (a deadlock uses no CPU), aborts
    /// the test process after printing it: an endless loop would otherwise hold `swift test` forever.
    static let abortAfterMs = 30_000

    var seed: UInt64
    var timeBudgetMs: Int

    static func fromEnvironment() throws -> FuzzSettings {
        let seed = try SeededGenerator.seed(fromEnvironment: seedVariable) ?? defaultSeed
        guard let text = ProcessInfo.processInfo.environment[timeBudgetVariable], !text.isEmpty else {
            return FuzzSettings(seed: seed, timeBudgetMs: defaultTimeBudgetMs)
        }
        guard let timeBudgetMs = Int(text), timeBudgetMs >= 0 else {
            throw TestKitError("\(timeBudgetVariable) must be a number of milliseconds, got \(text)")
        }
        return FuzzSettings(seed: seed, timeBudgetMs: timeBudgetMs)
    }

    /// The names of the targets to run: those listed (comma-separated) in `SLUICE_FUZZ_TARGETS`, else all.
    static func targetNames() -> [String] {
        let listed = (ProcessInfo.processInfo.environment[targetsVariable] ?? "").split(separator: ",").map {
            String($0).trimmingCharacters(in: .whitespaces)
        }.filter { !$0.isEmpty }
        return listed.isEmpty ? FuzzTarget.all.map(\.name) : listed
    }

    /// The seed of one target's mutator: differs per target, and follows the run's seed.
    func seed(of target: FuzzTarget) -> UInt64 { seed ^ FNV.hash(target.name.utf8) }
}

/// What one target's run did.
struct FuzzReport: Sendable {
    var target: String
    var inputs = 0
    var accepted = 0
    var rejected = 0
    var corpusEntries = 0
    var elapsedMs: UInt64 = 0
    /// Each failure with its input in hex.
    var failures: [String] = []

    var summary: String {
        "\(target): \(inputs) inputs (\(accepted) accepted, \(rejected) rejected) from \(corpusEntries) corpus "
            + "entries in \(elapsedMs) ms, \(failures.count) failures"
    }
}

/// Runs one target: its seeds and checked-in corpus as they are, then seeded mutants until the time budget is spent.
enum FuzzRunner {
    /// A run stops after this many failures.
    static let maxFailures = 5
    /// Accepted mutants join the pool of inputs to mutate, up to this many entries.
    static let maxPoolEntries = 512

    static func run(_ target: FuzzTarget, settings: FuzzSettings, corpus: [(name: String, bytes: [UInt8])])
        -> FuzzReport
    {
        var report = FuzzReport(target: target.name)
        let startedNs = Monotonic.nowNs()
        let cpuClock = ThreadCPUClock.current()
        let watchdog = FuzzWatchdog(target: target.name, cpuClock: cpuClock)
        let timer = RepeatingTimer(intervalMs: 500) { watchdog.check() }
        defer { timer.cancel() }
        let check = target.makeCheck()

        func attempt(_ input: [UInt8], _ what: String) -> FuzzOutcome {
            watchdog.begin(input)
            let inputStartedNs = cpuClock?.nowNs() ?? Monotonic.nowNs()
            let outcome = check(input[...])
            let elapsedMs = ((cpuClock?.nowNs() ?? Monotonic.nowNs()) - inputStartedNs) / 1_000_000
            watchdog.end()
            report.inputs += 1
            switch outcome {
            case .accepted: report.accepted += 1
            case .rejected: report.rejected += 1
            case .violation(let problem): report.failures.append("\(what): \(problem)\n  input: \(hex(input))")
            }
            if elapsedMs > FuzzSettings.hangLimitMs {
                report.failures.append("\(what): hang, \(elapsedMs) ms of CPU on one input\n  input: \(hex(input))")
            }
            return outcome
        }

        let seeds = target.seeds()
        for (index, seed) in seeds.enumerated() {
            let outcome = attempt(seed, "seed \(index)")
            if outcome == .rejected { report.failures.append("seed \(index) is rejected\n  input: \(hex(seed))") }
            if let problem = target.checkSeed(seed[...]) {
                report.failures.append("seed \(index): \(problem)\n  input: \(hex(seed))")
            }
        }
        for entry in corpus { _ = attempt(entry.bytes, "corpus file \(entry.name)") }
        report.corpusEntries = seeds.count + corpus.count

        var pool = seeds + corpus.map(\.bytes)
        if pool.isEmpty { pool = [[]] }
        var mutator = FuzzMutator(seed: settings.seed(of: target))
        let budgetNs = UInt64(settings.timeBudgetMs) * 1_000_000
        var mutant = 0
        while Monotonic.nowNs() - startedNs < budgetNs && report.failures.count < maxFailures {
            let input = mutator.mutate(pool[mutator.below(pool.count)], corpus: pool)
            mutant += 1
            if attempt(input, "mutant \(mutant)") == .accepted && pool.count < maxPoolEntries { pool.append(input) }
        }
        report.elapsedMs = (Monotonic.nowNs() - startedNs) / 1_000_000
        return report
    }

    /// The input in hex; a long one is cut (a mutant is replayed from the seed in full).
    static func hex(_ input: [UInt8]) -> String {
        let limit = 4_096
        let dump = FuzzHex.dump(input.prefix(limit))
        return input.count > limit ? "\(dump)... (\(input.count) bytes)" : dump
    }
}

/// Watches the input being checked and aborts the process, printing the target and the input in hex, when one
/// runs for `FuzzSettings.abortAfterMs` of CPU time (or ten times that on the wall clock): a hang found by the fuzzer
/// then ends the run with its input.
final class FuzzWatchdog: Sendable {
    private struct Current {
        var input: [UInt8]
        var startedMs: UInt64
        var startedCPUNs: UInt64
    }

    private let target: String
    private let cpuClock: ThreadCPUClock?
    private let current = Mutex<Current?>(nil)

    init(target: String, cpuClock: ThreadCPUClock?) {
        self.target = target
        self.cpuClock = cpuClock
    }

    func begin(_ input: [UInt8]) {
        let current = Current(input: input, startedMs: Monotonic.nowMs(), startedCPUNs: cpuClock?.nowNs() ?? 0)
        self.current.withLock { $0 = current }
    }

    func end() { current.withLock { $0 = nil } }

    func check() {
        guard let stuck = current.withLock({ $0 }) else { return }
        let limitMs = UInt64(FuzzSettings.abortAfterMs)
        let cpuMs = cpuClock.map { ($0.nowNs() &- stuck.startedCPUNs) / 1_000_000 } ?? 0
        guard cpuMs > limitMs || Monotonic.nowMs() - stuck.startedMs > limitMs * 10 else { return }
        FileHandle.standardError.write(
            Data("fuzz target \(target) hangs on input \(FuzzRunner.hex(stuck.input))\n".utf8))
        abort()
    }
}
