import SluiceSystem
import Testing

/// Every decoder (frame header, message bodies, batches and codecs, HTTP/1.1, HTTP/2) gets its seeds, its
/// checked-in corpus and seeded mutants for a bounded time: no crash, no hang, only its own errors, and accepted
/// input re-encodes stably.
///
/// One test runs the targets one after the other, so the whole fuzz holds one thread for the sum of the budgets
/// (about 30 s by default) however busy the other suites keep the test pool.
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
        for name in names {
            guard let target = FuzzTarget.all.first(where: { $0.name == name }) else {
                Issue.record("no fuzz target \(name)")
                continue
            }
            let report = FuzzRunner.run(target, settings: settings, corpus: try FuzzCorpus.entries(of: name))
            print("DecoderFuzzTests: \(report.summary)")
            #expect(
                report.failures.isEmpty,
                "\(name), seed \(settings.seed):\n\(report.failures.joined(separator: "\n"))")
            #expect(report.accepted > 0, "\(name): no input was accepted, not even the seeds")
        }
        print("DecoderFuzzTests: \(names.count) targets in \(Monotonic.nowMs() - startedMs) ms")
    }
}
