import Testing

@testable import SluiceConfig

@Suite struct ConfigLoaderTests {
    @Test func masterDefaultsResolveWithoutFile() throws {
        let config = try MasterConfig.load()
        #expect(config.host == "0.0.0.0")
        #expect(config.port == 9097)
        #expect(config.workerHeartbeatTimeoutMs == 30_000)
        #expect(config.workerHeartbeatIntervalMs == 10_000)
        #expect(config.applicationTimeoutMs == 300_000)
        #expect(config.maxConnections == 1024)
        #expect(config.maxFrameBodyBytes == 64 << 20)
        #expect(config.logLevel == .info)
    }

    @Test func workerDefaultsResolveWithoutFile() throws {
        let resolved = try ConfigLoader.load(role: .worker, fileText: nil, environment: [:], overrides: [:])
        let config = try WorkerConfig(resolved)
        #expect(config.advertisedHost == nil)
        #expect(config.port == 9098)
        #expect(config.masterAddress == HostPort(host: "127.0.0.1", port: 9097))
        #expect(config.workerId == nil)
        #expect(config.effectiveWorkerId(advertisedHost: "127.0.0.1", boundPort: 40001) == "127.0.0.1:40001")
        #expect(config.storageDir == "./sluice-data")
        #expect(config.memoryBudgetBytes == 1 << 30)
        #expect(config.memoryHighWatermarkFraction == 0.85)
        #expect(config.memoryLowWatermarkFraction == 0.70)
        #expect(config.flushBufferBytes == 64 << 10)
        #expect(config.chunkTargetBytes == 8 << 20)
        #expect(config.partitionSoftLimitBytes == 1 << 30)
        #expect(config.partitionHardLimitBytes == 2 << 30)
        #expect(config.fsyncOnFlush == false)
        #expect(config.maxInFlightRequestsPerConnection == 64)
        #expect(config.idleTimeoutMs == 600_000)
        #expect(config.replicationTimeoutMs == 30_000)
        #expect(config.fetchCompressionCodec == .lz4)
        #expect(resolved.source(of: WorkerKeys.port) == .defaultValue)
        #expect(resolved.source(of: MasterKeys.port) == nil)
    }

    @Test func fileThenEnvironmentThenFlagWin() throws {
        let file = """
            # worker settings
            worker.port = 1000
            worker.storageDir /from-file   # '=' is optional
            worker.chunkTargetSize = 1m

            worker.flushBufferSize=64k
            """
        let environment = ["SLUICE_WORKER_PORT": "2000", "SLUICE_WORKER_STORAGE_DIR": "/from-env"]
        let resolved = try ConfigLoader.load(
            role: .worker, fileText: file, environment: environment,
            overrides: ["worker.port": "3000"], filePath: "w.conf")
        let config = try WorkerConfig(resolved)
        #expect(config.port == 3000)
        #expect(config.storageDir == "/from-env")
        #expect(config.chunkTargetBytes == 1 << 20)
        #expect(config.flushBufferBytes == 64 << 10)
        #expect(resolved.source(of: WorkerKeys.port) == .flag("--port"))
        #expect(resolved.source(of: WorkerKeys.storageDir) == .environment(variable: "SLUICE_WORKER_STORAGE_DIR"))
        #expect(resolved.source(of: WorkerKeys.chunkTargetSize) == .file(path: "w.conf", line: 4))
        #expect(resolved.summary().contains("worker.port = 3000  # command-line flag --port"))
    }

    @Test func secretsAreRedactedInTheSummary() throws {
        let resolved = try ConfigLoader.load(
            role: .worker, fileText: nil, environment: ["SLUICE_HTTP_ADMIN_TOKEN": "hunter2"], overrides: [:])
        #expect(try WorkerConfig(resolved).http.adminToken == "hunter2")
        #expect(!resolved.summary().contains("hunter2"))
        #expect(resolved.summary().contains("httpAdminToken = <redacted>"))
    }

    @Test func otherProcessKeysInFileAreIgnoredButValidated() throws {
        let config = try MasterConfig.load(fileText: "worker.port = 1\nmaster.port = 2\n")
        #expect(config.port == 2)
        let error = expectConfigError { _ = try MasterConfig.load(fileText: "worker.port = huge\n") }
        #expect(error?.kind == .invalidValue)
    }

    @Test func unknownKeyInFileNamesKeyAndLine() {
        let error = expectConfigError {
            _ = try ConfigLoader.load(
                role: .master, fileText: "master.port = 1\n\nmaster.prot = 2\n",
                environment: [:], overrides: [:], filePath: "/etc/m.conf")
        }
        #expect(error?.kind == .unknownKey)
        #expect(error?.key == "master.prot")
        #expect(error?.source == .file(path: "/etc/m.conf", line: 3))
        #expect(error?.message.contains("master.prot") == true)
        #expect(error?.message.contains("/etc/m.conf line 3") == true)
    }

    @Test func malformedAndDuplicateLinesAreSyntaxErrors() {
        let malformed = expectConfigError { _ = try MasterConfig.load(fileText: "= 5\n") }
        #expect(malformed?.kind == .syntax)
        let duplicate = expectConfigError { _ = try MasterConfig.load(fileText: "master.port 1\nmaster.port 2\n") }
        #expect(duplicate?.kind == .syntax)
        #expect(duplicate?.message.contains("already set on line 1") == true)
    }

    @Test func badValueNamesKeySourceAndExpectedSyntax() {
        let error = expectConfigError {
            _ = try WorkerConfig.load(environment: ["SLUICE_WORKER_MEMORY_BUDGET": "lots"])
        }
        #expect(error?.kind == .invalidValue)
        #expect(error?.key == "worker.memoryBudget")
        #expect(error?.source == .environment(variable: "SLUICE_WORKER_MEMORY_BUDGET"))
        #expect(error?.message.contains("SLUICE_WORKER_MEMORY_BUDGET") == true)
        let bool = expectConfigError { _ = try WorkerConfig.load(overrides: ["worker.fsyncOnFlush": "maybe"]) }
        #expect(bool?.kind == .invalidValue)
        let codec = expectConfigError { _ = try WorkerConfig.load(fileText: "worker.fetchCompressionCodec = gzip") }
        #expect(codec?.message.contains("none, lz4, zstd") == true)
    }

    @Test func outOfRangeNamesTheAllowedRange() {
        let error = expectConfigError { _ = try MasterConfig.load(overrides: ["master.port": "70000"]) }
        #expect(error?.kind == .outOfRange)
        #expect(error?.key == "master.port")
        #expect(error?.source == .flag("--port"))
        #expect(error?.message.contains("0..65535") == true)
        let bytes = expectConfigError { _ = try WorkerConfig.load(fileText: "worker.flushBufferSize = 1k") }
        #expect(bytes?.kind == .outOfRange)
        #expect(bytes?.message.contains("4KiB..256MiB") == true)
    }

    @Test func watermarksMustBeOrdered() throws {
        let error = expectConfigError {
            _ = try WorkerConfig.load(
                fileText: "worker.memoryHighWatermarkFraction = 0.6",
                environment: ["SLUICE_WORKER_MEMORY_LOW_WATERMARK_FRACTION": "0.8"])
        }
        #expect(error?.kind == .inconsistent)
        #expect(error?.message.contains("worker.memoryLowWatermarkFraction") == true)
        #expect(error?.message.contains("worker.memoryHighWatermarkFraction") == true)
        #expect(error?.message.contains("SLUICE_WORKER_MEMORY_LOW_WATERMARK_FRACTION") == true)
        let equal = try WorkerConfig.load(overrides: ["worker.memoryHighWatermarkFraction": "0.7"])
        #expect(equal.memoryHighWatermarkFraction == equal.memoryLowWatermarkFraction)
    }

    @Test func otherCrossKeyRulesAreEnforced() {
        let limits = expectConfigError {
            _ = try WorkerConfig.load(overrides: ["worker.partitionSoftLimit": "3g"])
        }
        #expect(limits?.key == "worker.partitionSoftLimit")
        let heartbeat = expectConfigError {
            _ = try MasterConfig.load(overrides: ["master.workerHeartbeatInterval": "30s"])
        }
        #expect(heartbeat?.kind == .inconsistent)
    }

    @Test func overridesOfTheOtherProcessOrUnknownKeysFail() {
        #expect(expectConfigError { _ = try MasterConfig.load(overrides: ["worker.port": "1"]) }?.kind == .wrongProcess)
        #expect(expectConfigError { _ = try MasterConfig.load(overrides: ["master.nope": "1"]) }?.kind == .unknownKey)
    }

    @Test func unmatchedSluiceEnvironmentVariablesAreWarnings() throws {
        let resolved = try ConfigLoader.load(
            role: .master, fileText: nil,
            environment: [
                "SLUICE_MASTR_PORT": "1", "HOME": "/root",
                "SLUICE_WORKER_PORT": "5",
            ],
            overrides: [:])
        #expect(resolved.warnings.count == 1)
        #expect(resolved.warnings.first?.contains("SLUICE_MASTR_PORT") == true)
        #expect(try resolved.value(MasterKeys.port) == 9097)
    }

    @Test func explicitWorkerIdAndSharedLogLevel() throws {
        let config = try WorkerConfig.load(fileText: "worker.workerId = w-7\nlogLevel = DEBUG\n")
        #expect(config.workerId == "w-7")
        #expect(config.effectiveWorkerId(advertisedHost: "127.0.0.1", boundPort: 1) == "w-7")
        #expect(config.logLevel == .debug)
    }
}

/// Runs `body`, records an issue unless it throws a `ConfigError`, and returns that error.
func expectConfigError(
    _ body: () throws -> Void,
    sourceLocation: SourceLocation = #_sourceLocation
) -> ConfigError? {
    do {
        try body()
        Issue.record("expected a ConfigError", sourceLocation: sourceLocation)
        return nil
    } catch let error as ConfigError {
        return error
    } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        return nil
    }
}
