#if canImport(Glibc)
    import Glibc
#endif

/// A failed netlink operation, naming what was attempted and the kernel's errno text so that
/// a log line alone tells an operator what went wrong ("add address fd00::1/64 on wg0: File exists").
public struct NetlinkError: Error, CustomStringConvertible, Equatable {
    public let operation: String
    public let errno: Int32

    public init(operation: String, errno: Int32) {
        self.operation = operation
        self.errno = errno
    }

    public var description: String {
        "\(operation): \(String(cString: strerror(errno))) (errno \(errno))"
    }
}
