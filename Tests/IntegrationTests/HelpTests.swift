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
