import MeshCore

#if canImport(Glibc)
    import Glibc
#endif

/// A POSIX thread for a loop that blocks in the kernel (a socket's `recvfrom`, netlink's
/// `recv`), which must not hold one of the Swift concurrency pool's two threads on this
/// machine class. Foundation's `Thread` did this before; it is the only part of Foundation proper
/// smegd needed besides the configuration reader, and Foundation proper brings ICU's 34 MB
/// (docs/operations.md, "What each binary holds").
///
/// The thread is detached: it owns nothing that must be joined, and it ends when its loop
/// returns, which each caller arranges on close (a flag and a wake-up, or the socket closing).
public enum BlockingThread {
    /// Starts `body` on a new thread named `name` (at most 15 bytes are kept, the kernel's
    /// limit; `top -H` and `/proc/PID/task` show it). Returns 0, or the error number when the
    /// thread cannot be created, and then nothing runs.
    @discardableResult
    public static func start(name: String, _ body: @escaping @Sendable () -> Void) -> Int32 {
        let box = Unmanaged.passRetained(Body(name: name, run: body)).toOpaque()
        var thread = pthread_t()
        let started = pthread_create(&thread, nil, blockingThreadEntry, box)
        guard started == 0 else {
            Unmanaged<Body>.fromOpaque(box).release()
            return started
        }
        pthread_detach(thread)
        return 0
    }

    /// Glibc's `pthread_setname_np` is not visible to Swift (it needs _GNU_SOURCE) and `prctl` is
    /// variadic; the kernel takes the name from this file as well. Best effort: a thread without
    /// a name works the same.
    fileprivate static func nameThisThread(_ name: String) {
        let fd = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = FileDescriptorIO.writeAll(fd, Array(name.utf8.prefix(15)))
        close(fd)
    }

    fileprivate final class Body: Sendable {
        let name: String
        let run: @Sendable () -> Void
        init(name: String, run: @escaping @Sendable () -> Void) {
            self.name = name
            self.run = run
        }
    }
}

/// The thread's first frame: takes back the body `start` retained for it.
private func blockingThreadEntry(_ raw: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
    guard let raw else { return nil }
    let body = Unmanaged<BlockingThread.Body>.fromOpaque(raw).takeRetainedValue()
    BlockingThread.nameThisThread(body.name)
    body.run()
    return nil
}
