/// The tool's version, written into sweep manifests.
public enum AIOBenchVersion {
    /// The version string.
    public static let current = "0.1.0"
}
