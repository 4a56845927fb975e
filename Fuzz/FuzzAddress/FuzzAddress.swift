import MeshCore

/// Address, prefix, endpoint and mesh id parsers read operator input and configuration. Each must
/// be total, and printing a parsed value must give text that parses to the same value.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if let address = IPv6Address(text), IPv6Address(address.description) != address {
        fatalError("IPv6 address does not round-trip: \(text)")
    }
    if let address = IPv4Address(text), IPv4Address(address.description) != address {
        fatalError("IPv4 address does not round-trip: \(text)")
    }
    if let prefix = IPPrefix(text), IPPrefix(prefix.description) != prefix {
        fatalError("prefix does not round-trip: \(text)")
    }
    if let endpoint = Endpoint(text), Endpoint(endpoint.description) != endpoint {
        fatalError("endpoint does not round-trip: \(text)")
    }
    if let mesh = MeshID(text), mesh.text != text {
        fatalError("mesh id does not round-trip: \(text)")
    }
    return 0
}
