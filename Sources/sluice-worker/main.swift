import Foundation
import Logging
import SluiceCore
import SluiceConfig
import SluiceSystem
import SluiceWorker

/// The `sluice-worker` process: configuration, logging, the server, and shutdown on signals.
///
/// SIGTERM drains (new pushes are refused, reads go on) for up to `shutdownGracePeriodMs`, or until a second
/// SIGTERM/SIGINT, then stops. SIGINT stops at once. Exit status: 0 after a signal-initiated stop (or
/// help/docs), 1 when the worker cannot start (storage, port), 2 for configuration errors.
enum WorkerMain {
    /// Runs the process and returns its exit status.
    static func run() -> Int32 {
        let config: WorkerConfig
        switch ConfigurationStart.fromCommandLine(role: .worker, processName: "sluice-worker", build: { try WorkerConfig($0) }) {
        case .exit(let status): return status
        case .run(let loaded): config = loaded
        }

        ProcessOutput.bootstrapLogging(level: Logger.Level(rawValue: config.logLevel.rawValue) ?? .info)
        let logger = Logger(label: "sluice.worker")
        signal(SIGPIPE, SIG_IGN)
        // Before starting, so a signal that arrives as soon as the port is announced is handled.
        let requests = ShutdownRequests()
        let signalSources = installSignalSources([SIGTERM, SIGINT]) { number in
            logger.info("shutdown requested", metadata: ["signal": "\(signalName(number))"])
            requests.request(number == SIGTERM ? .graceful : .immediate)
        }

        let worker: WorkerServer
        do {
            worker = try WorkerServer(config: config, logger: logger)
        } catch {
            ProcessOutput.standardError("sluice-worker: cannot open storage directory \(config.storageDir): \(error)\n")
            return 1
        }
        let port: Int
        do {
            port = try worker.start()
        } catch {
            ProcessOutput.standardError("sluice-worker: cannot listen on \(config.host):\(config.port): \(error)\n")
            worker.stop()
            return 1
        }
        ProcessOutput.standardOutput("sluice-worker listening on \(config.host):\(port)\n")

        withExtendedLifetime(signalSources) {
            guard requests.waitForRequest() == .graceful else { return }
            logger.info("worker draining", metadata: ["grace.period.ms": "\(config.shutdownGracePeriodMs)"])
            worker.beginDraining()
            // Serve reads of what this worker holds until those shuffles end (the master has them deleted), the
            // grace period passes, or a second signal arrives.
            let deadlineMs = Monotonic.nowMs() + UInt64(max(config.shutdownGracePeriodMs, 0))
            while true {
                if worker.heldShuffles.isEmpty {
                    logger.info("worker drained", metadata: ["reason": "no shuffle data left"])
                    break
                }
                let nowMs = Monotonic.nowMs()
                guard nowMs < deadlineMs else {
                    logger.info("worker drained", metadata: ["reason": "grace period over",
                                                             "shuffles.held": "\(worker.heldShuffles.count)"])
                    break
                }
                if requests.waitForEscalation(timeoutMs: Int(min(deadlineMs - nowMs, 100))) {
                    logger.info("worker drain cut short")
                    break
                }
            }
        }
        logger.info("worker stopping")
        worker.stop()
        logger.info("worker stopped")
        return 0
    }
}

exit(WorkerMain.run())
