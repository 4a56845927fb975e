import Dispatch

/// Runs blocking work (a synchronous socket client, a child process) on a Dispatch thread.
///
/// Swift's cooperative pool has one thread per core, two here: a test that blocks one of them
/// while the server under test needs it can deadlock the whole test run.
func offPool<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            continuation.resume(with: Result { try work() })
        }
    }
}
