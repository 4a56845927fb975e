import Foundation
import MeshLinux
import Testing

@testable import MeshCore
@testable import smegd

@Suite struct StaleTemporariesTests {
    @Test(arguments: [
        ("members.json.tmp-123-4294967295", StaleTemporaries.Writer.process(123)),
        ("mesh.json.tmp-1-0", .process(1)),
        ("identity.key.abcdefgh27.tmp", .keyFile),
        ("identity.key.tmp.tmp", .keyFile),
    ])
    func recognisesOurTemporaryNames(name: String, writer: StaleTemporaries.Writer) {
        #expect(StaleTemporaries.writer(of: name) == writer)
    }

    @Test(arguments: [
        "members.json", "members.json.corrupt-1700000000", "notes.tmp", ".tmp-1-2", "x.tmp-1", "x.tmp-a-1",
        "x.tmp-1-2-3", "x.tmp-0-1", "x.tmp-12345678901-1", "x.tmp-1-99999999999", "identity.key.ABCDEFGH27.tmp",
        "identity.key.abcdefgh1.tmp", ".abcdefgh27.tmp", "x.tmp-1-2.bak",
    ])
    func leavesOtherNamesAlone(name: String) {
        #expect(StaleTemporaries.writer(of: name) == nil)
    }

    @Test func anAtomicWriteNamesItsTemporaryAsTheCleanerExpects() throws {
        let name = AtomicFile.temporaryName(for: "/state/members.json").split(separator: "/").last.map(String.init)
        #expect(StaleTemporaries.writer(of: try #require(name)) == .process(getpid()))
    }

    @Test func removesOnlyStaleTemporariesInTheStateTree() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("smeg-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: root) }
        let state = StateDirectory(root: root)
        try state.prepare()
        let mesh = state.directory(of: "abcdefghijklmnop")
        try AtomicFile.makeDirectory(mesh + "/deeper/still")
        let outside = FileManager.default.temporaryDirectory.appendingPathComponent("smeg-outside-\(UUID())").path
        defer { unlink(outside) }
        let dead: Int32 = 999_999
        let live: Int32 = 424_242
        let stale = [
            mesh + "/members.json.tmp-\(dead)-17", mesh + "/identity.key.abcdefgh27.tmp",
            mesh + "/mesh.json.tmp.tmp", root + "/meshes/stray.json.tmp-\(getpid())-5",
        ]
        let kept = [
            mesh + "/members.json", mesh + "/members.json.tmp-\(live)-3", mesh + "/notes.tmp",
            mesh + "/deeper/still/members.json.tmp-\(dead)-1", outside,
        ]
        for path in stale + kept { try AtomicFile.write(Array("x".utf8), to: path) }
        try AtomicFile.makeDirectory(mesh + "/dir.tmp-\(dead)-1")
        #expect(symlink(outside, mesh + "/link.tmp-\(dead)-2") == 0)

        let removed = StaleTemporaries.remove(under: root) { $0 == live }
        #expect(removed == stale.sorted())
        for path in stale { #expect(!FileManager.default.fileExists(atPath: path)) }
        for path in kept + [mesh + "/dir.tmp-\(dead)-1", mesh + "/link.tmp-\(dead)-2"] {
            #expect(FileManager.default.fileExists(atPath: path), "\(path) was removed")
        }
        #expect(StaleTemporaries.remove(under: root) { $0 == live }.isEmpty)
    }
}
