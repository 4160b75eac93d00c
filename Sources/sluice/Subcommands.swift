import ArgumentParser
import Foundation
import SluiceCore

/// `sluice status`: whether the master is ready, and its workers by state.
struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Is the cluster ready? (exit 3 when not)")
    @OptionGroup var cluster: ClusterOptions

    func run() throws {
        let ready = try cluster.requireAnswer { try cluster.client.get("/readyz") }
        let workers =
            try JSONSerialization.jsonObject(with: Data(try cluster.fetch("/api/v1/workers").body))
            as? [[String: Any]] ?? []
        let states = Dictionary(grouping: workers) { $0["state"] as? String ?? "?" }.mapValues(\.count)
        if cluster.json {
            let summary: [String: Any] = ["ready": ready.status == 200, "workers": states]
            print(
                String(
                    decoding: try JSONSerialization.data(withJSONObject: summary, options: .sortedKeys), as: UTF8.self))
        } else {
            print(
                ready.status == 200
                    ? "ready" : "not ready: \(ready.text.trimmingCharacters(in: .whitespacesAndNewlines))")
            print(
                "workers: " + states.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))
        }
        if ready.status != 200 { throw ExitCode(3) }
    }
}

/// `sluice workers`: every worker the master knows.
struct Workers: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the workers, their state and space.")
    @OptionGroup var cluster: ClusterOptions

    func run() throws {
        let reply = try cluster.fetch("/api/v1/workers")
        if cluster.json { return print(reply.text, terminator: "") }
        let workers = try JSONSerialization.jsonObject(with: Data(reply.body)) as? [[String: Any]] ?? []
        let rows = workers.map { worker -> [String] in
            [
                "\(worker["workerId"] ?? "")", "\(worker["state"] ?? "")",
                "\(worker["host"] ?? ""):\(worker["port"] ?? "")",
                "\(worker["httpPort"] ?? "")", gib(worker["freeBytes"]), gib(worker["capacityBytes"]),
                "\(worker["msSinceHeartbeat"] ?? "") ms",
            ]
        }
        print(table(["WORKER", "STATE", "DATA", "HTTP", "FREE", "CAPACITY", "LAST HEARTBEAT"], rows), terminator: "")
    }
}

/// `sluice apps`: applications and their shuffles.
struct Apps: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the applications and their shuffles.")
    @OptionGroup var cluster: ClusterOptions

    func run() throws {
        let reply = try cluster.fetch("/api/v1/applications")
        if cluster.json { return print(reply.text, terminator: "") }
        let apps = try JSONSerialization.jsonObject(with: Data(reply.body)) as? [[String: Any]] ?? []
        let rows = apps.map { app -> [String] in
            let shuffles = (app["shuffles"] as? [NSNumber] ?? []).map(\.stringValue)
            return ["\(app["applicationId"] ?? "")", shuffles.joined(separator: ",")]
        }
        print(table(["APPLICATION", "SHUFFLES"], rows), terminator: "")
    }
}

/// `sluice shuffles APP`: one application's shuffles.
struct Shuffles: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List an application's shuffles and where they live.")
    @OptionGroup var cluster: ClusterOptions
    @Argument(help: "The application id (see `sluice apps`).") var application: String

    func run() throws {
        let id = application.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? application
        let reply = try cluster.fetch("/api/v1/applications/\(id)/shuffles")
        if cluster.json { return print(reply.text, terminator: "") }
        let shuffles = try JSONSerialization.jsonObject(with: Data(reply.body)) as? [[String: Any]] ?? []
        let rows = shuffles.map { shuffle -> [String] in
            [
                "\(shuffle["shuffleId"] ?? "")", "\(shuffle["mappers"] ?? "")", "\(shuffle["partitions"] ?? "")",
                "\(shuffle["epochs"] ?? "")", (shuffle["replicate"] as? Bool ?? false) ? "yes" : "no",
                (shuffle["workers"] as? [String] ?? []).joined(separator: ","),
            ]
        }
        print(table(["SHUFFLE", "MAPPERS", "PARTITIONS", "EPOCHS", "REPLICATED", "WORKERS"], rows), terminator: "")
    }
}

/// `sluice decommission WORKER` and `sluice recommission WORKER`.
struct Decommission: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Stop placing data on a worker and drain it (it keeps serving what it holds).")
    @OptionGroup var cluster: ClusterOptions
    @Argument(help: "The worker id (see `sluice workers`).") var worker: String

    func run() throws { try changeCommission(cluster, worker, "decommission") }
}

struct Recommission: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Let a decommissioned worker take data again.")
    @OptionGroup var cluster: ClusterOptions
    @Argument(help: "The worker id.") var worker: String

    func run() throws { try changeCommission(cluster, worker, "recommission") }
}

func changeCommission(_ cluster: ClusterOptions, _ worker: String, _ action: String) throws {
    let path =
        "/api/v1/workers/\(worker.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? worker)/\(action)"
    let reply = try cluster.requireAnswer { try cluster.client.post(path) }
    guard reply.status == 200 else { throw cluster.failure(reply, path) }
    if cluster.json { return print(reply.text, terminator: "") }
    print("\(worker): \(action)ed")
}

/// `sluice version`: this tool's version and the master's.
struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print this tool's version and the master's.")
    @OptionGroup var cluster: ClusterOptions

    func run() throws {
        let master = try cluster.fetch("/version")
        if cluster.json { return print(master.text, terminator: "") }
        let fields = try JSONSerialization.jsonObject(with: Data(master.body)) as? [String: Any] ?? [:]
        print("sluice \(SluiceVersion.current)")
        print("\(fields["name"] ?? "master") \(fields["version"] ?? "?")")
    }
}
