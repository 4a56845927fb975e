import CMnl
import MeshCore

/// Attribute iteration without libmnl's callback API, whose C function pointers cannot capture
/// Swift state; the bounds checks are libmnl's own (`mnl_attr_ok`).
public enum NetlinkAttributes {
    /// Calls `body` for each top-level attribute after a family header of `offset` bytes.
    public static func forEach(
        in message: UnsafePointer<nlmsghdr>, offset: UInt32, _ body: (UnsafePointer<nlattr>) throws -> Void
    ) rethrows {
        let payloadEnd = UnsafeRawPointer(mnl_nlmsg_get_payload_tail(message)!)
        let first = UnsafeRawPointer(smeg_mnl_attr_first(message, offset)!)
        try forEach(from: first, to: payloadEnd, body)
    }

    /// Calls `body` for each attribute nested inside `nest`.
    public static func forEachNested(
        in nest: UnsafePointer<nlattr>, _ body: (UnsafePointer<nlattr>) throws -> Void
    ) rethrows {
        let end = UnsafeRawPointer(nest) + Int(nest.pointee.nla_len)
        try forEach(from: UnsafeRawPointer(smeg_mnl_attr_first_nested(nest)!), to: end, body)
    }

    /// Calls `body` for each well-formed attribute in `[start, end)`; stops at the first bad one.
    public static func forEach(
        from start: UnsafeRawPointer, to end: UnsafeRawPointer, _ body: (UnsafePointer<nlattr>) throws -> Void
    ) rethrows {
        var attribute = start
        while attribute < end {
            let remaining = Int32(end - attribute)
            let typed = attribute.assumingMemoryBound(to: nlattr.self)
            guard mnl_attr_ok(typed, remaining) else { return }
            try body(typed)
            attribute = UnsafeRawPointer(mnl_attr_next(typed)!)
        }
    }

    /// The attribute type without the nested/byte-order flag bits.
    public static func type(_ attribute: UnsafePointer<nlattr>) -> Int32 {
        Int32(mnl_attr_get_type(attribute))
    }

    /// The payload of a string attribute, tolerating a missing NUL terminator.
    public static func string(_ attribute: UnsafePointer<nlattr>) -> String {
        let bytes = payload(attribute)
        let trimmed = bytes.prefix { $0 != 0 }
        return String(decoding: trimmed, as: UTF8.self)
    }

    /// The payload bytes of an attribute.
    public static func bytes(_ attribute: UnsafePointer<nlattr>) -> [UInt8] {
        [UInt8](payload(attribute))
    }

    /// A fixed-width integer payload, or nil when the attribute is shorter than the type.
    public static func integer<T: FixedWidthInteger>(_ attribute: UnsafePointer<nlattr>, as: T.Type) -> T? {
        let bytes = payload(attribute)
        guard bytes.count >= MemoryLayout<T>.size else { return nil }
        return bytes.loadUnaligned(as: T.self)
    }

    private static func payload(_ attribute: UnsafePointer<nlattr>) -> UnsafeRawBufferPointer {
        let length = Int(mnl_attr_get_payload_len(attribute))
        return UnsafeRawBufferPointer(start: mnl_attr_get_payload(attribute), count: length)
    }
}
