/// A throughput scenario against a running Sluice cluster, reported as a ratio against a hardware baseline
/// measured in the same run.
///
/// NOT WIRED YET: Sluice's client, master and worker modules are still being written. To add a scenario, implement
/// this protocol (e.g. "sluice-push" against `Baselines.receiveAndAppendName`, "sluice-fetch" against
/// `Baselines.sendfileName`) and list it in `SluiceScenarios.all`; `BenchCommand.run()` then runs each one after the
/// baselines of the same round (it requires `--master`).
protocol SluiceScenario: Sendable {
    /// Scenario name in the table, e.g. `sluice-push`.
    var name: String { get }
    /// Name of the baseline whose throughput this scenario is divided by.
    var baselineName: String { get }
    /// Runs the scenario once against the cluster whose master is at `master` (`HOST:PORT`).
    func run(master: String, totalBytes: Int, messageBytes: Int, connections: Int) throws -> Measurement
}

/// The registered Sluice scenarios: empty until the Sluice modules exist.
enum SluiceScenarios {
    static let all: [any SluiceScenario] = []
}
