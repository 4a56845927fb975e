#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A configuration problem, located precisely enough to fix without reading the source.
struct ConfigError: Error, CustomStringConvertible, Equatable {
    var source: String
    var line: Int?
    var message: String

    var description: String {
        if let line { return "\(source):\(line): \(message)" }
        return "\(source): \(message)"
    }
}

/// Reads the YAML file (`FlatYAML`) and `--set key=value` overrides into a `DaemonConfig`.
///
/// The file is a flat mapping of scalar values. Anything else (unknown keys, nested values,
/// duplicate keys, bad values) is an error rather than a warning: a typo in a key silently
/// ignored is the kind of mistake that surfaces at 3 a.m.
enum ConfigLoader {
    /// Files larger than this are not configuration files; refusing them bounds memory.
    static let maximumFileSize = 64 * 1024

    /// Loads `path`. A missing file is fine only when `required` is false (the default path).
    static func load(path: String, required: Bool, base: DaemonConfig = DaemonConfig()) throws -> DaemonConfig {
        guard FileManager.default.fileExists(atPath: path) else {
            if required { throw ConfigError(source: path, message: "file not found") }
            return base
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(source: path, message: "cannot read the file (check its permissions)")
        }
        guard data.count <= maximumFileSize else {
            throw ConfigError(source: path, message: "file is larger than \(maximumFileSize) bytes")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(source: path, message: "file is not valid UTF-8")
        }
        return try parse(text, source: path, base: base)
    }

    static func parse(_ text: String, source: String, base: DaemonConfig = DaemonConfig()) throws -> DaemonConfig {
        let entries: [FlatYAML.Entry]
        do {
            entries = try FlatYAML.parse(text)
        } catch {
            throw ConfigError(source: source, line: error.line, message: error.message)
        }
        var config = base
        var seen: Set<String> = []
        for entry in entries {
            guard seen.insert(entry.key).inserted else {
                throw ConfigError(source: source, line: entry.line, message: "key '\(entry.key)' appears twice")
            }
            try apply(name: entry.key, value: entry.value, to: &config, source: source, line: entry.line)
        }
        return config
    }

    /// Applies one `key=value` override from the command line.
    static func applyOverride(_ assignment: String, to config: inout DaemonConfig) throws {
        guard let equals = assignment.firstIndex(of: "=") else {
            throw ConfigError(source: "--set", message: "expected key=value, got '\(assignment)'")
        }
        let name = String(assignment[..<equals])
        let value = String(assignment[assignment.index(after: equals)...])
        try apply(name: name, value: value, to: &config, source: "--set", line: nil)
    }

    private static func apply(
        name: String, value: String, to config: inout DaemonConfig, source: String, line: Int?
    ) throws {
        guard let key = ConfigKey.named(name) else {
            let known = ConfigKey.all.map(\.name).joined(separator: ", ")
            throw ConfigError(source: source, line: line, message: "unknown key '\(name)' (known keys: \(known))")
        }
        guard key.apply(&config, value) else {
            let shown = value.count > 60 ? String(value.prefix(60)) + "..." : value
            throw ConfigError(
                source: source, line: line, message: "key '\(name)': expected \(key.expected), got '\(shown)'")
        }
    }
}
