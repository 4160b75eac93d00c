import Crypto
import Synchronization

/// Signs an operations API request with the admin key, as the `sluice` tool does:
/// `Authorization: Sluice-HMAC-SHA256 ts=<unix seconds>,nonce=<32 hex digits>,sig=<64 hex digits>`, where `sig` is
/// HMAC-SHA256(adminKey, "sluice-http-v1\n" METHOD "\n" PATH "\n" ts "\n" nonce "\n" hex(SHA-256(body))).
/// The key never travels; the time stamp and nonce make a recorded request useless elsewhere or later.
public struct RequestSigner: Sendable {
    /// The authorization scheme's name.
    public static let scheme = "Sluice-HMAC-SHA256"
    private let key: SymmetricKey

    /// A signer with the admin key (see `ClusterSecret.adminKey`).
    public init(adminKey: [UInt8]) { key = SymmetricKey(data: adminKey) }

    /// The `Authorization` header value for one request. `path` includes the query, as sent.
    public func authorization(
        method: String, path: String, body: [UInt8], unixSeconds: Int64, nonce: [UInt8] = Nonce.random(count: 16)
    ) -> String {
        let nonceHex = Hex.encode(nonce)
        let signature = HMAC<SHA256>.authenticationCode(
            for: Self.canonical(method: method, path: path, body: body, unixSeconds: unixSeconds, nonceHex: nonceHex),
            using: key)
        return "\(Self.scheme) ts=\(unixSeconds),nonce=\(nonceHex),sig=\(Hex.encode(Array(signature)))"
    }

    static func canonical(method: String, path: String, body: [UInt8], unixSeconds: Int64, nonceHex: String)
        -> [UInt8]
    {
        let bodyDigest = Hex.encode(Array(SHA256.hash(data: body)))
        return Array("sluice-http-v1\n\(method)\n\(path)\n\(unixSeconds)\n\(nonceHex)\n\(bodyDigest)".utf8)
    }

    func isValid(signature: [UInt8], canonical: [UInt8]) -> Bool {
        HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: canonical, using: key)
    }
}

/// Checks signed operations API requests: the signature, the time stamp within `maxClockSkewSeconds` of this
/// server's clock, and the nonce never seen before within that window. Seen nonces are kept in a bounded set: when
/// it is full of unexpired nonces, new signed requests are refused (fail closed) until some expire.
public final class RequestVerifier: Sendable {
    private let signer: RequestSigner
    private let maxClockSkewSeconds: Int64
    private let maxRememberedNonces: Int
    private let seen = Mutex<[String: Int64]>([:])  // nonce -> unix second after which it may be forgotten

    /// A verifier for requests signed with `adminKey`.
    public init(adminKey: [UInt8], maxClockSkewSeconds: Int64 = 300, maxRememberedNonces: Int = 65_536) {
        signer = RequestSigner(adminKey: adminKey)
        self.maxClockSkewSeconds = maxClockSkewSeconds
        self.maxRememberedNonces = max(maxRememberedNonces, 1)
    }

    /// Nil when `authorization` is a valid, fresh signature of this request; otherwise why it is not.
    public func refusal(
        authorization: String?, method: String, path: String, body: [UInt8], unixSeconds now: Int64
    ) -> String? {
        guard let authorization, authorization.hasPrefix(RequestSigner.scheme + " ") else {
            return "an admin request needs a signed Authorization header (\(RequestSigner.scheme)); "
                + "use `sluice --secret-file`"
        }
        var fields: [Substring: Substring] = [:]
        for part in authorization.dropFirst(RequestSigner.scheme.count + 1).split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1)
            guard pair.count == 2 else { return "malformed Authorization header" }
            fields[pair[0].drop(while: { $0 == " " })] = pair[1]
        }
        guard let tsText = fields["ts"], let ts = Int64(tsText), let nonce = fields["nonce"], nonce.count == 32,
            Hex.decode(nonce) != nil, let sigText = fields["sig"], let signature = Hex.decode(sigText)
        else { return "malformed Authorization header" }
        guard abs(now - ts) <= maxClockSkewSeconds else {
            return "signature time stamp \(ts) is more than \(maxClockSkewSeconds) s from the server's clock (\(now))"
        }
        let canonical = RequestSigner.canonical(
            method: method, path: path, body: body, unixSeconds: ts, nonceHex: String(nonce))
        guard signer.isValid(signature: signature, canonical: canonical) else {
            return "signature does not match (wrong secret, or the request was altered)"
        }
        return seen.withLock { seen -> String? in
            if seen.count >= maxRememberedNonces { seen = seen.filter { $0.value >= now } }
            guard seen[String(nonce)] == nil else { return "signed request replayed (nonce already used)" }
            guard seen.count < maxRememberedNonces else {
                return "too many signed requests within \(maxClockSkewSeconds) s; retry later"
            }
            seen[String(nonce)] = ts + maxClockSkewSeconds
            return nil
        }
    }
}
