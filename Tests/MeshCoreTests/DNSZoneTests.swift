import Testing

@testable import MeshCore

/// Which names the zone holds, and the hosts file made from it.
@Suite struct DNSZoneTests {
    typealias W = DNSTestWire

    @Test func lookupSortsNamesIntoOriginNamesMissingAndOutside() {
        let zone = W.zone
        #expect(zone.lookup(DomainName("smeg")!) == .origin)
        #expect(zone.lookup(DomainName("SMEG.")!) == .origin)
        #expect(zone.lookup(DomainName("lab.smeg")!) == .name(nil))
        #expect(zone.lookup(DomainName("alpha.lab.smeg")!) == .name(IPv6Address("fd00:1::1")!))
        #expect(zone.lookup(DomainName("5e6f7a8b.lab.smeg")!) == .name(IPv6Address("fd00:1::2")!))
        #expect(zone.lookup(DomainName("0BADCAFE.lab.smeg")!) == .name(IPv6Address("fd00:1::3")!))
        #expect(zone.lookup(DomainName("gamma.lab.smeg")!) == .nonexistent)
        #expect(zone.lookup(DomainName("web.lab.smeg")!) == .nonexistent)
        #expect(zone.lookup(DomainName("smeg.example")!) == .outside)
        #expect(zone.lookup(.root) == .outside)
    }

    @Test func hostsFileListsEveryAddressWithItsNames() {
        let text = HostsFile.render(W.zone)
        #expect(
            text == HostsFile.header + """
                fd00:2::1\tbeta.aaaqeayeaudaocaj.smeg deadbeef.aaaqeayeaudaocaj.smeg
                fd00:1::1\talpha.lab.smeg 1a2b3c4d.lab.smeg
                fd00:1::2\t5e6f7a8b.lab.smeg
                fd00:1::3\t0badcafe.lab.smeg

                """)
        #expect(HostsFile.render(DNSZone(origin: DomainName("smeg")!, meshes: [])) == HostsFile.header)
    }

    @Test func invalidLabelsAreLeftOutAndOverlongNamesDropped() {
        let zone = W.makeZone([
            ("Bad_Mesh", [("a", "11111111", "fd00::5")]),
            ("ok", [("has.dot", "22222222", "fd00::5"), ("-x", "33333333", "fd00::6")]),
        ])
        // A mesh whose name is no host label is named by its id instead.
        #expect(zone.lookup(DomainName("a.bad_mesh.smeg")!) == .nonexistent)
        #expect(zone.lookup(DomainName("a.aaaaaaaaaaaaaaaa.smeg")!) == .name(IPv6Address("fd00::5")!))
        #expect(
            zone.entries.map(\.names) == [
                ["a.aaaaaaaaaaaaaaaa.smeg", "11111111.aaaaaaaaaaaaaaaa.smeg"], ["22222222.ok.smeg"],
                ["33333333.ok.smeg"],
            ])

        // An origin of 125 characters leaves room for two 63-character labels and no more.
        let origin = (0..<5).map { _ in String(repeating: "o", count: 24) }.joined(separator: ".")
        let long = String(repeating: "m", count: 63)
        let fits = W.makeZone([(long, [(long, "44444444", "fd00::5")])], origin: origin)
        #expect(fits.entries.first?.names.count == 2)
        let tooLong = W.makeZone([(long, [(long, "44444444", "fd00::5")])], origin: "oo." + origin)
        #expect(tooLong.entries.first?.names.count == 1)
    }

    /// Two meshes named "home" are both named by their ids, and an alias shaped like a short id
    /// names no one: otherwise one name would answer for two members.
    @Test func sharedMeshNamesAndShortIdAliasesGiveNoSharedName() {
        let zone = W.makeZone([
            ("home", [("aaaaaaaa", "bbbbbbbb", "fd00:1::1")]), ("home", [("web", "aaaaaaaa", "fd00:2::1")]),
        ])
        #expect(zone.lookup(DomainName("home.smeg")!) == .nonexistent)
        #expect(zone.lookup(DomainName("aaaaaaaa.aaaaaaaaaaaaaaaa.smeg")!) == .nonexistent)
        #expect(zone.lookup(DomainName("aaaaaaaa.aeaqcaibaeaqcaib.smeg")!) == .name(IPv6Address("fd00:2::1")!))
        #expect(
            zone.entries.map(\.names) == [
                ["bbbbbbbb.aaaaaaaaaaaaaaaa.smeg"], ["web.aeaqcaibaeaqcaib.smeg", "aaaaaaaa.aeaqcaibaeaqcaib.smeg"],
            ])
    }

    /// A mesh may be named like another mesh's id; then neither label is ambiguous.
    @Test func aMeshNamedLikeAnotherMeshsIdFallsBackToItsOwnId() throws {
        let other = try #require(MeshID("aeaqcaibaeaqcaib"))
        let zone = DNSZone(
            origin: DomainName("smeg")!,
            meshes: [
                DNSZone.Mesh(
                    id: Fixtures.mesh1, name: other.text,
                    members: [DNSZone.Member(id: W.node("11111111"), alias: nil, address: IPv6Address("fd00:1::1")!)]),
                DNSZone.Mesh(
                    id: other, name: nil,
                    members: [DNSZone.Member(id: W.node("22222222"), alias: nil, address: IPv6Address("fd00:2::1")!)]),
            ])
        #expect(zone.lookup(DomainName("22222222.\(other.text).smeg")!) == .name(IPv6Address("fd00:2::1")!))
        #expect(zone.lookup(DomainName("11111111.\(other.text).smeg")!) == .nonexistent)
        #expect(zone.lookup(DomainName("11111111.\(Fixtures.mesh1.text).smeg")!) == .name(IPv6Address("fd00:1::1")!))
    }
}
