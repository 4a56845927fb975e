import Foundation
import Testing

/// The real `smegctl` binary explains failures and uses the documented exit codes.
@Suite struct SmegctlErrorTests {
    private let smegctl = BinaryLocator.url(of: "smegctl")

    @Test func missingDaemonSaysHowToStartItAndWhichSocket() throws {
        let socket = "/tmp/smeg-none-\(UUID().uuidString).sock"
        let result = try ProcessRunner.run(smegctl, ["list", "--socket", socket])
        #expect(result.status == 1)
        #expect(result.stderr.contains("cannot reach smegd at \(socket)"))
        #expect(result.stderr.contains("smegd"))
        #expect(!result.stderr.contains("Fatal error"))
    }

    @Test(arguments: [["create", "--role", "boss"], ["join"], ["join", "tok", "--mesh-id", "x"], ["frobnicate"]])
    func usageErrorsExitWithTwo(arguments: [String]) throws {
        let result = try ProcessRunner.run(smegctl, arguments + ["--socket", "/nonexistent.sock"])
        #expect(result.status == 2)
        #expect(!result.stderr.isEmpty)
    }

    @Test func legacyVerbsWorkButStayHidden() throws {
        let help = try ProcessRunner.run(smegctl, ["--help"])
        #expect(!help.stdout.contains("new-mesh"))
        #expect(help.stdout.contains("create"))
        let legacy = try ProcessRunner.run(smegctl, ["list-meshes", "--socket", "/nonexistent.sock"])
        #expect(legacy.status == 1)
        #expect(legacy.stderr.contains("cannot reach smegd"))
    }
}

@Suite struct CompletionTests {
    @Test(arguments: ["bash", "zsh", "fish"])
    func completionScriptsCoverTheVerbs(shell: String) throws {
        let result = try ProcessRunner.run(BinaryLocator.url(of: "smegctl"), ["--generate-completion-script", shell])
        #expect(result.status == 0)
        for verb in ["create", "join", "graph", "service"] {
            #expect(result.stdout.contains(verb), "\(shell) completion lacks \(verb)")
        }
    }
}
