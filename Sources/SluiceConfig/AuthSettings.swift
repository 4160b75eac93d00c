import SluiceAuth

/// How a server authenticates its peers, read from the registry: the cluster secret (from `clusterSecret` or the
/// file `clusterSecretFile`) and whether peers that do not authenticate are refused.
public struct AuthSettings: Sendable, Equatable {
    /// The cluster secret; nil: no authentication (every peer is trusted as it declares itself).
    public var secret: ClusterSecret?
    /// With a secret: refuse peers that do not authenticate (false only while a secret is rolled out).
    public var isRequired: Bool

    /// Settings with no secret: no authentication.
    public init(secret: ClusterSecret? = nil, isRequired: Bool = true) {
        self.secret = secret
        self.isRequired = isRequired
    }

    /// Reads the settings and the secret file; throws when the secret is given twice, unreadable or too short.
    init(_ config: ResolvedConfig) throws(ConfigError) {
        let text = try config.value(SharedKeys.clusterSecret)
        let path = try config.value(SharedKeys.clusterSecretFile)
        isRequired = try config.value(SharedKeys.authRequired)
        guard !(text.isEmpty && path.isEmpty) else {
            secret = nil
            return
        }
        guard text.isEmpty || path.isEmpty else {
            throw ConfigError(
                .inconsistent, key: SharedKeys.clusterSecretFile.name, source: nil,
                "clusterSecret and clusterSecretFile are both set; give the secret one way")
        }
        let secretText: String
        let key: String
        if path.isEmpty {
            secretText = text
            key = SharedKeys.clusterSecret.name
        } else {
            secretText = try ConfigLoader.readFile(atPath: path)
            key = SharedKeys.clusterSecretFile.name
        }
        do {
            secret = try ClusterSecret(text: secretText)
        } catch {
            throw ConfigError(.invalidValue, key: key, source: nil, error.message)
        }
    }
}
