import Crypto
import SluiceCore

/// The one secret a Sluice cluster shares between its master and workers, and the keys derived from it.
/// Every key is HMAC-SHA256(secret, label): the worker credential, the client credential Spark jobs hold, an
/// application's token and the admin key that signs HTTP requests. The secret itself never travels.
public struct ClusterSecret: Sendable, Equatable {
    /// Shortest secret accepted, in bytes (256 bits, as HMAC-SHA256's key).
    public static let minimumByteCount = 32

    private let key: SymmetricKey

    /// A secret from its bytes. Throws when it is shorter than `minimumByteCount`.
    public init(bytes: some Collection<UInt8>) throws(AuthError) {
        guard bytes.count >= Self.minimumByteCount else {
            throw AuthError(
                "the cluster secret is \(bytes.count) bytes; at least \(Self.minimumByteCount) are needed "
                    + "(e.g. `openssl rand -base64 48`)")
        }
        key = SymmetricKey(data: Array(bytes))
    }

    /// A secret from the text of a file or an environment variable: surrounding white space (a file's final
    /// new line) is not part of it.
    public init(text: String) throws(AuthError) {
        try self.init(bytes: Array(Self.trimmed(text).utf8))
    }

    /// The credential masters and workers prove to each other.
    public var workerCredential: Credential { Credential(kind: .worker, keyBytes: derive("worker")) }

    /// The credential Spark jobs and tools hold: it only registers new applications.
    public var clientCredential: Credential { Credential(kind: .client, keyBytes: derive("client")) }

    /// The token of `applicationId`: returned to the driver that registers it, proven by its executors.
    public func applicationToken(_ applicationId: String) -> [UInt8] {
        derive("application\u{0}" + applicationId)
    }

    /// The key that signs requests to the operations API's admin endpoints.
    public var adminKey: [UInt8] { derive("admin") }

    /// The key a peer proving `kind` with hello identity `identity` must hold.
    public func key(for kind: CredentialKind, identity: String) -> Credential {
        switch kind {
        case .worker: workerCredential
        case .client: clientCredential
        case .application: Credential(kind: .application, keyBytes: applicationToken(identity))
        }
    }

    private func derive(_ label: String) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: Array(("sluice/v1/" + label).utf8), using: key))
    }

    static func trimmed(_ text: String) -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t" }
        guard let first = text.firstIndex(where: { !isSpace($0) }),
            let last = text.lastIndex(where: { !isSpace($0) })
        else { return "" }
        return text[first...last]
    }
}

/// A configuration or credential problem: what is wrong and what to do.
public struct AuthError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
