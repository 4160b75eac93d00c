import Testing

@testable import SluiceConfig

@Suite struct CommandLineOptionsTests {
    @Test func workerFlagsBecomeOverridesAndConfigPath() throws {
        let options = try CommandLineOptions.parse(
            ["--master", "10.0.0.1:9097", "--port", "0", "--storage-dir=/x", "--config", "w.conf", "--fsync-on-flush"],
            role: .worker)
        #expect(options.action == .run)
        #expect(options.configFilePath == "w.conf")
        #expect(
            options.overrides == [
                "worker.masterAddress": "10.0.0.1:9097", "worker.port": "0", "worker.storageDir": "/x",
                "worker.fsyncOnFlush": "true",
            ])
        let config = try WorkerConfig.load(overrides: options.overrides)
        #expect(config.masterAddress == HostPort(host: "10.0.0.1", port: 9097))
        #expect(config.port == 0)
        #expect(config.fsyncOnFlush)
    }

    @Test func masterFlags() throws {
        let options = try CommandLineOptions.parse(
            ["--port", "9097", "--config", "m.conf", "--log-level", "debug"],
            role: .master)
        #expect(options.overrides == ["master.port": "9097", "logLevel": "debug"])
        #expect(options.configFilePath == "m.conf")
    }

    @Test func flagNamesAreDerivedFromKeys() {
        #expect(ConfigRegistry.flagName(for: WorkerKeys.storageDir.spec) == "--storage-dir")
        #expect(ConfigRegistry.flagName(for: WorkerKeys.masterAddress.spec) == "--master")
        #expect(ConfigRegistry.flagName(for: MasterKeys.port.spec) == "--port")
        #expect(
            ConfigRegistry.flagName(for: WorkerKeys.maxInFlightRequestsPerConnection.spec)
                == "--max-in-flight-requests-per-connection")
        #expect(WorkerKeys.storageDir.environmentVariable == "SLUICE_WORKER_STORAGE_DIR")
        #expect(SharedKeys.logLevel.environmentVariable == "SLUICE_LOG_LEVEL")
    }

    @Test func unknownFlagsAndBadArgumentsFail() {
        for arguments in [
            ["--storage-dir", "/x"], ["--prot", "1"], ["stray"], ["--port"], ["--port", "--config", "f"],
            ["--port", "1", "--port", "2"],
        ] {
            let error = expectConfigError { _ = try CommandLineOptions.parse(arguments, role: .master) }
            #expect(error?.kind == .badArgument, "\(arguments)")
            #expect(error?.message.contains("sluice-master --help") == true)
        }
        let unknown = expectConfigError { _ = try CommandLineOptions.parse(["--prot", "1"], role: .master) }
        #expect(unknown?.message.contains("unknown flag --prot") == true)
    }

    @Test func documentationActions() throws {
        #expect(try CommandLineOptions.parse(["--port", "1", "--help"], role: .master).action == .help)
        #expect(try CommandLineOptions.parse(["--print-config-docs"], role: .worker).action == .printConfigDocs)
        guard
            case .printAndExit(let help) = try ConfigCommandLine.run(
                role: .worker, arguments: ["-h"],
                environment: [:])
        else {
            Issue.record("expected help text")
            return
        }
        #expect(help.contains("--storage-dir <string>"))
        #expect(help.contains("SLUICE_WORKER_STORAGE_DIR"))
        #expect(!help.contains("master.port"))
    }

    @Test func runLoadsWithFlagsAndReportsMissingConfigFile() throws {
        guard
            case .run(let resolved) = try ConfigCommandLine.run(
                role: .master, arguments: ["--port", "0"],
                environment: ["SLUICE_MASTER_PORT": "5"])
        else {
            Issue.record("expected a configuration")
            return
        }
        #expect(try MasterConfig(resolved).port == 0)
        let error = expectConfigError {
            _ = try ConfigCommandLine.run(
                role: .master, arguments: ["--config", "/nonexistent/m.conf"],
                environment: [:])
        }
        #expect(error?.kind == .unreadableFile)
        #expect(error?.message.contains("/nonexistent/m.conf") == true)
    }
}

@Suite struct CheckConfigTests {
    @Test func checkConfigLoadsLikeARunWithoutRunning() throws {
        #expect(try CommandLineOptions.parse(["--check-config", "--port", "1"], role: .worker).action == .checkConfig)
        guard
            case .check(let resolved) = try ConfigCommandLine.run(
                role: .worker, arguments: ["--check-config", "--port", "0"],
                environment: ["SLUICE_WORKER_TIERS": "kind=nvme dirs=/a; kind=fsx dirs=/f capacity=1t"])
        else {
            Issue.record("expected a configuration to check")
            return
        }
        let config = try WorkerConfig(resolved)
        #expect(config.port == 0)
        #expect(config.tiers.map(\.kind) == [.nvme, .fsx])
        #expect(ConfigurationStart<WorkerConfig>.report(check: resolved, processName: "sluice-worker") == 0)
    }

    @Test func checkConfigFailsOnWhatAStartWouldRefuseAndOnStrayVariables() throws {
        let refused = expectConfigError {
            _ = try ConfigCommandLine.run(
                role: .worker, arguments: ["--check-config"],
                environment: ["SLUICE_WORKER_MEMORY_BUDGET": "1k"])
        }
        #expect(refused?.key == "worker.memoryBudget")
        guard
            case .check(let resolved) = try ConfigCommandLine.run(
                role: .master, arguments: ["--check-config"],
                environment: ["SLUICE_MASTER_PROT": "9097"])
        else {
            Issue.record("expected a configuration to check")
            return
        }
        #expect(resolved.warnings.count == 1)
        #expect(ConfigurationStart<MasterConfig>.report(check: resolved, processName: "sluice-master") == 2)
    }
}
