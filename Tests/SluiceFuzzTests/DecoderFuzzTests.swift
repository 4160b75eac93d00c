import Testing

/// Every decoder (frame header, message bodies, batches and codecs, HTTP/1.1, HTTP/2) gets its seeds, its
/// checked-in corpus and seeded mutants for a bounded time: no crash, no hang, only its own errors, and accepted
/// input re-encodes stably.
///
/// Replay a failure with `SLUICE_FUZZ_SEED=<seed printed by the failing run> swift test --filter DecoderFuzzTests`;
/// fuzz longer with `SLUICE_FUZZ_TIME_MS=<milliseconds per target>` (see docs/fuzzing.md).
@Suite(.serialized)
struct DecoderFuzzTests {
    @Test(arguments: FuzzSettings.targetNames())
    func decoderSurvivesMutatedInput(target name: String) throws {
        let settings = try FuzzSettings.fromEnvironment()
        let target = try #require(FuzzTarget.all.first { $0.name == name }, "no fuzz target \(name)")
        let report = FuzzRunner.run(target, settings: settings, corpus: try FuzzCorpus.entries(of: name))
        print("DecoderFuzzTests: seed \(settings.seed) (set \(FuzzSettings.seedVariable) to replay), \(report.summary)")
        #expect(
            report.failures.isEmpty,
            "\(name), seed \(settings.seed):\n\(report.failures.joined(separator: "\n"))")
        #expect(report.accepted > 0, "\(name): no input was accepted, not even the seeds")
    }
}
