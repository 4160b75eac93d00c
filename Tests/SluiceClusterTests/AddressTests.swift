import Foundation
import SluiceClient
import SluiceConfig
import SluiceCore
import SluiceNet
import SluiceSystem
import SluiceTestKit
import SluiceWorker
import Testing

/// Addresses that work off loopback: what a worker advertises to a master that is not on loopback, and clusters on
/// IPv6 (`::1`) end to end.
@Suite(.serialized) struct AddressTests {
    static let winner: @Sendable (UInt32) -> UInt64 = { 500 + UInt64($0) }
    /// An address of this machine other than loopback (eth0's, in a pod its IP); nil in a loopback-only sandbox.
    static let machineAddress = LocalAddresses.firstNonLoopbackIPv4()
    static let ipv6LoopbackWorks = SocketAddress.literal("::1").flatMap { try? listenProbe($0) } ?? false
    static let noAddressReason = "this machine has no non-loopback IPv4 address (getifaddrs found loopback only)"

    static func listenProbe(_ address: SocketAddress) throws -> Bool {
        let (fd, _) = try ListeningSocket.open(host: address.host, port: 0, backlog: 1, nonBlocking: true)
        close(fd)
        return true
    }

    /// A master on this machine's non-loopback address and workers given no advertised host (listening on
    /// 0.0.0.0): each registers with an address that is not loopback, the master hands it out, and a client
    /// reaches it there: every pushed byte (replicated) reads back, from the replicas too.
    @Test(.enabled(if: machineAddress != nil, Comment(rawValue: noAddressReason)))
    func workersOfANonLoopbackMasterAdvertiseARoutableAddress() throws {
        let address = try #require(Self.machineAddress)
        let cluster = try MiniCluster(
            workers: 2, workerOverrides: ["worker.host": "0.0.0.0", "worker.advertisedHost": ""],
            masterOverrides: ["master.host": address])
        defer { cluster.shutdown() }
        #expect(cluster.masterEndpoint == "\(address):\(cluster.masterPort)")
        for worker in cluster.workers {
            let advertised = try #require(worker.address).host
            let literal = try #require(SocketAddress.literal(advertised), "\(advertised)")
            #expect(!literal.isLoopback && !literal.isUnspecified, "\(advertised)")
            // The route to a local address leaves from that address.
            #expect(advertised == address)
        }
        try Self.pushReplicatedAndReadBack(cluster, expectedHost: address, application: "app-routable")
    }

    /// An explicit loopback advertised host with a master that is not on loopback is refused before the worker
    /// listens, with a message naming the key, its environment variable and its flag.
    @Test(.enabled(if: machineAddress != nil, Comment(rawValue: noAddressReason)))
    func explicitLoopbackWithANonLoopbackMasterIsRefused() throws {
        let address = try #require(Self.machineAddress)
        let scratch = try TempDirectory(prefix: "sluice-advertise-")
        defer { scratch.remove() }
        for loopback in ["127.0.0.1", "localhost", "::1"] {
            let config = try WorkerConfig.load(overrides: [
                "worker.advertisedHost": loopback, "worker.masterAddress": "\(address):9", "worker.port": "0",
                "worker.httpPort": "0", "worker.storageDir": scratch.file(loopback),
            ])
            let worker = try WorkerServer(config: config, logger: .init(label: "test"))
            defer { worker.stop() }
            switch Result(catching: { try worker.start() }) {
            case .success(let port): Issue.record("\(loopback): started on port \(port)")
            case .failure(let error):
                let message = "\(error)"
                #expect(error is AdvertisedHostError, "\(loopback): \(error)")
                #expect(message.contains("worker.advertisedHost") && message.contains("SLUICE_WORKER_ADVERTISED_HOST"))
                #expect(message.contains("--advertised-host"), "\(message)")
            }
            #expect(worker.address == nil, "a refused worker has no address")
        }
    }

    /// The `sluice-worker` executable, given `--master` on a non-loopback address: with `--advertised-host
    /// 127.0.0.1` it exits 2 saying why; with none it registers, and the master's JSON view of it shows an address
    /// that is not loopback.
    @Test(
        .enabled(
            if: machineAddress != nil && BuiltExecutables.directory != nil,
            Comment(rawValue: noAddressReason + ", or the executables are not built")))
    func theWorkerExecutableNeverAdvertisesLoopbackToARemoteMaster() throws {
        let address = try #require(Self.machineAddress)
        let directory = try #require(BuiltExecutables.directory).path
        let scratch = try TempDirectory(prefix: "sluice-advertise-exec-")
        defer { scratch.remove() }
        let master = try ChildProcess(
            executable: directory + "/sluice-master", arguments: ["--port", "0", "--http-port", "0"],
            outputPath: scratch.file("master.out"), errorPath: scratch.file("master.err"))
        defer { master.kill() }
        let masterPort = try #require(
            master.announcedPort(prefix: "sluice-master listening on ", timeoutMs: 20_000), "\(master.standardError)")
        let common = [
            "--port", "0", "--http-port", "0", "--master", "\(address):\(masterPort)", "--log-level", "warning",
        ]

        let refused = try ChildProcess(
            executable: directory + "/sluice-worker",
            arguments: common + ["--storage-dir", scratch.file("refused"), "--advertised-host", "127.0.0.1"],
            outputPath: scratch.file("refused.out"), errorPath: scratch.file("refused.err"))
        defer { refused.kill() }
        #expect(refused.waitForExit(timeoutMs: 20_000) == .exited(2))
        let refusal: String = refused.standardError
        #expect(refusal.contains("SLUICE_WORKER_ADVERTISED_HOST"), "\(refusal)")

        let worker = try ChildProcess(
            executable: directory + "/sluice-worker", arguments: common + ["--storage-dir", scratch.file("data")],
            outputPath: scratch.file("worker.out"), errorPath: scratch.file("worker.err"))
        defer { worker.kill() }
        let workerPort = try #require(
            worker.announcedPort(prefix: "sluice-worker listening on ", timeoutMs: 20_000), "\(worker.standardError)")
        let masterHTTP = try #require(
            master.announcedPort(prefix: "sluice-master operations API on ", timeoutMs: 20_000))
        var hosts: [String] = []
        try waitUntil("worker registered") {
            guard let reply = try? curl([], port: masterHTTP, path: "/api/v1/workers") else { return false }
            let workers = (try? JSONSerialization.jsonObject(with: Data(reply.body))) as? [[String: Any]] ?? []
            hosts = workers.compactMap { $0["host"] as? String }
            return !hosts.isEmpty
        }
        #expect(hosts == [address], "registered as \(hosts), listening on port \(workerPort)")
    }

    /// A whole cluster on `::1`: master, workers (listening on and advertising `::1`), replication between the
    /// workers and the client's reads all go over IPv6, and every byte reads back, from the replicas too.
    @Test(.enabled(if: ipv6LoopbackWorks, "::1 cannot be bound here"))
    func aClusterOnIPv6LoopbackPushesReplicatesAndReadsBack() throws {
        let cluster = try MiniCluster(workers: 2, masterOverrides: ["master.host": "::1"])
        defer { cluster.shutdown() }
        #expect(cluster.masterEndpoint == "[::1]:\(cluster.masterPort)")
        #expect(cluster.workers.allSatisfy { $0.address?.host == "::1" })
        try Self.pushReplicatedAndReadBack(cluster, expectedHost: "::1", application: "app-ipv6")
    }

    /// The operations API of a master and a worker on `::1` answers curl at `http://[::1]:PORT` (and not over IPv4),
    /// and `sluice status --master [::1]:PORT`.
    @Test(.enabled(if: ipv6LoopbackWorks, "::1 cannot be bound here"))
    func theOperationsAPIAnswersOnIPv6Loopback() throws {
        let cluster = try MiniCluster(workers: 1, masterOverrides: ["master.host": "::1"])
        defer { cluster.shutdown() }
        let ports = [try #require(cluster.master.httpPort), try #require(cluster.workers[0].httpPort)]
        for port in ports {
            #expect(try curl([], host: "::1", port: port, path: "/healthz").status == 200)
            let refused = Result(catching: {
                try curl(["--max-time", "5"], host: "127.0.0.1", port: port, path: "/healthz")
            })
            #expect((try? refused.get())?.status != 200, "a listener on ::1 takes no IPv4 connections")
        }
        let reply = try curl([], host: "::1", port: ports[0], path: "/api/v1/workers")
        let workers = try #require(try JSONSerialization.jsonObject(with: Data(reply.body)) as? [[String: Any]])
        #expect(workers.compactMap { $0["host"] as? String } == ["::1"])
        // The operator's tool takes the master as [v6]:port.
        if BuiltExecutables.directory != nil {
            let status = try CommandLineToolTests.sluice(["status", "--master", "[::1]:\(ports[0])"])
            #expect(status.status == 0 && status.output.hasPrefix("ready"), "\(status.output)")
        }
    }

    /// Registers a replicated shuffle, checks every location names `expectedHost`, pushes, reads everything back,
    /// then stops worker 0 and reads everything again (worker 0's partitions now come from their replicas).
    static func pushReplicatedAndReadBack(_ cluster: MiniCluster, expectedHost: String, application: String) throws {
        let client = cluster.client()
        defer { client.close() }
        var data = ShuffleData(mappers: 6, partitions: 40)
        data.bigRecordBytes = 128 << 10
        let key = ShuffleKey(applicationId: application, shuffleId: 0)
        let handle = try client.registerShuffle(key, numMappers: 6, numPartitions: 40)
        let locations = handle.locations.locations
        #expect(locations.allSatisfy { $0.primary?.host == expectedHost && $0.replica?.host == expectedHost })
        #expect(locations.allSatisfy { $0.primary != nil && $0.replica != nil && $0.primary != $0.replica })
        _ = try data.writeAll(client: client, handle: handle, attemptId: winner)
        #expect(try data.mismatches(reader: client.reader(key), attemptId: winner).isEmpty)
        cluster.stopWorker(0)
        let reader = client.reader(key)
        #expect(try data.mismatches(reader: reader, attemptId: winner).isEmpty)
        #expect(reader.failovers > 0, "worker 0 was primary of some partitions, so reads must have failed over")
    }
}
