/// The nftables form of an `AccessFilter`, inside the mesh's own table (`PacketFilter`).
///
/// Lookups are verdict maps keyed by addresses (a pair for relays), each element jumping to
/// the chain of one kind of traffic: a policy has few distinct kinds (unions of its rules), so
/// the chains stay few while the maps grow with the members, and one lookup decides a packet
/// whatever the number of members. The chains match `ct original proto-dst`, the destination
/// port of the connection's first packet, so one chain serves both directions of a flow.
extension AccessFilter {
    /// The table body's lines (indented for `table inet NAME { ... }`) on `interface`.
    public func script(interface: String) -> [String] {
        let (openedInOrder, answeredInOrder, pairsInOrder) = (
            Self.sorted(opened), Self.sorted(answered), relayed.sorted { Self.precedes($0.key, $1.key) }
        )
        let classes = Self.classes(
            openedInOrder.map(\.value) + answeredInOrder.map(\.value) + pairsInOrder.map(\.value))
        var index: [AccessTraffic: Int] = [:]
        for (position, traffic) in classes.enumerated() { index[traffic] = position }
        var names: [IPAddress: String] = [:]
        func name(_ address: IPAddress) -> String {
            if let known = names[address] { return known }
            let text = address.description
            names[address] = text
            return text
        }
        var lines: [String] = []
        for (index, traffic) in classes.enumerated() {
            lines.append("    chain allow_\(index) {")
            lines += Self.rules(of: traffic).map { "        " + $0 }
            lines.append("    }")
        }
        func jump(_ traffic: AccessTraffic) -> String { "jump allow_\(index[traffic]!)" }
        var maps = Set<String>()
        func map(_ name: String, type: String, _ elements: [(String, AccessTraffic)]) {
            guard !elements.isEmpty else { return }
            maps.insert(name)
            lines.append("    map \(name) {")
            lines.append("        type \(type) : verdict")
            lines.append(
                "        elements = { "
                    + elements.map { "\($0.0) : \(jump($0.1))" }.joined(separator: ",\n            ")
                    + " }")
            lines.append("    }")
        }
        for (suffix, bits, type) in [("6", 128, "ipv6_addr"), ("4", 32, "ipv4_addr")] {
            func of(_ entries: [(key: IPAddress, value: AccessTraffic)]) -> [(String, AccessTraffic)] {
                entries.filter { $0.key.bitCount == bits }.map { (name($0.key), $0.value) }
            }
            map("opened" + suffix, type: type, of(openedInOrder))
            map("answered" + suffix, type: type, of(answeredInOrder))
            map(
                "relayed" + suffix, type: "\(type) . \(type)",
                pairsInOrder.filter { $0.key.source.bitCount == bits }.map {
                    (name($0.key.source) + " . " + name($0.key.destination), $0.value)
                })
        }
        let services = gossip.filter { $0.address.bitCount == 128 }.sorted {
            Self.precedes($0.address, $1.address) || ($0.address == $1.address && $0.port < $1.port)
        }
        if !services.isEmpty {
            lines.append("    set gossip6 {")
            lines.append("        type ipv6_addr . inet_service")
            lines.append(
                "        elements = { "
                    + services.map { "\($0.address) . \($0.port)" }.joined(separator: ",\n            ")
                    + " }")
            lines.append("    }")
        }
        let gossipRule =
            services.isEmpty
            ? [] : ["meta nfproto ipv6 meta l4proto udp ct original ip6 daddr . ct original proto-dst @gossip6 accept"]
        func lookups(_ direction: String?, _ name: String, key: (String) -> String) -> [String] {
            [("6", "ipv6", "ip6"), ("4", "ipv4", "ip")].compactMap { suffix, family, selector in
                guard maps.contains(name + suffix) else { return nil }
                let prefix = direction.map { "ct direction \($0) " } ?? ""
                return "\(prefix)meta nfproto \(family) \(key(selector)) vmap @\(name)\(suffix)"
            }
        }
        // Flows to addresses outside the mesh networks: exits and routes, which their
        // advertisers check; a family without a mesh network has no member addresses at all.
        func outside(_ direction: String?) -> [String] {
            let prefix = direction.map { "ct direction \($0) " } ?? ""
            return [("ipv6", "ip6", 128), ("ipv4", "ip", 32)].map { family, selector, bits in
                guard let network = meshNetworks.first(where: { $0.address.bitCount == bits }) else {
                    return "\(prefix)meta nfproto \(family) accept"
                }
                return "\(prefix)meta nfproto \(family) ct original \(selector) daddr != \(network) accept"
            }
        }
        let name = "\"\(interface)\""
        var input = [
            "type filter hook input priority filter; policy accept;", "iifname != \(name) accept",
            "ct state related accept",
        ]
        input += gossipRule
        input += lookups("original", "opened") { "ct original \($0) saddr" }
        input += outside("reply")
        input += lookups("reply", "answered") { "ct original \($0) daddr" }
        input.append("counter drop")
        let forward = [
            "type filter hook forward priority filter; policy accept;",
            "iifname != \(name) oifname != \(name) accept", "ct state related accept",
            "iifname \(name) oifname \(name) jump access_relay", "iifname \(name) jump access_out",
            "jump access_into",
        ]
        var relay = gossipRule + outside(nil)
        relay += lookups(nil, "relayed") { "ct original \($0) saddr . ct original \($0) daddr" }
        relay.append("counter drop")
        let out = lookups("original", "opened") { "ct original \($0) saddr" } + ["counter drop"]
        let into = lookups("reply", "opened") { "ct original \($0) saddr" } + ["counter drop"]
        for (chain, rules) in [
            ("access_relay", relay), ("access_out", out), ("access_into", into), ("access_input", input),
            ("access_forward", forward),
        ] {
            lines.append("    chain \(chain) {")
            lines += rules.map { "        " + $0 }
            lines.append("    }")
        }
        return lines
    }

    /// The distinct kinds of traffic the maps jump to, in a stable order.
    var trafficClasses: [AccessTraffic] {
        Self.classes(
            Self.sorted(opened).map(\.value) + Self.sorted(answered).map(\.value)
                + relayed.sorted { Self.precedes($0.key, $1.key) }.map(\.value))
    }

    /// `values` without repeats, in the order they first appear.
    private static func classes(_ values: [AccessTraffic]) -> [AccessTraffic] {
        var seen = Set<AccessTraffic>()
        return values.filter { seen.insert($0).inserted }
    }

    /// The rules of one kind of traffic's chain: each accepts what it allows.
    static func rules(of traffic: AccessTraffic) -> [String] {
        if traffic.anyProtocol { return ["accept"] }
        var rules: [String] = []
        for (proto, ports) in [("tcp", traffic.tcp), ("udp", traffic.udp)] where !ports.isEmpty {
            if ports.isAll {
                rules.append("meta l4proto \(proto) accept")
            } else {
                let list = ports.ranges.map {
                    $0.lowerBound == $0.upperBound ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)"
                }
                rules.append("meta l4proto \(proto) ct original proto-dst { \(list.joined(separator: ", ")) } accept")
            }
        }
        if traffic.icmp { rules.append("meta l4proto { icmp, ipv6-icmp } accept") }
        return rules
    }

    private static func sorted(_ map: [IPAddress: AccessTraffic]) -> [(key: IPAddress, value: AccessTraffic)] {
        map.sorted { precedes($0.key, $1.key) }
    }

    static func precedes(_ a: Pair, _ b: Pair) -> Bool {
        precedes(a.source, b.source) || (a.source == b.source && precedes(a.destination, b.destination))
    }

    static func precedes(_ a: IPAddress, _ b: IPAddress) -> Bool {
        switch (a, b) {
        case (.v4(let x), .v4(let y)): x < y
        case (.v6(let x), .v6(let y)): x < y
        case (.v4, .v6): true
        case (.v6, .v4): false
        }
    }
}
