// sluice-bench entry point: see BenchCommand.swift (the throughput benchmark, the default), SoakCommand.swift (the
// soak run), Baselines.swift (hardware baselines) and Scenario.swift (the Sluice scenarios).
import ArgumentParser
import SluiceCore

/// `sluice-bench`: the throughput benchmark (without a subcommand) and the soak run.
struct SluiceBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice-bench",
        abstract:
            "Sluice's benchmarks: throughput against hardware baselines (default), and a soak under worker kills.",
        discussion: "`sluice-bench --help` shows this; `sluice-bench help throughput` the benchmark's options.",
        version: SluiceVersion.current,
        subcommands: [BenchCommand.self, SoakCommand.self, RecoveryCommand.self],
        defaultSubcommand: BenchCommand.self)
}

SluiceBench.main()
