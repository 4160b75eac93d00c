import SluiceSystem
import Synchronization

/// What the soak's jobs did, added to from every job thread: counts, bytes, retries, and every loss.
final class SoakLedger: Sendable {
    /// The totals at one moment.
    struct Totals: Codable, Sendable {
        var jobsStarted = 0
        var jobsCompleted = 0
        /// Jobs that needed at least one retried map or read task (and completed).
        var jobsRetried = 0
        /// Jobs given up: a map task failed every attempt, or the shuffle could not be registered. Not a loss
        /// (nothing of theirs was acknowledged as complete), but a failure of the run.
        var jobsFailed = 0
        /// Map task attempts that failed and were run again.
        var mapRetries = 0
        /// Partition reads that failed (an error, never wrong data) and were run again.
        var readRetries = 0
        /// Bytes of the winning map attempts (every batch acknowledged by both copies).
        var bytesPushed = 0
        /// Bytes read back and verified.
        var bytesRead = 0
        /// (map, partition) pairs of acknowledged output that read back wrong, short, or not at all.
        var lostPairs = 0
        /// The first losses and job failures, described.
        var problems: [String] = []
    }

    static let problemsKept = 50
    private let totals = Mutex(Totals())

    var snapshot: Totals { totals.withLock { $0 } }

    func update(_ body: (inout Totals) -> Void) { totals.withLock { body(&$0) } }

    /// Records lost pairs (and says so on standard output at once: a loss is what the soak is for).
    func loss(pairs: Int, _ description: String) {
        say("LOSS: \(description)")
        totals.withLock {
            $0.lostPairs += pairs
            if $0.problems.count < Self.problemsKept { $0.problems.append("loss: \(description)") }
        }
    }

    /// Records a job given up.
    func jobFailed(_ description: String) {
        say("JOB FAILED: \(description)")
        totals.withLock {
            $0.jobsFailed += 1
            if $0.problems.count < Self.problemsKept { $0.problems.append("job failed: \(description)") }
        }
    }
}

/// Writes a line to standard output at once (a long run's output goes to a file, read while it runs).
func say(_ line: String) { ProcessOutput.standardOutput(line + "\n") }
