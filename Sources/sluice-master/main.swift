import Foundation
import Logging
import SluiceConfig
import SluiceCore
import SluiceMaster
import SluiceSystem

/// The `sluice-master` process: configuration, logging, and the master as a `ServiceGroup` of one. SIGTERM and
/// SIGINT stop it at once.
///
/// Exit status: 0 after a signal-initiated stop (or help/docs), 1 when the server cannot start, 2 for
/// configuration errors.
enum MasterMain {
    /// Runs the process and returns its exit status.
    static func run() -> Int32 {
        let config: MasterConfig
        let logger: Logger
        switch ConfigurationStart.fromCommandLine(
            role: .master, processName: "sluice-master", build: { try MasterConfig($0) })
        {
        case .exit(let status): return status
        case .run(let loaded, let resolved):
            config = loaded
            logger = resolved.startLogging(label: "sluice.master")
        }

        let requests = ShutdownRequests()
        let signals = installShutdownSignals(requests, terminate: .immediate, logger: logger)

        let master = MasterService(MasterServer(options: MasterServer.Options(config), logger: logger))
        let group = ServiceGroup([master], logger: logger)
        do {
            try group.start()
        } catch {
            ProcessOutput.standardError(
                "sluice-master: cannot listen on \(EndpointText.format(host: config.host, port: config.port)): \(error)\n"
            )
            return 1
        }
        // A successful start recorded the port.
        ProcessOutput.standardOutput(
            "sluice-master listening on \(EndpointText.format(host: config.host, port: master.boundPort ?? config.port))\n"
        )
        ProcessOutput.standardOutput(
            "sluice-master operations API on \(EndpointText.format(host: config.host, port: master.server.httpPort ?? config.http.port))\n"
        )

        withExtendedLifetime(signals) { group.run(until: requests, gracePeriodMs: 0) }
        return 0
    }
}

exit(MasterMain.run())
