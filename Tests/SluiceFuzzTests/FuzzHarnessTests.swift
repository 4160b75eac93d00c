import SluiceCore
import Testing

/// The harness itself: mutants replay from their seed, failures are reported with their input, and the targets
/// reach the code they are meant to (a fuzz run that never got past a checksum would pass vacuously).
@Suite struct FuzzHarnessTests {
    @Test func theSameSeedGivesTheSameMutants() {
        let corpus = MessageTargets.helloRequest.seeds()
        var first = FuzzMutator(seed: 7)
        var second = FuzzMutator(seed: 7)
        var other = FuzzMutator(seed: 8)
        let firstMutants = (0..<200).map { first.mutate(corpus[$0 % corpus.count], corpus: corpus) }
        let secondMutants = (0..<200).map { second.mutate(corpus[$0 % corpus.count], corpus: corpus) }
        let otherMutants = (0..<200).map { other.mutate(corpus[$0 % corpus.count], corpus: corpus) }
        #expect(firstMutants == secondMutants)
        #expect(firstMutants != otherMutants)
    }

    @Test func aViolationIsReportedWithItsInputInHex() {
        let target = FuzzTarget(
            name: "Planted", covers: [], seeds: { [[0x01, 0x02]] },
            makeCheck: { { input in input.contains(0x42) ? .violation("planted bug") : .accepted } })
        let report = FuzzRunner.run(
            target, settings: FuzzSettings(seed: 1, timeBudgetMs: 2_000), corpus: [("has-0x42.bin", [0x00, 0x42])])
        #expect(report.failures.first?.contains("corpus file has-0x42.bin: planted bug\n  input: 0042") == true)
        #expect(report.failures.count == FuzzRunner.maxFailures, "the run stops at the failure limit")
    }

    @Test func batchSeedsUseEveryCodecSoMutantsReachTheDecompressors() throws {
        let codecs = try BatchTargets.batchCodec.seeds().map { seed in
            var reader = WireReader(seed)
            return try BatchHeader.decode(from: &reader).codec
        }
        #expect(Set(codecs) == Set(Codec.allCases))
    }

    @Test func http2SeedsReachTheRouterAndGetAnswers() {
        let seeds = HTTPTargets.http2.seeds()
        let driven = seeds.map { HTTPTargets.driveHTTP2($0[...]) }
        #expect(driven.allSatisfy { $0.outcome == .accepted && $0.outputBytes > 0 })
        #expect(driven.map(\.requests).reduce(0, +) >= 5, "requests routed per seed: \(driven.map(\.requests))")
    }
}
