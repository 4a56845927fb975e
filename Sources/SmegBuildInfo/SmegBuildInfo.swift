/// What the build was made from. `generatedVersion` comes from the version plugin
/// (Plugins/VersionPlugin, scripts/version.sh): the newest debian/changelog entry, or
/// SMEG_VERSION when set. A function rather than a constant, so that a new version changes no
/// module interface and only this module is compiled again.
public enum SmegBuildInfo {
    public static func version() -> String { generatedVersion }
}
