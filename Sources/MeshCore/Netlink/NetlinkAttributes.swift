import CMnl

/// Attribute iteration without libmnl's callback API, whose C function pointers cannot capture
/// Swift state; the bounds checks are libmnl's own (`mnl_attr_ok`).
public enum NetlinkAttributes {
    /// Calls `body` for each top-level attribute after a family header of `offset` bytes.
    public static func forEach(
        in message: UnsafePointer<nlmsghdr>, offset: UInt32, _ body: (UnsafePointer<nlattr>) throws -> Void
    ) rethrows {
        let payloadEnd = UnsafeRawPointer(mnl_nlmsg_get_payload_tail(message)!)
        var attribute = UnsafeRawPointer(smeg_mnl_attr_first(message, offset)!)
        while true {
            let remaining = Int32(payloadEnd - attribute)
            let typed = attribute.assumingMemoryBound(to: nlattr.self)
            guard mnl_attr_ok(typed, remaining) else { return }
            try body(typed)
            attribute = UnsafeRawPointer(mnl_attr_next(typed)!)
        }
    }

    /// Calls `body` for each attribute nested inside `nest`.
    public static func forEachNested(
        in nest: UnsafePointer<nlattr>, _ body: (UnsafePointer<nlattr>) throws -> Void
    ) rethrows {
        let end = UnsafeRawPointer(nest) + Int(nest.pointee.nla_len)
        var attribute = UnsafeRawPointer(smeg_mnl_attr_first_nested(nest)!)
        while true {
            let remaining = Int32(end - attribute)
            let typed = attribute.assumingMemoryBound(to: nlattr.self)
            guard mnl_attr_ok(typed, remaining) else { return }
            try body(typed)
            attribute = UnsafeRawPointer(mnl_attr_next(typed)!)
        }
    }

    /// The payload of a string attribute, tolerating a missing NUL terminator.
    public static func string(_ attribute: UnsafePointer<nlattr>) -> String {
        let length = Int(mnl_attr_get_payload_len(attribute))
        let bytes = UnsafeRawBufferPointer(start: mnl_attr_get_payload(attribute), count: length)
        let trimmed = bytes.prefix { $0 != 0 }
        return String(decoding: trimmed, as: UTF8.self)
    }

    /// The payload bytes of an attribute.
    public static func bytes(_ attribute: UnsafePointer<nlattr>) -> [UInt8] {
        let length = Int(mnl_attr_get_payload_len(attribute))
        return [UInt8](UnsafeRawBufferPointer(start: mnl_attr_get_payload(attribute), count: length))
    }
}
