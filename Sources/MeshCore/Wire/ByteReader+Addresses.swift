/// Encodings of addresses, prefixes and endpoints shared by records, tokens and messages.
///
/// An address is a family tag (4 or 6) followed by its 4 or 16 bytes; a name (tokens only) is
/// tag 0x4E ('N') with a 1-byte length. Tags are explicit so a decoder never guesses a family from
/// a length.
enum AddressTag {
    static let ipv4: UInt8 = 4
    static let ipv6: UInt8 = 6
    static let name: UInt8 = 0x4E
}

extension ByteReader {
    mutating func readIPv6(_ field: String) throws(WireError) -> IPv6Address {
        IPv6Address(bytes: try readSlice(16, field))!
    }

    mutating func readIPAddress(_ field: String) throws(WireError) -> IPAddress {
        switch try readU8(field) {
        case AddressTag.ipv4: return .v4(IPv4Address(bytes: try readSlice(4, field))!)
        case AddressTag.ipv6: return .v6(try readIPv6(field))
        case let tag: throw .invalid(field: field, reason: "unknown address family \(tag)")
        }
    }

    mutating func readPrefix(_ field: String) throws(WireError) -> IPPrefix {
        let address = try readIPAddress(field)
        let length = Int(try readU8(field))
        guard let prefix = IPPrefix(address: address, length: length) else {
            throw .invalid(field: field, reason: "prefix length \(length) too long or host bits set")
        }
        return prefix
    }

    mutating func readEndpoint(_ field: String, allowNames: Bool) throws(WireError) -> Endpoint {
        let host: Endpoint.Host
        switch try readU8(field) {
        case AddressTag.ipv4: host = .ipv4(IPv4Address(bytes: try readSlice(4, field))!)
        case AddressTag.ipv6: host = .ipv6(try readIPv6(field))
        case AddressTag.name where allowNames:
            let name = try readString(field, limit: DNSName.maxLength)
            host = .name(name)
        case let tag: throw .invalid(field: field, reason: "unknown endpoint kind \(tag)")
        }
        let port = try readU16(field)
        guard let endpoint = Endpoint(host: host, port: port) else {
            throw .invalid(field: field, reason: "port 0 or invalid host name")
        }
        return endpoint
    }

    mutating func readMeshID(_ field: String) throws(WireError) -> MeshID {
        MeshID(bytes: try readBytes(MeshID.byteCount, field))!
    }
}

extension ByteWriter {
    mutating func writeIPAddress(_ address: IPAddress) {
        switch address {
        case .v4: writeU8(AddressTag.ipv4)
        case .v6: writeU8(AddressTag.ipv6)
        }
        writeBytes(address.bytes)
    }

    mutating func writePrefix(_ prefix: IPPrefix) {
        writeIPAddress(prefix.address)
        writeU8(UInt8(prefix.length))
    }

    mutating func writeEndpoint(_ endpoint: Endpoint) {
        switch endpoint.host {
        case .ipv4(let address): writeIPAddress(.v4(address))
        case .ipv6(let address): writeIPAddress(.v6(address))
        case .name(let name):
            writeU8(AddressTag.name)
            writeString(name, limit: DNSName.maxLength)
        }
        writeU16(endpoint.port)
    }
}
