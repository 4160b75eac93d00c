import Foundation
import Logging
import SluiceConfig
import SluiceCore
import SluiceSystem
import SluiceWorker

/// The `sluice-worker` process: configuration, logging, and the worker as a `ServiceGroup` of one.
///
/// SIGTERM drains (new pushes are refused, reads go on) until the worker holds no shuffle data, for up to
/// `shutdownGracePeriodMs`, or until a second SIGTERM/SIGINT, then stops. SIGINT stops at once. Exit status: 0
/// after a signal-initiated stop (or help/docs), 1 when the worker cannot start (storage, port), 2 for
/// configuration errors (an advertised host others could not reach included).
enum WorkerMain {
    /// Runs the process and returns its exit status.
    static func run() -> Int32 {
        let config: WorkerConfig
        let logger: Logger
        switch ConfigurationStart.fromCommandLine(
            role: .worker, processName: "sluice-worker", build: { try WorkerConfig($0) })
        {
        case .exit(let status): return status
        case .run(let loaded, let resolved):
            config = loaded
            logger = resolved.startLogging(label: "sluice.worker")
        }

        // Early, before connections allocate: freed frame bodies and flush buffers then leave resident memory.
        if config.mallocMmapThresholdBytes > 0 && !MallocTuning.setMmapThreshold(bytes: config.mallocMmapThresholdBytes)
        {
            logger.warning(
                "malloc mmap threshold not set", metadata: ["bytes": "\(config.mallocMmapThresholdBytes)"])
        }
        let requests = ShutdownRequests()
        let signals = installShutdownSignals(requests, terminate: .graceful, logger: logger)

        let worker: WorkerService
        do {
            worker = WorkerService(try WorkerServer(config: config, logger: logger))
        } catch {
            ProcessOutput.standardError("sluice-worker: cannot open storage: \(error)\n")
            return 1
        }
        let group = ServiceGroup([worker], logger: logger)
        do {
            try group.start()
        } catch let refusal as AdvertisedHostError {
            ProcessOutput.standardError("sluice-worker: \(refusal)\n")
            return 2
        } catch {
            ProcessOutput.standardError(
                "sluice-worker: cannot listen on \(EndpointText.format(host: config.host, port: config.port)): \(error)\n"
            )
            return 1
        }
        // A successful start recorded the port.
        ProcessOutput.standardOutput(
            "sluice-worker listening on \(EndpointText.format(host: config.host, port: worker.boundPort ?? config.port))\n"
        )
        ProcessOutput.standardOutput(
            "sluice-worker operations API on \(EndpointText.format(host: config.host, port: worker.server.httpPort ?? config.http.port))\n"
        )

        withExtendedLifetime(signals) { group.run(until: requests, gracePeriodMs: config.shutdownGracePeriodMs) }
        return 0
    }
}

exit(WorkerMain.run())
