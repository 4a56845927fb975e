import Synchronization
import Testing

@testable import smegd

/// `MainThread.wait` blocks its caller, as smegd's main thread does; the tests call it off the
/// concurrency pool (`offPool`), since a blocked pool thread may be the one the work needs.
@Suite(.timeLimit(.minutes(1))) struct MainThreadTests {
    struct Marker: Error, Equatable {}

    @Test func returnsOnlyAfterTheWorkHasFinished() async throws {
        let steps = try await offPool {
            let steps = Mutex<[String]>([])
            try MainThread.wait {
                try await Task.sleep(for: .milliseconds(50))
                steps.withLock { $0.append("work") }
            }
            steps.withLock { $0.append("after") }
            return steps.withLock { $0 }
        }
        #expect(steps == ["work", "after"])
    }

    @Test func rethrowsWhatTheWorkThrew() async {
        await #expect(throws: Marker()) {
            try await offPool { try MainThread.wait { throw Marker() } }
        }
    }
}
