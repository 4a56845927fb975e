import Testing

@testable import MeshLinux

/// Running `nft -f -` without root or nftables: stand-in programs for the outcomes.
@Suite struct NFTablesTests {
    @Test func aMissingProgramIsMissingAndTheNextOneIsTried() throws {
        #expect {
            try NFTables.run(script: "", programs: ["/nonexistent/nft", "nft-that-is-not-on-path"])
        } throws: { error in
            guard case NFTables.Failure.missing = error else { return false }
            return "\(error)".contains("install the nftables package")
        }
        try NFTables.run(script: "table inet x\n", programs: ["/nonexistent/nft", "/bin/true"])
    }

    /// A program that reads the script and fails, as nft does on a bad rule: its status and the
    /// first lines of its stderr make the error. `sh -f -` runs its standard input, which stands
    /// in for nft here (a script file of our own could be busy, ETXTBSY, while another test
    /// forks).
    @Test func aFailureCarriesTheStatusAndStderr() throws {
        let script = "echo 'Error: Could not process rule' >&2\necho '  here' >&2\nexit 3\n"
        #expect {
            try NFTables.run(script: script, programs: ["/bin/sh"])
        } throws: { error in
            "\(error)" == "nft exited with status 3: Error: Could not process rule; here"
        }
        try NFTables.run(script: "# " + String(repeating: "x", count: 100_000) + "\nexit 0\n", programs: ["/bin/sh"])
    }

    /// A program that exits before reading its input: the write fails with EPIPE, not SIGPIPE
    /// (which would end the test process), and the status is reported.
    @Test func aProgramThatIgnoresItsInputDoesNotKillUs() throws {
        #expect {
            try NFTables.run(script: String(repeating: "x", count: 1 << 20), programs: ["/bin/false"])
        } throws: { error in
            "\(error)" == "nft exited with status 1"
        }
    }
}
