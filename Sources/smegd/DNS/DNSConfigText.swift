import Glibc
import MeshCore

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Reads and writes the `dnsListen` and `dnsZone` settings.
enum DNSConfigText {
    static let listenExpected =
        "\"off\" or a comma-separated list of ADDRESS:PORT (IPv6 as [ADDRESS]:PORT), no wildcard address"
    static let zoneExpected = "a DNS name of at most \(maximumZoneLength) characters, such as smeg or mesh.example.com"
    /// More sockets than this is a configuration mistake rather than a deployment.
    static let maximumListenAddresses = 8
    /// A member name adds two labels of up to 63 characters and two dots to the zone, and the
    /// whole name must stay within 253 characters: 253 − 128 = 125.
    static let maximumZoneLength = 125

    /// `off` is the empty list. Each address must be a literal, specific address: the reply
    /// leaves from the address the socket is bound to, and a client drops a reply from another
    /// address than it asked, which a wildcard bind on a multi-homed host would risk.
    static func listen(_ value: String) -> [Endpoint]? {
        if value == "off" { return [] }
        var endpoints: [Endpoint] = []
        for piece in value.split(separator: ",", omittingEmptySubsequences: false) {
            let text = piece.trimmingWhitespace()
            guard let endpoint = Endpoint(text), !endpoints.contains(endpoint) else { return nil }
            switch endpoint.host {
            case .ipv4(let address) where !address.isUnspecified && !address.isMulticast: break
            case .ipv6(let address) where !address.isUnspecified && !address.isMulticast: break
            default: return nil
            }
            endpoints.append(endpoint)
        }
        return (1...maximumListenAddresses).contains(endpoints.count) ? endpoints : nil
    }

    static func listenText(_ endpoints: [Endpoint]) -> String {
        endpoints.map(\.description).joined(separator: ",")
    }

    /// Lowercased, without a final dot.
    static func zone(_ value: String) -> String? {
        var name = value.lowercased()
        if name.hasSuffix(".") { name.removeLast() }
        guard name.utf8.count <= maximumZoneLength, DNSName.isValid(name) else { return nil }
        return name
    }
}
