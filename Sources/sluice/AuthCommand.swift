import ArgumentParser
import Foundation
import SluiceAuth

/// Where the tool finds the cluster secret: a file (a mounted Kubernetes Secret) or the environment.
enum ClusterSecretSource {
    /// The secret from `file` when given, else from `text`; nil when neither is. Exits 64 on a bad secret.
    static func load(file: String?, text: String?) throws -> ClusterSecret? {
        do {
            if let file, !file.isEmpty {
                guard let data = FileManager.default.contents(atPath: file) else {
                    throw ValidationError("cannot read the cluster secret file \(file)")
                }
                return try ClusterSecret(text: String(decoding: data, as: UTF8.self))
            }
            if let text, !text.isEmpty { return try ClusterSecret(text: text) }
            return nil
        } catch let error as AuthError {
            throw ValidationError(error.message)
        }
    }
}

/// `sluice auth`: credentials derived from the cluster secret.
struct Auth: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Credentials derived from the cluster secret (see docs/security.md).",
        subcommands: [ClientSecret.self, NewSecret.self])

    /// `sluice auth client-secret`: what Spark jobs hold (spark.sluice.auth.clientSecret).
    struct ClientSecret: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "client-secret",
            abstract: "Print the client secret for Spark jobs (64 hex digits): it registers applications, nothing more."
        )

        @Option(
            help: "File holding the cluster secret (default: $SLUICE_CLUSTER_SECRET_FILE, else $SLUICE_CLUSTER_SECRET)."
        )
        var secretFile: String?

        func run() throws {
            let environment = ProcessInfo.processInfo.environment
            guard
                let secret = try ClusterSecretSource.load(
                    file: secretFile ?? environment["SLUICE_CLUSTER_SECRET_FILE"],
                    text: environment["SLUICE_CLUSTER_SECRET"])
            else {
                throw ValidationError("give the cluster secret with --secret-file or SLUICE_CLUSTER_SECRET")
            }
            print(secret.clientCredential.hex)
        }
    }

    /// `sluice auth new-secret`: a fresh random cluster secret.
    struct NewSecret: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "new-secret", abstract: "Print a new random cluster secret (64 hex digits, 256 bits).")

        func run() {
            print(Hex.encode(Nonce.random(count: 32)))
        }
    }
}
