import SmegBuildInfo

/// The product version, shared by `smegd`, `smegctl`, the metrics and the control API's status
/// response. It has one source: the newest entry of debian/changelog (or SMEG_VERSION at build
/// time), written into the build by Plugins/VersionPlugin.
public enum SmegVersion {
    public static let string = SmegBuildInfo.version()
}
