import Dispatch
import Synchronization

/// Runs the daemon's async work from a synchronous `main`, parking the main thread until it ends.
///
/// Why not an async `main`: on Linux the async entry point hands the main thread to
/// `dispatch_main`, which ends it with `pthread_exit`. That forced unwind walks the whole main
/// stack through the unwind tables, which loads libgcc_s's unwinder and leaves about half a MiB of
/// tables resident in every daemon for the rest of its life, for nothing. smegd runs no work on
/// the main queue or the main actor, so a main thread asleep on a semaphore costs nothing.
enum MainThread {
    /// Blocks the calling thread until `body` has finished on the global executor; rethrows
    /// what it threw.
    static func wait(for body: @escaping @Sendable () async throws -> Void) throws {
        let finished = DispatchSemaphore(value: 0)
        let failure = Mutex<(any Error)?>(nil)
        Task {
            do {
                try await body()
            } catch {
                failure.withLock { $0 = error }
            }
            finished.signal()
        }
        finished.wait()
        if let error = failure.withLock({ $0 }) { throw error }
    }
}
