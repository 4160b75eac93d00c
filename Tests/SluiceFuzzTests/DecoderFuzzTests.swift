import SluiceSystem
import Testing

/// Every decoder (frame header, message bodies, batches and codecs, HTTP/1.1, HTTP/2) gets its seeds, its
/// checked-in corpus and seeded mutants for a bounded time: no crash, no hang, only its own errors, and accepted
/// input re-encodes stably.
///
/// The targets run one after the other on one thread at the lowest CPU priority: the whole fuzz takes the sum of
/// the budgets (about 30 s by default), and the suites running alongside keep the CPU they need (a cluster test
/// whose heartbeats starve fails).
///
/// Replay a failure with `SLUICE_FUZZ_SEED=<seed printed by the failing run> swift test --filter DecoderFuzzTests`;
/// fuzz longer with `SLUICE_FUZZ_TIME_MS=<milliseconds per target>`, fewer targets with `SLUICE_FUZZ_TARGETS`
/// (see docs/fuzzing.md).
@Suite struct DecoderFuzzTests {
    @Test func everyDecoderSurvivesMutatedInput() throws {
        let settings = try FuzzSettings.fromEnvironment()
        let names = FuzzSettings.targetNames()
        print("DecoderFuzzTests: seed \(settings.seed) (set \(FuzzSettings.seedVariable) to replay)")
        let startedMs = Monotonic.nowMs()
        let corpora = try names.map { try FuzzCorpus.entries(of: $0) }
        let slackMs = 600_000
        let reports = try LowPriorityThread.run(timeoutMs: names.count * settings.timeBudgetMs + slackMs) {
            zip(names, corpora).map { name, corpus -> FuzzReport? in
                guard let target = FuzzTarget.all.first(where: { $0.name == name }) else { return nil }
                let report = FuzzRunner.run(target, settings: settings, corpus: corpus)
                print("DecoderFuzzTests: \(report.summary)")
                return report
            }
        }
        let finished = try #require(reports, "the decoder fuzz did not finish")
        for (name, report) in zip(names, finished) {
            guard let report else {
                Issue.record("no fuzz target \(name)")
                continue
            }
            #expect(
                report.failures.isEmpty,
                "\(name), seed \(settings.seed):\n\(report.failures.joined(separator: "\n"))")
            #expect(report.accepted > 0, "\(name): no input was accepted, not even the seeds")
        }
        print("DecoderFuzzTests: \(names.count) targets in \(Monotonic.nowMs() - startedMs) ms")
    }
}
