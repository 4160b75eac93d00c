/// The release every Sluice binary reports (`--version`, `/version`).
public enum SluiceVersion {
    /// Semantic version of this build.
    public static let current = "0.2.0-dev"
}
