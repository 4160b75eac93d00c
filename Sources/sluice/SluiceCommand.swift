import ArgumentParser
import Foundation
import SluiceAuth
import SluiceCore

/// `sluice`: what a Sluice cluster is doing, through the master's operations API.
///
/// Exit status: 0 done, 1 the request failed (unreachable, refused, server error), 3 `status` found the cluster not
/// ready, 4 no such worker, 64 bad usage.
@main
struct SluiceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice",
        abstract: "Inspect and operate a Sluice cluster through its master's operations API.",
        version: SluiceVersion.current,
        subcommands: [
            Status.self, Workers.self, Apps.self, Shuffles.self, Decommission.self, Recommission.self, Auth.self,
            Version.self,
        ])
}

/// Where the master's operations API is, how to authenticate, and how to print.
struct ClusterOptions: ParsableArguments {
    @Option(help: "The master's operations API, HOST:PORT (master.httpPort).")
    var master = "127.0.0.1:9099"

    @Option(help: "Bearer token for admin requests (default: $SLUICE_HTTP_ADMIN_TOKEN).")
    var token: String?

    @Option(
        help: """
            File holding the cluster secret: every /api/v1 request is signed with the admin key derived from it \
            (default: $SLUICE_CLUSTER_SECRET_FILE, else $SLUICE_CLUSTER_SECRET).
            """)
    var secretFile: String?

    @Flag(help: "Print the API's JSON instead of a table.")
    var json = false

    @Option(help: "Milliseconds to wait for an answer.")
    var timeoutMs = 10_000

    var client: OperationsClient {
        get throws {
            guard let (host, port) = EndpointText.parse(master) else {
                throw ValidationError("--master must be HOST:PORT or [IPV6]:PORT, got '\(master)'")
            }
            let environment = ProcessInfo.processInfo.environment
            let token = token ?? environment["SLUICE_HTTP_ADMIN_TOKEN"]
            let secret = try ClusterSecretSource.load(
                file: secretFile ?? environment["SLUICE_CLUSTER_SECRET_FILE"],
                text: environment["SLUICE_CLUSTER_SECRET"])
            let signer = secret.map { RequestSigner(adminKey: $0.adminKey) }
            return OperationsClient(host: host, port: port, token: token, signer: signer, timeoutMs: timeoutMs)
        }
    }

    /// GETs `path`; a non-2xx answer ends the command with status 1 and the server's words.
    func fetch(_ path: String) throws -> OperationsReply {
        let reply = try requireAnswer { try client.get(path) }
        guard (200..<300).contains(reply.status) else { throw failure(reply, path) }
        return reply
    }

    func requireAnswer(_ body: () throws -> OperationsReply) throws -> OperationsReply {
        do {
            return try body()
        } catch let error as OperationsClientError {
            standardError("sluice: \(error)\n")
            throw ExitCode(1)
        }
    }

    func failure(_ reply: OperationsReply, _ path: String) -> ExitCode {
        standardError("sluice: \(path) answered \(reply.status): \(reply.text)")
        return ExitCode(reply.status == 404 ? 4 : 1)
    }
}

func standardError(_ text: String) {
    FileHandle.standardError.write(Data(text.utf8))
}

/// Rows as aligned columns, the header first.
func table(_ header: [String], _ rows: [[String]]) -> String {
    let all = [header] + rows
    let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
    return all.map { row in
        row.enumerated().map { index, cell in
            index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
        }.joined(separator: "  ")
    }.joined(separator: "\n") + "\n"
}

/// Bytes in GiB with one decimal.
func gib(_ value: Any?) -> String {
    let bytes = (value as? NSNumber)?.doubleValue ?? 0
    return String(format: "%.1f GiB", bytes / Double(1 << 30))
}
