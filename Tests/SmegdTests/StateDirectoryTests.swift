import Foundation
import MeshLinux
import Testing

@testable import MeshCore
@testable import smegd

@Suite struct StateDirectoryTests {
    private func temporaryState() -> StateDirectory {
        StateDirectory(root: FileManager.default.temporaryDirectory.appendingPathComponent("smeg-\(UUID())").path)
    }

    private let sample = PersistedMesh(
        meshId: "abcdefghijklmnop", name: "home", secret: "c2VjcmV0", options: MeshOptions(role: "peer"),
        bootstrap: ["192.0.2.1:51900"])

    @Test func savesAndLoadsAMeshWithPrivateModes() throws {
        let state = temporaryState()
        defer { try? FileManager.default.removeItem(atPath: state.root) }
        try state.prepare()
        try state.save(sample)
        guard case .value(let loaded) = state.loadMesh(sample.meshId) else {
            Issue.record("mesh did not load")
            return
        }
        #expect(loaded == sample)
        #expect(try state.meshIds() == [sample.meshId])
        var info = stat()
        #expect(stat(state.meshFile(sample.meshId), &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
        #expect(stat(state.root, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o700)
    }

    @Test func missingFilesAreAbsentNotErrors() throws {
        let state = temporaryState()
        defer { try? FileManager.default.removeItem(atPath: state.root) }
        guard case .absent = state.loadMembership("nothing") else {
            Issue.record("expected absent")
            return
        }
    }

    @Test(arguments: ["", "{", "[1,2]", "{\"format\":1}", "\u{0}\u{1}\u{2}"])
    func corruptFilesAreMovedAsideAndReported(content: String) throws {
        let state = temporaryState()
        defer { try? FileManager.default.removeItem(atPath: state.root) }
        try state.prepare()
        try state.save(sample)
        try AtomicFile.write(Array(content.utf8), to: state.membershipFile(sample.meshId))
        guard case .corrupt(let problem) = state.loadMembership(sample.meshId) else {
            Issue.record("corrupt file was accepted")
            return
        }
        #expect(problem.contains("moved it to"))
        let names = try FileManager.default.contentsOfDirectory(atPath: state.directory(of: sample.meshId))
        #expect(names.contains { $0.hasPrefix("members.json.corrupt-") })
        #expect(!names.contains("members.json"))
        guard case .value = state.loadMesh(sample.meshId) else {
            Issue.record("the good mesh file was disturbed")
            return
        }
    }

    @Test func aMeshFileInTheWrongDirectoryIsRejected() throws {
        let state = temporaryState()
        defer { try? FileManager.default.removeItem(atPath: state.root) }
        try state.prepare()
        try state.save(sample)
        try FileManager.default.moveItem(
            atPath: state.directory(of: sample.meshId), toPath: state.directory(of: "other"))
        guard case .corrupt(let problem) = state.loadMesh("other") else {
            Issue.record("mismatched mesh id accepted")
            return
        }
        #expect(problem.contains("does not match"))
    }

    @Test func atomicWriteReplacesWholeFilesAndLeavesNoTemporaries() throws {
        let state = temporaryState()
        defer { try? FileManager.default.removeItem(atPath: state.root) }
        try state.prepare()
        let path = state.root + "/file"
        try AtomicFile.write(Array("first".utf8), to: path)
        try AtomicFile.write(Array("second".utf8), to: path, mode: 0o640)
        #expect(try AtomicFile.read(path, limit: 100) == Array("second".utf8))
        #expect(throws: FileError.self) { try AtomicFile.read(path, limit: 3) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: state.root).sorted() == ["file", "meshes"])
        var info = stat()
        #expect(stat(path, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o640)
    }
}
