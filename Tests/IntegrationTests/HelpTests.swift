import Foundation
import Testing

/// The built executables start and explain themselves.
@Suite struct HelpTests {
    @Test(arguments: ["smegd", "smegctl"])
    func helpExplainsTheCommand(name: String) throws {
        let result = try ProcessRunner.run(BinaryLocator.url(of: name), ["--help"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("USAGE: \(name)"))
        #expect(result.stdout.contains("smegd"))
    }

    @Test func unknownFlagIsAUsageError() throws {
        let result = try ProcessRunner.run(BinaryLocator.url(of: "smegctl"), ["--no-such-flag"])
        #expect(result.status == 2)  // documented: 2 for usage errors
        #expect(result.stderr.contains("Unknown option"))
    }
}

/// Every help text of both binaries, at the widths people's terminals have: no line wider than
/// the terminal, no paragraph broken before a word that fits, no example line wrapped.
@Suite struct HelpWrappingTests {
    static let widths = [80, 60]

    /// `smegd`, `smegctl` and every subcommand path under `smegctl` (as listed by its help).
    static func commandPaths() throws -> [(binary: String, path: [String])] {
        var found: [(binary: String, path: [String])] = [("smegd", [])]
        var pending: [[String]] = [[]]
        while let path = pending.popLast() {
            found.append(("smegctl", path))
            let help = try text(of: "smegctl", path, columns: 200)
            pending += HelpLayout(help, columns: 200).subcommands.map { path + [$0] }
        }
        return found
    }

    static func text(of binary: String, _ path: [String], columns: Int) throws -> String {
        let result = try ProcessRunner.run(
            BinaryLocator.url(of: binary), path + ["--help"], environment: ["COLUMNS": "\(columns)"])
        #expect(result.status == 0, "\(binary) \(path.joined(separator: " ")) --help exited \(result.status)")
        return result.stdout
    }

    @Test func everyHelpTextFitsTheTerminal() throws {
        let paths = try Self.commandPaths()
        #expect(paths.count > 20, "found only \(paths.map { $0.path })")
        for (binary, path) in paths {
            let name = ([binary] + path).joined(separator: " ")
            // At a width nothing reaches, any early break is one the source made by hand.
            let wide = HelpLayout(try Self.text(of: binary, path, columns: 200), columns: 200)
            #expect(wide.problems.isEmpty, "\(name) --help: \(wide.problems)")
            for columns in Self.widths {
                let layout = HelpLayout(try Self.text(of: binary, path, columns: columns), columns: columns)
                #expect(layout.problems.isEmpty, "\(name) --help at \(columns) columns: \(layout.problems)")
                let shown = Set(layout.lines)
                for example in wide.exampleLines where !shown.contains(example) {
                    Issue.record("\(name) --help at \(columns) columns wraps the example \"\(example)\"")
                }
            }
        }
    }
}
