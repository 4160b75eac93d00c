import Crypto
import SluiceCore

/// A key a peer proves in the handshake, with what it is (see `CredentialKind`). Proofs are HMAC-SHA256 over a
/// `HandshakeTranscript`, one for each direction, so neither side's proof can be replayed as the other's.
public struct Credential: Sendable {
    /// What holding this key allows.
    public let kind: CredentialKind
    private let key: SymmetricKey

    /// A credential from its key bytes (a derived key, an application token, a client secret).
    public init(kind: CredentialKind, keyBytes: [UInt8]) {
        self.kind = kind
        self.key = SymmetricKey(data: keyBytes)
    }

    /// The client secret Spark jobs hold, from its text form (64 hexadecimal digits; surrounding white space is
    /// ignored). Throws when the text is not that.
    public static func client(hex text: String) throws(AuthError) -> Credential {
        guard let bytes = Hex.decode(ClusterSecret.trimmed(text)), bytes.count == 32 else {
            throw AuthError("a client secret is 64 hexadecimal digits (print it with `sluice auth client-secret`)")
        }
        return Credential(kind: .client, keyBytes: bytes)
    }

    /// The key as text: 64 hexadecimal digits (how a client secret is handed to Spark jobs).
    public var hex: String { key.withUnsafeBytes { Hex.encode(Array($0)) } }

    /// The peer's proof over `transcript`.
    public func peerProof(_ transcript: HandshakeTranscript) -> [UInt8] {
        mac("peer", transcript)
    }

    /// The server's proof over `transcript`.
    public func serverProof(_ transcript: HandshakeTranscript) -> [UInt8] {
        mac("server", transcript)
    }

    /// True when `proof` is the peer's proof over `transcript` (compared in constant time).
    public func isValidPeerProof(_ proof: [UInt8], _ transcript: HandshakeTranscript) -> Bool {
        isValid(proof, "peer", transcript)
    }

    /// True when `proof` is the server's proof over `transcript` (compared in constant time).
    public func isValidServerProof(_ proof: [UInt8], _ transcript: HandshakeTranscript) -> Bool {
        isValid(proof, "server", transcript)
    }

    private func mac(_ direction: String, _ transcript: HandshakeTranscript) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: transcript.bytes(direction: direction), using: key))
    }

    private func isValid(_ proof: [UInt8], _ direction: String, _ transcript: HandshakeTranscript) -> Bool {
        HMAC<SHA256>.isValidAuthenticationCode(
            proof, authenticating: transcript.bytes(direction: direction), using: key)
    }
}

/// Everything both proofs of one handshake cover: who the peer says it is, which key it proves, both nonces
/// and the server's name. A fresh server nonce per connection is what makes a recorded proof useless.
public struct HandshakeTranscript: Sendable, Equatable {
    public var role: PeerRole
    public var identity: String
    public var kind: CredentialKind
    public var clientNonce: [UInt8]
    public var serverNonce: [UInt8]
    public var serverId: String

    public init(
        role: PeerRole, identity: String, kind: CredentialKind, clientNonce: [UInt8], serverNonce: [UInt8],
        serverId: String
    ) {
        self.role = role
        self.identity = identity
        self.kind = kind
        self.clientNonce = clientNonce
        self.serverNonce = serverNonce
        self.serverId = serverId
    }

    /// `string "sluice-handshake-v1" | string direction | u8 role | string identity | u8 kind | bytes clientNonce |
    /// bytes serverNonce | string serverId`, in the wire encoding.
    func bytes(direction: String) -> [UInt8] {
        var writer = WireWriter()
        writer.writeString("sluice-handshake-v1")
        writer.writeString(direction)
        writer.writeU8(role.rawValue)
        writer.writeString(identity)
        writer.writeU8(kind.rawValue)
        writer.writeBlob(clientNonce)
        writer.writeBlob(serverNonce)
        writer.writeString(serverId)
        return writer.bytes
    }
}

/// Fresh random nonces for handshakes and signed requests (the system's secure generator: getrandom).
public enum Nonce {
    /// `count` random bytes.
    public static func random(count: Int = HandshakeNonce.byteCount) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }
}

/// Lower-case hexadecimal text.
public enum Hex {
    /// The bytes as lower-case hexadecimal digits.
    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes of hexadecimal text (either case); nil when it is not hexadecimal or has an odd length.
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = value(utf8[index]), let low = value(utf8[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    private static func value(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
