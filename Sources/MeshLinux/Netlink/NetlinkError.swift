#if canImport(Glibc)
    import Glibc
#endif

/// A failed netlink operation, naming what was attempted and the kernel's errno text so that
/// a log line alone tells an operator what went wrong ("add address fd00::1/64 on wg0: File exists").
///
/// Kernels since 4.12 can attach an extended-ACK message ("Unknown device type"); it is kept
/// because it is often the only hint at *which* attribute the kernel disliked.
public struct NetlinkError: Error, CustomStringConvertible, Equatable {
    public let operation: String
    public let errno: Int32
    /// The kernel's extended-ACK text (`NLMSGERR_ATTR_MSG`), when it sent one.
    public let kernelMessage: String?

    public init(operation: String, errno: Int32, kernelMessage: String? = nil) {
        self.operation = operation
        self.errno = errno
        self.kernelMessage = kernelMessage
    }

    public var description: String {
        var text = "\(operation): \(String(cString: strerror(errno))) (errno \(errno))"
        if let kernelMessage, !kernelMessage.isEmpty { text += " — kernel says: \(kernelMessage)" }
        return text
    }
}
