import Foundation
import SluiceTestKit

/// A kill or a restart of a worker during the soak.
struct SoakEvent: Codable, Sendable, CustomStringConvertible {
    enum Kind: String, Codable, Sendable {
        case kill, restart, restartFailed
    }

    var atSeconds: Double
    var kind: Kind
    var worker: Int
    var note = ""

    var description: String {
        switch kind {
        case .kill: "worker-\(worker) killed (SIGKILL)\(note)"
        case .restart: "worker-\(worker) restarted\(note)"
        case .restartFailed: "worker-\(worker) did not restart: \(note)"
        }
    }
}

/// When to kill which worker and when to restart it: seeded intervals between a restart and the next kill, a
/// seeded victim and a seeded time down. At most one worker is down at a time, and none is killed once the load
/// is over (a down worker is still restarted).
struct SoakChaos {
    private var generator: SeededGenerator
    private let settings: SoakSettings
    private var nextKillAt: Double
    /// The worker that is down and when it comes back.
    private(set) var down: (worker: Int, restartAt: Double)?
    private var failedRestarts = 0
    /// A worker that would not restart stays down, and no other is killed (two would be down).
    private var gaveUp = false

    init(settings: SoakSettings) {
        self.settings = settings
        generator = SeededGenerator(seed: settings.seed ^ 0xC4A0_5C4A_05C4_A05C)
        nextKillAt = 0
        nextKillAt = nextInterval()
    }

    private mutating func nextInterval() -> Double {
        Double(Int.random(in: settings.killIntervalSeconds, using: &generator))
    }

    /// Kills or restarts a worker when it is time; returns what it did.
    mutating func step(at now: Double, loadOver: Bool, cluster: ProcessCluster) -> SoakEvent? {
        if let down {
            guard now >= down.restartAt else { return nil }
            do {
                try cluster.restartWorker(index: down.worker)
            } catch {
                // Try again in a second; three failures in a row leave it down, and the run fails.
                failedRestarts += 1
                self.down = failedRestarts < 3 ? (down.worker, now + 1) : nil
                gaveUp = failedRestarts >= 3
                return SoakEvent(atSeconds: now, kind: .restartFailed, worker: down.worker, note: "\(error)")
            }
            failedRestarts = 0
            self.down = nil
            nextKillAt = now + nextInterval()
            return SoakEvent(atSeconds: now, kind: .restart, worker: down.worker)
        }
        guard !loadOver, !gaveUp, now >= nextKillAt else { return nil }
        let victim = Int.random(in: 0..<settings.workers, using: &generator)
        let delay = Double(Int.random(in: settings.restartDelaySeconds, using: &generator))
        cluster.kill(worker: victim)
        down = (victim, now + delay)
        return SoakEvent(atSeconds: now, kind: .kill, worker: victim, note: String(format: ", down for %.0f s", delay))
    }
}
