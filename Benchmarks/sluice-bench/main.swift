// sluice-bench entry point: see BenchCommand.swift (options), Baselines.swift (hardware baselines) and
// SluiceScenario.swift (where the Sluice scenarios get added).
BenchCommand.main()
