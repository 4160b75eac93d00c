import Testing

@testable import SluiceWorker

/// The demotion loop's token bucket: a burst is admitted at once, a piece larger than the bucket puts it in debt,
/// and a stopped pacer refuses (so stopping the worker abandons a paced copy instead of waiting out the debt).
@Suite struct TokenBucketPacerTests {
    @Test func theFirstPieceIsAdmittedAndAStoppedPacerInDebtRefuses() {
        let pacer = TokenBucketPacer(rateBytesPerSec: 1 << 20)
        #expect(pacer.admit(bytes: 4 << 20), "a full bucket admits a piece larger than itself")
        pacer.stop()
        #expect(!pacer.admit(bytes: 1), "in debt for seconds, and stopped: refused at once")
    }
}
