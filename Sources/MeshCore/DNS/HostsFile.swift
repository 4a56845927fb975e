/// The zone as an /etc/hosts-format text: one line per member address, then its fully
/// qualified names, for systems whose resolver cannot be pointed at the DNS responder. A member
/// with an IPv4 overlay address has two lines with the same names, the IPv6 one first.
///
/// The text depends on the membership only (no date, no counter), so the daemon can compare it
/// with what it wrote last and leave an unchanged file alone.
public enum HostsFile {
    public static let header = """
        # Mesh members, written by smegd from the membership it sees; do not edit: smegd
        # replaces this file whenever that membership changes (docs/dns.md).

        """

    public static func render(_ zone: DNSZone) -> String {
        var text = header
        for entry in zone.entries {
            let names = entry.names.joined(separator: " ")
            text += "\(entry.address)\t\(names)\n"
            if let ipv4 = entry.ipv4 { text += "\(ipv4)\t\(names)\n" }
        }
        return text
    }
}
