import SluiceAuth
import SluiceCore
import Testing

/// The keys, proofs and signatures against values computed independently (Python's `hmac` module, see
/// docs/security.md): the Java client's tests check the same vectors, so both clients and the servers agree.
struct KeyDerivationTests {
    static let secretText = "sluice-test-secret-0123456789abcdef\n"
    static let clientNonce = (0..<32).map { UInt8($0) }
    static let serverNonce = (32..<64).map { UInt8($0) }

    @Test func derivedKeysMatchTheReferenceVectors() throws {
        let secret = try ClusterSecret(text: Self.secretText)
        #expect(secret.workerCredential.hex == "d84ddb1567fbe45ed9e43e4edaa1c0e1dbe5cc3992c1cb83dfa86885d5ee6e90")
        #expect(secret.clientCredential.hex == "685be7fa21fad2fdff9114fb2999d2894297293bc5102dd33c3bcb55ffe83861")
        #expect(
            Hex.encode(secret.applicationToken("app-1"))
                == "de9ceba251ad34c8bcb4b09d8e86b39c9e5368471ab7f3081cfef5c18ae72804")
        #expect(Hex.encode(secret.adminKey) == "a2508f7438304c96ba5a722f223466fd0f964e869e413f9b287efe8501652cbe")
    }

    @Test func handshakeProofsMatchTheReferenceVectorsAndCoverEveryField() throws {
        let secret = try ClusterSecret(text: Self.secretText)
        let token = Credential(kind: .application, keyBytes: secret.applicationToken("app-1"))
        let transcript = HandshakeTranscript(
            role: .client, identity: "app-1", kind: .application, clientNonce: Self.clientNonce,
            serverNonce: Self.serverNonce, serverId: "worker-0")
        let peerProof = token.peerProof(transcript)
        #expect(Hex.encode(peerProof) == "b523379c93c077030098aa34fae35fa2f28c9bf90ff956fcb6de10d0032502a8")
        #expect(
            Hex.encode(token.serverProof(transcript))
                == "a35345c6c39fd339fc2d1ef39974677a9aa611bc42fd100f401bf7c2f12ee509")
        #expect(token.isValidPeerProof(peerProof, transcript))
        #expect(!token.isValidServerProof(peerProof, transcript), "a peer's proof is not the server's")

        var altered: [HandshakeTranscript] = []
        for change in 0..<6 {
            var other = transcript
            switch change {
            case 0: other.role = .tool
            case 1: other.identity = "app-2"
            case 2: other.kind = .client
            case 3: other.clientNonce[0] ^= 1
            case 4: other.serverNonce[31] ^= 1
            default: other.serverId = "worker-1"
            }
            altered.append(other)
        }
        for other in altered {
            #expect(!token.isValidPeerProof(peerProof, other), "a proof must not verify for \(other)")
        }
        let otherApp = Credential(kind: .application, keyBytes: secret.applicationToken("app-2"))
        #expect(!otherApp.isValidPeerProof(peerProof, transcript))
    }

    @Test func shortSecretsAndBadClientSecretsAreRefusedWithAClearMessage() throws {
        #expect(throws: AuthError.self) { try ClusterSecret(text: "too short\n") }
        do {
            _ = try ClusterSecret(text: "  \n")
            Issue.record("an empty secret must be refused")
        } catch {
            #expect(error.message.contains("at least 32"))
        }
        let secret = try ClusterSecret(text: Self.secretText)
        let text = secret.clientCredential.hex + "\n"
        #expect(try Credential.client(hex: text).hex == secret.clientCredential.hex)
        #expect(throws: AuthError.self) { try Credential.client(hex: "xyz") }
        #expect(throws: AuthError.self) { try Credential.client(hex: String(repeating: "a", count: 62)) }
    }

    @Test func signedRequestsVerifyOnceWithinTheClockWindow() throws {
        let secret = try ClusterSecret(text: Self.secretText)
        let signer = RequestSigner(adminKey: secret.adminKey)
        let body = Array("{}".utf8)
        let header = signer.authorization(
            method: "POST", path: "/api/v1/decommission", body: body, unixSeconds: 1_700_000_000,
            nonce: Array(repeating: 0xAB, count: 16))
        #expect(
            header == "Sluice-HMAC-SHA256 ts=1700000000,nonce=\(String(repeating: "ab", count: 16)),"
                + "sig=e9c827ce6c00aa21bb18dfa21970af97490ff097a390c197ac3f4aea7482070d")
        let verifier = RequestVerifier(adminKey: secret.adminKey, maxClockSkewSeconds: 300, maxRememberedNonces: 2)
        let check = { (header: String?, path: String, now: Int64) in
            verifier.refusal(authorization: header, method: "POST", path: path, body: body, unixSeconds: now)
        }
        #expect(check(header, "/api/v1/decommission", 1_700_000_100) == nil)
        #expect(check(header, "/api/v1/decommission", 1_700_000_100)?.contains("replayed") == true)
        let fresh = signer.authorization(
            method: "POST", path: "/api/v1/decommission", body: body, unixSeconds: 1_700_000_000)
        #expect(check(fresh, "/api/v1/recommission", 1_700_000_000)?.contains("does not match") == true)
        #expect(check(fresh, "/api/v1/decommission", 1_700_000_301)?.contains("clock") == true)
        #expect(check(nil, "/api/v1/decommission", 1_700_000_000)?.contains("signed") == true)
        let wrongKey = RequestSigner(adminKey: try ClusterSecret(text: String(repeating: "x", count: 40)).adminKey)
        let forged = wrongKey.authorization(
            method: "POST", path: "/api/v1/decommission", body: body, unixSeconds: 1_700_000_000)
        #expect(check(forged, "/api/v1/decommission", 1_700_000_000)?.contains("does not match") == true)
        // The set of remembered nonces is bounded: full of unexpired nonces, it refuses rather than forgets.
        #expect(check(fresh, "/api/v1/decommission", 1_700_000_000) == nil)
        let third = signer.authorization(
            method: "POST", path: "/api/v1/decommission", body: body, unixSeconds: 1_700_000_000)
        #expect(check(third, "/api/v1/decommission", 1_700_000_000)?.contains("too many") == true)
    }
}
