import Foundation
import SluiceTestKit

/// The seeds of the kill loops: `SLUICE_KILL_SEED=N` replays one, `SLUICE_KILL_SEEDS=K` runs 1...K, else 1...30.
enum KillSeeds {
    static let all: [UInt64] = {
        let environment = ProcessInfo.processInfo.environment
        if let one = try? SeededGenerator.seed(fromEnvironment: "SLUICE_KILL_SEED") { return [one] }
        let count = environment["SLUICE_KILL_SEEDS"].flatMap(UInt64.init) ?? 30
        return Array(1...max(count, 1))
    }()
}
