import Foundation
import SluiceCore

// Configuration only for now: the server itself is not implemented yet.
do {
    switch try ConfigCommandLine.run(role: .worker, arguments: Array(CommandLine.arguments.dropFirst()),
                                     environment: ProcessInfo.processInfo.environment) {
    case .printAndExit(let text):
        print(text, terminator: "")
    case .run(let resolved):
        let config = try WorkerConfig(resolved)
        for warning in resolved.warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
        print(resolved.summary())
        print("sluice-worker: listening on \(config.host):\(config.port) is not implemented yet")
    }
} catch {
    FileHandle.standardError.write(Data("sluice-worker: \(error)\n".utf8))
    exit(2)
}
