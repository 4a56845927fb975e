import Testing

@testable import MeshCore

/// The nftables rules of an exit, from membership alone: which node gets which, and the script.
@Suite struct PacketFilterTests {
    let mesh = Fixtures.mesh1
    let ipv4Prefix = IPPrefix("100.80.0.0/16")!

    func record(_ identity: NodeIdentity, _ role: NodeRecord.Role, routes: [IPPrefix] = [], host: Int) -> NodeRecord {
        var record = NodeRecord(
            identity: identity, mesh: mesh, endpoints: role == .peer ? [Endpoint("192.0.2.\(host):51820")!] : [],
            wireGuardPort: 51820, gossipPort: 51900, role: role)
        record.routes = routes.map { AdvertisedRoute(prefix: $0) }
        return record
    }

    /// Every member gets an IPv4 address (in 100.80.0.0/16) unless listed in `without`.
    func state(
        of me: NodeIdentity, _ role: NodeRecord.Role, members: [NodeRecord], ipv4Prefix: IPPrefix?,
        without: Set<WireGuardPublicKey> = []
    ) -> DesiredMeshState {
        var inputs = DesiredMeshState.Inputs(
            mesh: mesh, identity: me, interfaceName: "smegtest", listenPort: 51820, role: role, keepalive: nil,
            members: members)
        if let ipv4Prefix {
            inputs.ipv4Prefix = ipv4Prefix
            for (index, member) in members.enumerated() where !without.contains(member.wireGuardKey) {
                inputs.ipv4[member.wireGuardKey] = IPv4Address("100.80.0.\(index + 1)")!
            }
        }
        return DesiredMeshState.compute(inputs)
    }

    @Test func anExitForBothFamiliesMasqueradesIPv4AndClampsBoth() throws {
        let exit = try NodeIdentity.generate()
        let peer = try NodeIdentity.generate()
        let client = try NodeIdentity.generate()
        let members = [
            record(exit, .peer, routes: [.ipv4Default, .ipv6Default], host: 1), record(peer, .peer, host: 2),
            record(client, .client, host: 3),
        ]
        let exitState = state(of: exit, .peer, members: members, ipv4Prefix: ipv4Prefix)
        #expect(exitState.filter == PacketFilter(masquerade: [ipv4Prefix], clampIPv4: true, clampIPv6: true))
        #expect(!exitState.needsSourceValidMark, "the exit routes no default into the mesh")
        #expect(exitState.forwardsIPv4 && exitState.forwardsIPv6)
        for (identity, role) in [(peer, NodeRecord.Role.peer), (client, .client)] {
            let user = state(of: identity, role, members: members, ipv4Prefix: ipv4Prefix)
            #expect(
                user.filter == PacketFilter(keepInboundReplies: true),
                "a user of the exit only keeps replies to inbound connections off the tunnel")
            #expect(user.needsSourceValidMark, "an IPv4 default route goes through the mesh")
            #expect(user.routes.map(\.destination).contains(IPNet(.ipv4Default)))
        }
    }

    /// Replies to connections that came from outside leave the way they came: the connection is
    /// marked at its first packet from a non-mesh interface, and every packet of it carries the
    /// mark the exit's policy rule skips.
    @Test func aUserOfAnExitMarksInboundConnectionsSoTheirRepliesBypassIt() {
        let script = PacketFilter(keepInboundReplies: true).script(interface: "smegtest", mtu: 1420)
        #expect(
            script == """
                table inet smegtest
                delete table inet smegtest
                table inet smegtest {
                    chain inbound {
                        type filter hook prerouting priority mangle; policy accept;
                        iifname != "smeg*" ct state new counter ct mark set 0x536d67
                    }
                    chain replies {
                        type route hook output priority mangle; policy accept;
                        ct mark 0x536d67 counter meta mark set 0x536d67
                    }
                }

                """)
        #expect(PacketFilter.bypassMark == 0x0053_6d67)
        #expect(!PacketFilter(keepInboundReplies: true).isEmpty)
    }

    @Test func anIPv6OnlyExitClampsIPv6AndMasqueradesNothing() throws {
        let exit = try NodeIdentity.generate()
        let peer = try NodeIdentity.generate()
        let members = [record(exit, .peer, routes: [.ipv6Default], host: 1), record(peer, .peer, host: 2)]
        let exitState = state(of: exit, .peer, members: members, ipv4Prefix: ipv4Prefix)
        #expect(exitState.filter == PacketFilter(clampIPv6: true))
        let user = state(of: peer, .peer, members: members, ipv4Prefix: ipv4Prefix)
        #expect(!user.needsSourceValidMark, "no IPv4 default route through the mesh")
        #expect(user.filter == PacketFilter(keepInboundReplies: true), "its ::/0 goes through the exit")
    }

    @Test func anIPv4ExitOfAMeshWithoutIPv4OrWithoutAnAddressHasNoRulesAndNoTakers() throws {
        let exit = try NodeIdentity.generate()
        let peer = try NodeIdentity.generate()
        let members = [record(exit, .peer, routes: [.ipv4Default], host: 1), record(peer, .peer, host: 2)]
        // A mesh made before IPv4 addresses: no member could use an IPv4 exit.
        #expect(state(of: exit, .peer, members: members, ipv4Prefix: nil).filter.isEmpty)
        let legacyUser = state(of: peer, .peer, members: members, ipv4Prefix: nil)
        #expect(legacyUser.routes.isEmpty && !legacyUser.needsSourceValidMark)
        // An exit whose address is not assigned yet.
        let pending = state(
            of: exit, .peer, members: members, ipv4Prefix: ipv4Prefix, without: [exit.wireGuardPublicKey])
        #expect(pending.filter.isEmpty)
        let user = state(of: peer, .peer, members: members, ipv4Prefix: ipv4Prefix, without: [exit.wireGuardPublicKey])
        #expect(user.routes.isEmpty, "nobody sends IPv4 to an exit with no route back")
    }

    @Test func aNodeThatIsNoExitHasNoRules() throws {
        let lan = try NodeIdentity.generate()
        let peer = try NodeIdentity.generate()
        let members = [
            record(lan, .peer, routes: [IPPrefix("10.42.0.0/16")!, IPPrefix("fd00:42::/48")!], host: 1),
            record(peer, .peer, host: 2),
        ]
        #expect(state(of: lan, .peer, members: members, ipv4Prefix: ipv4Prefix).filter.isEmpty)
        #expect(!state(of: peer, .peer, members: members, ipv4Prefix: ipv4Prefix).needsSourceValidMark)
    }

    @Test func routesBridgedFromAnotherMeshMakeNoExit() {
        let bridged = AdvertisedRoute(prefix: .ipv4Default, path: [Fixtures.mesh2])
        #expect(PacketFilter.forNode(advertised: [bridged], ipv4Prefix: ipv4Prefix).isEmpty)
        let own = PacketFilter.forNode(advertised: [AdvertisedRoute(prefix: .ipv4Default)], ipv4Prefix: ipv4Prefix)
        #expect(own == PacketFilter(masquerade: [ipv4Prefix], clampIPv4: true))
    }

    @Test func theScriptReplacesTheTableInOneTransaction() {
        let filter = PacketFilter(masquerade: [ipv4Prefix], clampIPv4: true, clampIPv6: true)
        #expect(
            filter.script(interface: "smegabcd1234", mtu: 1420) == """
                table inet smegabcd1234
                delete table inet smegabcd1234
                table inet smegabcd1234 {
                    chain forward {
                        type filter hook forward priority mangle; policy accept;
                        iifname "smegabcd1234" meta nfproto ipv4 tcp flags & (syn | rst) == syn tcp option maxseg size > 1380 counter tcp option maxseg size set 1380
                        oifname "smegabcd1234" meta nfproto ipv4 tcp flags & (syn | rst) == syn tcp option maxseg size > 1380 counter tcp option maxseg size set 1380
                        iifname "smegabcd1234" meta nfproto ipv6 tcp flags & (syn | rst) == syn tcp option maxseg size > 1360 counter tcp option maxseg size set 1360
                        oifname "smegabcd1234" meta nfproto ipv6 tcp flags & (syn | rst) == syn tcp option maxseg size > 1360 counter tcp option maxseg size set 1360
                    }
                    chain postrouting {
                        type nat hook postrouting priority srcnat; policy accept;
                        ip saddr 100.80.0.0/16 oifname != "smeg*" counter masquerade
                    }
                }

                """)
        #expect(filter.summary == "masquerade 100.80.0.0/16, clamp TCP MSS (IPv4, IPv6)")
    }

    @Test func anIPv6ExitHasNoNATChainAndNoRulesMeansNoTable() {
        let script = PacketFilter(clampIPv6: true).script(interface: "smegx", mtu: 1280)
        #expect(!script.contains("nat") && !script.contains("ipv4"))
        #expect(script.contains("maxseg size > 1220"))
        #expect(
            PacketFilter().script(interface: "smegx", mtu: 1420) == "table inet smegx\ndelete table inet smegx\n")
        #expect(PacketFilter().summary == "no rules")
    }
}
