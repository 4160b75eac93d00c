import Foundation
import SluiceAuth
import SluiceClient
import SluiceCompression
import SluiceCore
import SluiceNet
import SluiceTestKit
import Testing

/// Acceptance (#16): with a cluster secret, a wrong or missing credential is refused on every port (master and
/// worker data ports, the admin requests of the HTTP API); an application's token cannot register a worker or
/// replicate; one application cannot read, write, list or delete another's data. Workers prove the worker
/// credential to the master and to each other (replication), so a secured cluster works end to end.
@Suite(.serialized)
struct AuthenticationTests {
    static let secretText = "auth-tests-cluster-secret-0123456789abcdef"

    /// A secured cluster of two workers (replication on), with one application "app-a" that wrote a shuffle.
    final class SecuredCluster: Sendable {
        let cluster: MiniCluster
        let secret: ClusterSecret
        let tokenA: Credential
        let shuffleA = ShuffleKey(applicationId: "app-a", shuffleId: 0)
        let records: [[UInt8]] = (0..<40).map { Array("record \($0) of app-a\n".utf8) }

        init() throws {
            cluster = try MiniCluster(workers: 2, clusterSecret: AuthenticationTests.secretText)
            secret = try ClusterSecret(text: AuthenticationTests.secretText)
            let registered = try SluiceClient.registerApplication(
                "app-a", masterEndpoint: cluster.masterEndpoint, clientCredential: secret.clientCredential)
            tokenA = try #require(registered, "a secured master returns a token")
            let client = cluster.client(credential: tokenA, identity: "app-a")
            defer { client.close() }
            let handle = try client.registerShuffle(shuffleA, numMappers: 1, numPartitions: 4)
            let writer = client.writer(handle, mapIndex: 0, attemptId: 1)
            for (index, record) in records.enumerated() {
                try writer.write(partitionId: UInt32(index % 4), bytes: record)
            }
            _ = try writer.close()
        }

        func readA(_ client: SluiceClient) throws -> [[UInt8]] {
            var read: [[UInt8]] = []
            let reader = client.reader(shuffleA)
            for partition in UInt32(0)..<4 {
                try reader.read(partitionId: partition, winners: [0: 1], nonEmptyMaps: [0]) { _, bytes in
                    read.append(Array(bytes))
                }
            }
            return read
        }

        func connect(port: Int, role: PeerRole, identity: String, credential: Credential?) throws -> FrameClient {
            try FrameClient.connect(
                host: "127.0.0.1", port: port, role: role, identity: identity, credential: credential)
        }
    }

    /// The status a refused handshake throws.
    static func refusal(_ body: () throws -> Void) -> StatusCode? {
        do {
            try body()
            return nil
        } catch let error as ProtocolError {
            return error.status
        } catch let error as ClientError {
            return error.status
        } catch {
            return .internalError
        }
    }

    @Test func aSecuredClusterWorksEndToEndWithTokensAndWorkerCredentials() throws {
        let secured = try SecuredCluster()
        defer { secured.cluster.shutdown() }
        let client = secured.cluster.client(credential: secured.tokenA, identity: "app-a")
        defer { client.close() }
        let read = try secured.readA(client)
        #expect(read.joined().count == secured.records.joined().count)
        #expect(Set(read.flatMap { String(decoding: $0, as: UTF8.self).split(separator: "\n") }).count == 40)
        // Every partition has a replica: workers proved the worker credential to each other.
        let locations = try client.master.allLocations(secured.shuffleA)
        #expect(locations.allSatisfy { $0.replica != nil })
    }

    @Test func aMissingOrWrongSecretIsRefusedOnEveryDataPort() throws {
        let secured = try SecuredCluster()
        defer { secured.cluster.shutdown() }
        let other = try ClusterSecret(text: "another-cluster-secret-0123456789abcdefgh")
        let ports = [secured.cluster.masterPort] + secured.cluster.workerPorts
        for port in ports {
            #expect(
                Self.refusal { _ = try secured.connect(port: port, role: .client, identity: "x", credential: nil) }
                    == .unauthenticated, "no credential, port \(port)")
            #expect(
                Self.refusal {
                    _ = try secured.connect(
                        port: port, role: .client, identity: "x", credential: other.clientCredential)
                } == .unauthenticated, "another cluster's client credential, port \(port)")
            #expect(
                Self.refusal {
                    _ = try secured.connect(
                        port: port, role: .worker, identity: "w", credential: other.workerCredential)
                } == .unauthenticated, "another cluster's worker credential, port \(port)")
            let forged = Credential(kind: .application, keyBytes: other.applicationToken("app-a"))
            #expect(
                Self.refusal {
                    _ = try secured.connect(port: port, role: .client, identity: "app-a", credential: forged)
                } == .unauthenticated, "a forged token, port \(port)")
            #expect(
                Self.refusal {
                    _ = try secured.connect(port: port, role: .worker, identity: "app-a", credential: secured.tokenA)
                } == .unauthenticated, "a token declaring itself a worker, port \(port)")
        }
        // A request sent without any handshake proof is refused before it is read.
        let raw = try RawConnection(port: secured.cluster.workerPorts[0])
        try raw.send(
            frame: Frame(type: .hello, requestId: 1, body: HelloRequest(role: .worker, identity: "w").encode()))
        let reply = try #require(try raw.nextFrame())
        #expect(try HelloResponse.decode(reply.body[...]).status == .unauthenticated)
    }

    @Test func aRecordedProofCannotBeReplayedOnAnotherConnection() throws {
        let secured = try SecuredCluster()
        defer { secured.cluster.shutdown() }
        let port = secured.cluster.workerPorts[0]
        let worker = secured.secret.workerCredential
        let nonce = Nonce.random()
        let hello = HelloRequest(role: .worker, identity: "w", clientNonce: nonce)
        var recorded: [UInt8] = []
        for attempt in 0..<2 {
            let raw = try RawConnection(port: port)
            try raw.send(frame: Frame(type: .hello, requestId: 1, body: hello.encode()))
            let challenge = try HelloResponse.decode(try #require(try raw.nextFrame()).body[...])
            let serverNonce = try #require(challenge.serverNonce)
            if attempt == 0 {
                let transcript = HandshakeTranscript(
                    role: .worker, identity: "w", kind: .worker, clientNonce: nonce, serverNonce: serverNonce,
                    serverId: challenge.serverId)
                recorded = AuthenticateRequest(kind: .worker, proof: worker.peerProof(transcript)).encoded()
            }
            try raw.send(frame: Frame(type: .authenticate, requestId: 2, body: recorded))
            var reader = WireReader(try #require(try raw.nextFrame()).body[...])
            let answer = try AuthenticateResponse.decode(from: &reader)
            #expect(answer.head.status == (attempt == 0 ? .ok : .unauthenticated), "attempt \(attempt)")
        }
    }

    @Test func anApplicationTokenCannotActAsAWorker() throws {
        let secured = try SecuredCluster()
        defer { secured.cluster.shutdown() }
        let master = try secured.connect(
            port: secured.cluster.masterPort, role: .client, identity: "app-a", credential: secured.tokenA)
        defer { master.close() }
        let registration = RegisterWorkerRequest(
            address: WorkerAddress(workerId: "rogue", host: "127.0.0.1", port: 1), capacityBytes: 1 << 30,
            freeBytes: 1 << 30, held: [])
        let registered = try ErrorResponse.decode(
            try master.call(type: .registerWorker, body: registration.encoded()).body[...])
        #expect(registered.status == .forbidden)
        let heartbeat = WorkerHeartbeatRequest(workerId: "worker-0", freeBytes: 0, draining: false, shuffles: [])
        let beat = try ErrorResponse.decode(
            try master.call(type: .workerHeartbeat, body: heartbeat.encoded()).body[...])
        #expect(beat.status == .forbidden)
        #expect(secured.cluster.master.snapshot.workers["rogue"] == nil)

        // Replication (a push of replica copies) needs the worker credential; the token is refused.
        let worker = try secured.connect(
            port: secured.cluster.workerPorts[0], role: .client, identity: "app-a", credential: secured.tokenA)
        defer { worker.close() }
        let replicaPush = try Self.push(secured.shuffleA, role: .replica)
        let replicated = try PushResponse.decode(
            body: try worker.call(type: replicaPush.frameType, body: replicaPush.encoded()).body)
        #expect(replicated.head.status == .forbidden)
        // The client credential alone touches no data either.
        let clientOnly = try secured.connect(
            port: secured.cluster.workerPorts[0], role: .client, identity: "x",
            credential: secured.secret.clientCredential)
        defer { clientOnly.close() }
        let primaryPush = try Self.push(secured.shuffleA, role: .primary)
        let pushed = try PushResponse.decode(
            body: try clientOnly.call(type: primaryPush.frameType, body: primaryPush.encoded()).body)
        #expect(pushed.head.status == .forbidden)
    }

    @Test func oneApplicationCannotReadWriteListOrDeleteAnothersData() throws {
        let secured = try SecuredCluster()
        defer { secured.cluster.shutdown() }
        let tokenB = try #require(
            try SluiceClient.registerApplication(
                "app-b", masterEndpoint: secured.cluster.masterEndpoint,
                clientCredential: secured.secret.clientCredential))
        // A second registration of a live application with the client credential gets no token.
        #expect(
            Self.refusal {
                _ = try SluiceClient.registerApplication(
                    "app-a", masterEndpoint: secured.cluster.masterEndpoint,
                    clientCredential: secured.secret.clientCredential)
            } == .forbidden)
        let master = try secured.connect(
            port: secured.cluster.masterPort, role: .client, identity: "app-b", credential: tokenB)
        defer { master.close() }
        func masterStatus<M: WireMessage>(_ message: M) throws -> StatusCode {
            try ErrorResponse.decode(try master.call(type: M.messageType, body: message.encoded()).body[...]).status
        }
        #expect(try masterStatus(GetLocationsRequest(shuffle: secured.shuffleA)) == .forbidden, "list")
        #expect(
            try masterStatus(
                RegisterShuffleRequest(shuffle: secured.shuffleA, numMappers: 1, numPartitions: 4, replicate: true))
                == .forbidden, "register another's shuffle")
        #expect(try masterStatus(UnregisterShuffleRequest(shuffle: secured.shuffleA)) == .forbidden, "delete")
        #expect(try masterStatus(ApplicationRequest(applicationId: "app-a")) == .forbidden, "heartbeat")
        let unregister = try ErrorResponse.decode(
            try master.call(
                type: .unregisterApplication, body: ApplicationRequest(applicationId: "app-a").encoded()
            ).body[...])
        #expect(unregister.status == .forbidden, "delete the application")
        #expect(try masterStatus(RegisterApplicationRequest(applicationId: "app-a")) == .forbidden)

        for port in secured.cluster.workerPorts {
            let worker = try secured.connect(port: port, role: .client, identity: "app-b", credential: tokenB)
            defer { worker.close() }
            let open = OpenStreamRequest(
                shuffle: secured.shuffleA, partitionId: 0, epoch: 0, role: .primary,
                acceptedCodecs: Codec.none.maskBit)
            let opened = try OpenStreamResponse.decode(
                body: try worker.call(type: .openStream, body: open.encoded()).body)
            #expect(opened.head.status == .forbidden, "read, port \(port)")
            let push = try Self.push(secured.shuffleA, role: .primary)
            let pushed = try PushResponse.decode(body: try worker.call(type: push.frameType, body: push.encoded()).body)
            #expect(pushed.head.status == .forbidden, "write, port \(port)")
        }
        // app-a's data is whole, and app-b's own shuffle works with its token.
        let clientA = secured.cluster.client(credential: secured.tokenA, identity: "app-a")
        defer { clientA.close() }
        // A writer holding app-b's token, given app-a's handle, fails at once with forbidden (no revive loop).
        let handleA = try clientA.registerShuffle(secured.shuffleA, numMappers: 1, numPartitions: 4)
        let clientBWriter = secured.cluster.client(credential: tokenB, identity: "app-b")
        defer { clientBWriter.close() }
        let intruder = clientBWriter.writer(handleA, mapIndex: 0, attemptId: 99)
        try intruder.write(partitionId: 0, bytes: Array("overwrite".utf8))
        #expect(Self.refusal { _ = try intruder.close() } == .forbidden)
        #expect(try secured.readA(clientA).joined().count == secured.records.joined().count)
        let clientB = secured.cluster.client(credential: tokenB, identity: "app-b")
        defer { clientB.close() }
        _ = try clientB.registerShuffle(
            ShuffleKey(applicationId: "app-b", shuffleId: 0), numMappers: 1, numPartitions: 1)
        #expect(secured.cluster.master.snapshot.applications["app-a"] != nil)
    }

    @Test func adminRequestsOfTheHTTPAPINeedASignatureWithTheClusterSecret() throws {
        let secured = try SecuredCluster()
        defer { secured.cluster.shutdown() }
        let port = try #require(secured.cluster.master.httpPort)
        let workerHTTP = try #require(secured.cluster.workers[0].httpPort)
        let path = "/api/v1/workers/worker-1/decommission"
        #expect(try curl(["-X", "POST"], port: port, path: path).status == 401, "unsigned")
        #expect(try curl([], port: port, path: "/api/v1/applications").status == 401, "unsigned listing")
        #expect(try curl(["-X", "POST"], port: workerHTTP, path: "/api/v1/decommission").status == 401)
        #expect(try curl([], port: port, path: "/healthz").status == 200, "probes stay open")

        let now = Int64(Date().timeIntervalSince1970)
        let wrong = RequestSigner(adminKey: try ClusterSecret(text: String(repeating: "w", count: 40)).adminKey)
        let forged = wrong.authorization(method: "POST", path: path, body: [], unixSeconds: now)
        #expect(try curl(["-X", "POST", "-H", "Authorization: \(forged)"], port: port, path: path).status == 401)

        let signer = RequestSigner(adminKey: secured.secret.adminKey)
        let signed = signer.authorization(method: "POST", path: path, body: [], unixSeconds: now)
        #expect(try curl(["-X", "POST", "-H", "Authorization: \(signed)"], port: port, path: path).status == 200)
        #expect(secured.cluster.master.snapshot.decommissioned.contains("worker-1"))
        #expect(
            try curl(["-X", "POST", "-H", "Authorization: \(signed)"], port: port, path: path).status == 401,
            "a replayed signature")
        let listing = signer.authorization(method: "GET", path: "/api/v1/applications", body: [], unixSeconds: now)
        let apps = try curl(["-H", "Authorization: \(listing)"], port: port, path: "/api/v1/applications")
        #expect(apps.status == 200)
        #expect(apps.text.contains("app-a"))
    }

    @Test func withAuthenticationOptionalUnauthenticatedPeersAreServedDuringARollout() throws {
        let cluster = try MiniCluster(workers: 2, clusterSecret: Self.secretText, authRequired: false)
        defer { cluster.shutdown() }
        let secret = try ClusterSecret(text: Self.secretText)
        let plain = cluster.client()
        defer { plain.close() }
        let key = ShuffleKey(applicationId: "app-plain", shuffleId: 0)
        let handle = try plain.registerShuffle(key, numMappers: 1, numPartitions: 1)
        let writer = plain.writer(handle, mapIndex: 0, attemptId: 1)
        try writer.write(partitionId: 0, bytes: Array("unauthenticated".utf8))
        _ = try writer.close()
        var read: [UInt8] = []
        try plain.reader(key).read(partitionId: 0, winners: [0: 1], nonEmptyMaps: [0]) { _, bytes in
            read += bytes
        }
        #expect(read == Array("unauthenticated".utf8))
        // A peer that does authenticate is still held to its credential.
        let token = try #require(
            try SluiceClient.registerApplication(
                "app-other", masterEndpoint: cluster.masterEndpoint, clientCredential: secret.clientCredential))
        let other = try FrameClient.connect(
            host: "127.0.0.1", port: cluster.masterPort, role: .client, identity: "app-other", credential: token)
        defer { other.close() }
        let listed = try ErrorResponse.decode(
            try other.call(type: .getLocations, body: GetLocationsRequest(shuffle: key).encoded()).body[...])
        #expect(listed.status == .forbidden)
    }

    /// A one-batch push of `role` copies into `shuffle`, partition 0.
    static func push(_ shuffle: ShuffleKey, role: PartitionRole) throws -> PushRequest {
        let (header, stored) = try BatchCodec.encode(
            raw: Array("intruder".utf8)[...], codec: .none, mapIndex: 0, attemptId: 9, sequence: 0, isLast: true)
        return PushRequest(
            shuffle: shuffle, role: role,
            entries: [
                PushEntry(
                    partitionId: 0, epoch: 0, replica: nil, batch: Batch(header: header, payload: stored[...]))
            ])
    }
}
