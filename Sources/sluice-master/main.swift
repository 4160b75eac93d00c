import Foundation
import Logging
import SluiceCore
import SluiceConfig
import SluiceSystem
import SluiceMaster

/// The `sluice-master` process: configuration, logging, the server, and shutdown on SIGTERM/SIGINT.
///
/// Exit status: 0 after a signal-initiated stop (or help/docs), 1 when the server cannot start, 2 for
/// configuration errors.
enum MasterMain {
    /// Runs the process and returns its exit status.
    static func run() -> Int32 {
        let config: MasterConfig
        switch ConfigurationStart.fromCommandLine(role: .master, processName: "sluice-master", build: { try MasterConfig($0) }) {
        case .exit(let status): return status
        case .run(let loaded): config = loaded
        }

        ProcessOutput.bootstrapLogging(level: Logger.Level(rawValue: config.logLevel.rawValue) ?? .info)
        let logger = Logger(label: "sluice.master")
        signal(SIGPIPE, SIG_IGN)
        // Before starting, so a signal that arrives as soon as the port is announced is handled.
        let requests = ShutdownRequests()
        let signalSources = installSignalSources([SIGTERM, SIGINT]) { number in
            logger.info("shutdown requested", metadata: ["signal": "\(signalName(number))"])
            requests.request(.immediate)
        }

        let server = MasterServer(options: MasterServer.Options(config), logger: logger)
        let port: Int
        do {
            port = try server.start()
        } catch {
            ProcessOutput.standardError("sluice-master: cannot listen on \(config.host):\(config.port): \(error)\n")
            return 1
        }
        ProcessOutput.standardOutput("sluice-master listening on \(config.host):\(port)\n")

        withExtendedLifetime(signalSources) { _ = requests.waitForRequest() }
        logger.info("master stopping")
        server.stop()
        logger.info("master stopped")
        return 0
    }
}

exit(MasterMain.run())
