import Testing

@testable import MeshCore

/// Which names the zone holds, and the hosts file made from it.
@Suite struct DNSZoneTests {
    typealias W = DNSTestWire

    @Test func lookupSortsNamesIntoOriginNamesMissingAndOutside() {
        let zone = W.zone
        #expect(zone.lookup(DomainName("smeg")!) == .origin)
        #expect(zone.lookup(DomainName("SMEG.")!) == .origin)
        #expect(zone.lookup(DomainName("lab.smeg")!) == .name([]))
        #expect(
            zone.lookup(DomainName("alpha.lab.smeg")!) == .name([IPv6Address("fd00:1::1")!, IPv6Address("fd00:1::2")!]))
        #expect(zone.lookup(DomainName("0BADCAFE.lab.smeg")!) == .name([IPv6Address("fd00:1::3")!]))
        #expect(zone.lookup(DomainName("gamma.lab.smeg")!) == .nonexistent)
        #expect(zone.lookup(DomainName("smeg.example")!) == .outside)
        #expect(zone.lookup(.root) == .outside)
    }

    @Test func hostsFileListsEveryAddressWithItsNames() {
        let text = HostsFile.render(W.zone)
        #expect(
            text == HostsFile.header + """
                fd00:2::1\tbeta.aaaqeayeaudaocaj.smeg deadbeef.aaaqeayeaudaocaj.smeg
                fd00:1::1\talpha.lab.smeg 1a2b3c4d.lab.smeg
                fd00:1::2\talpha.lab.smeg 5e6f7a8b.lab.smeg
                fd00:1::3\t0badcafe.lab.smeg

                """)
        #expect(HostsFile.render(DNSZone(origin: DomainName("smeg")!, meshes: [])) == HostsFile.header)
    }

    @Test func invalidLabelsAndOverlongNamesAreLeftOut() {
        let zone = W.makeZone([
            ("Bad_Mesh", [("a", "11111111", "fd00::5")]),
            ("ok", [("has.dot", "22222222", "fd00::5"), ("-x", "33333333", "fd00::6")]),
        ])
        #expect(zone.lookup(DomainName("a.bad_mesh.smeg")!) == .nonexistent)
        #expect(zone.entries.map(\.names) == [["22222222.ok.smeg"], ["33333333.ok.smeg"]])

        // An origin of 125 characters leaves room for two 63-character labels and no more.
        let origin = (0..<5).map { _ in String(repeating: "o", count: 24) }.joined(separator: ".")
        let long = String(repeating: "m", count: 63)
        let fits = W.makeZone([(long, [(long, "44444444", "fd00::5")])], origin: origin)
        #expect(fits.entries.first?.names.count == 2)
        let tooLong = W.makeZone([(long, [(long, "44444444", "fd00::5")])], origin: "oo." + origin)
        #expect(tooLong.entries.first?.names.count == 1)
    }

    @Test func aNameSharedByTwoMeshesOrByAliasAndIdHasEachAddressOnce() {
        let zone = W.makeZone([
            ("home", [("aaaaaaaa", "aaaaaaaa", "fd00:1::1")]), ("home", [("web", "aaaaaaaa", "fd00:2::1")]),
        ])
        #expect(
            zone.lookup(DomainName("aaaaaaaa.home.smeg")!)
                == .name([IPv6Address("fd00:1::1")!, IPv6Address("fd00:2::1")!]))
        #expect(zone.entries.map(\.names) == [["aaaaaaaa.home.smeg"], ["web.home.smeg", "aaaaaaaa.home.smeg"]])
    }
}
