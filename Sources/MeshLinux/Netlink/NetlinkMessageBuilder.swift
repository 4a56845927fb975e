import CMnl
import MeshCore

/// A netlink request under construction in a buffer of fixed capacity.
///
/// Every `put` reports whether the attribute fit, using libmnl's `_check` variants, so encoders
/// that must split a large request (WireGuard peer sets) can stop cleanly at the boundary and
/// carry on in the next message instead of overrunning the buffer.
public final class NetlinkMessageBuilder {
    public let capacity: Int
    private let storage: UnsafeMutableRawPointer
    public let header: UnsafeMutablePointer<nlmsghdr>

    /// Starts a message of `type` with `flags`, followed by a zeroed family header of
    /// `extraHeader` bytes (`ifinfomsg`, `rtmsg`, `genlmsghdr`...).
    public init(capacity: Int = NetlinkMessageBuilder.defaultCapacity, type: UInt16, flags: Int32, extraHeader: Int) {
        self.capacity = capacity
        storage = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
        storage.initializeMemory(as: UInt8.self, repeating: 0, count: capacity)
        header = mnl_nlmsg_put_header(storage)!
        header.pointee.nlmsg_type = type
        header.pointee.nlmsg_flags = UInt16(truncatingIfNeeded: flags)
        if extraHeader > 0 { _ = mnl_nlmsg_put_extra_header(header, extraHeader) }
    }

    deinit {
        storage.deallocate()
    }

    /// libmnl's own choice (the page size, at most 8 KiB): the size the kernel reads in one go
    /// and the one wireguard-tools uses, so our split points match `wg`'s.
    public static var defaultCapacity: Int { smeg_mnl_socket_buffer_size() }

    /// The family header that follows `nlmsghdr`, typed.
    public func familyHeader<T>(as type: T.Type) -> UnsafeMutablePointer<T> {
        mnl_nlmsg_get_payload(header)!.assumingMemoryBound(to: T.self)
    }

    public var length: Int { Int(header.pointee.nlmsg_len) }

    /// The encoded message.
    public var bytes: [UInt8] {
        [UInt8](UnsafeRawBufferPointer(start: storage, count: length))
    }

    @discardableResult
    public func put(_ type: Int32, bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { mnl_attr_put_check(header, capacity, UInt16(type), $0.count, $0.baseAddress) }
    }

    @discardableResult
    public func put(_ type: Int32, u8 value: UInt8) -> Bool {
        mnl_attr_put_u8_check(header, capacity, UInt16(type), value)
    }

    @discardableResult
    public func put(_ type: Int32, u16 value: UInt16) -> Bool {
        mnl_attr_put_u16_check(header, capacity, UInt16(type), value)
    }

    @discardableResult
    public func put(_ type: Int32, u32 value: UInt32) -> Bool {
        mnl_attr_put_u32_check(header, capacity, UInt16(type), value)
    }

    @discardableResult
    public func put(_ type: Int32, string value: String) -> Bool {
        mnl_attr_put_strz_check(header, capacity, UInt16(type), value)
    }

    /// Opens a nested attribute; nil when not even its header fits.
    public func beginNest(_ type: Int32) -> UnsafeMutablePointer<nlattr>? {
        mnl_attr_nest_start_check(header, capacity, UInt16(type))
    }

    public func endNest(_ nest: UnsafeMutablePointer<nlattr>) {
        mnl_attr_nest_end(header, nest)
    }

    /// Drops a nest and everything written after it (a peer that did not fit whole).
    public func cancelNest(_ nest: UnsafeMutablePointer<nlattr>) {
        mnl_attr_nest_cancel(header, nest)
    }
}
