import ArgumentParser
import MeshAPI

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// An error that ends the command with exit code 1 and one line on stderr.
struct CLIFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// An error in what the operator gave (a policy file's line): exit code 2, its lines on stderr,
/// no usage text (the lines say what is wrong).
struct CLIUsageFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Exit codes (documented in `smegctl --help` and the README).
enum ExitStatus {
    static let success: Int32 = 0
    static let failure: Int32 = 1
    static let usage: Int32 = 2
}

enum Output {
    /// Pretty, key-sorted JSON so `--json` output is stable for scripts and diffs.
    static func json(_ value: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(value)
        print(String(decoding: data, as: UTF8.self))
    }

    static func error(_ message: String) {
        StandardStreams.writeError("smegctl: \(message)\n")
    }

    /// A remark for the person, on stderr, so that stdout stays what scripts read.
    static func note(_ message: String) {
        StandardStreams.writeError("\(message)\n")
    }
}
