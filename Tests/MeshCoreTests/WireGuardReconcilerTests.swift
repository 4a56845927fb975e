import MeshCore
import MeshLinux
import Testing

@Suite struct WireGuardReconcilerTests {
    typealias F = WireGuardFixtures

    func device(_ peers: [WireGuardPeer], key: UInt8 = 1, port: UInt16? = 51820) -> WireGuardDevice {
        WireGuardDevice(name: "wg0", privateKey: F.key(key), listenPort: port, fwmark: 0, peers: peers)
    }

    @Test func identicalStateProducesNoUpdate() {
        let peers = [F.peer(2, endpoint: "[fd00::2]:51820", allowed: ["fd00:1::2/128"], keepalive: 25)]
        #expect(WireGuardReconciler.update(from: device(peers), to: device(peers)).isEmpty)
    }

    @Test func emptyDeviceGetsKeyPortAndEveryPeer() {
        let current = WireGuardDevice(name: "wg0", listenPort: 0, fwmark: 0)
        let desired = device([F.peer(2, allowed: ["fd00::2/128"]), F.peer(3, endpoint: "10.0.0.3:1")])
        let update = WireGuardReconciler.update(from: current, to: desired)
        #expect(update.privateKey == F.key(1))
        #expect(update.listenPort == 51820)
        #expect(update.fwmark == nil)
        #expect(update.peers.map(\.publicKey) == [F.key(2), F.key(3)])
        #expect(update.peers.allSatisfy { !$0.remove && !$0.updateOnly && $0.replaceAllowedIPs })
        #expect(update.peers[1].endpoint == F.endpoint("10.0.0.3:1"))
    }

    @Test func unchangedPeersAreNeverSent() {
        let keep = (2...50).map { F.peer(UInt8($0), endpoint: "[fd00::\($0)]:1", allowed: ["fd00:1::\($0)/128"]) }
        var desired = keep
        desired[10].persistentKeepalive = 25
        let update = WireGuardReconciler.update(from: device(keep), to: device(desired))
        #expect(update.peers.count == 1)
        let change = try! #require(update.peers.first)
        #expect(change.publicKey == keep[10].publicKey)
        #expect(change.updateOnly && !change.remove)
        #expect(change.persistentKeepalive == 25)
        // Only the changed field travels.
        #expect(change.endpoint == nil && change.allowedIPs.isEmpty && !change.replaceAllowedIPs)
        #expect(change.presharedKey == nil)
    }

    @Test func missingDesiredEndpointKeepsTheRoamedOne() {
        let roamed = F.peer(2, endpoint: "[2001:db8::7]:40000", allowed: ["fd00::2/128"])
        let desired = F.peer(2, endpoint: nil, allowed: ["fd00::2/128"])
        #expect(WireGuardReconciler.update(from: device([roamed]), to: device([desired])).isEmpty)
    }

    @Test func changedEndpointIsSent() {
        let have = F.peer(2, endpoint: "[2001:db8::7]:40000")
        let want = F.peer(2, endpoint: "[2001:db8::8]:51820")
        let update = WireGuardReconciler.update(from: device([have]), to: device([want]))
        #expect(update.peers == [WireGuardPeerUpdate(publicKey: F.key(2), updateOnly: true, endpoint: want.endpoint)])
    }

    @Test func peersNotDesiredAreRemovedFirst() {
        let current = device([F.peer(2), F.peer(3)])
        let desired = device([F.peer(3), F.peer(4)])
        let update = WireGuardReconciler.update(from: current, to: desired)
        #expect(update.peers.count == 2)
        #expect(update.peers[0] == .removal(F.key(2)))
        #expect(update.peers[1].publicKey == F.key(4) && !update.peers[1].updateOnly)
        #expect(!update.replacePeers)
    }

    @Test func grownAllowedIPsAreAddedWithoutReplace() {
        let have = F.peer(2, allowed: ["fd00::2/128"])
        let want = F.peer(2, allowed: ["fd00::2/128", "fd00:9::/64"])
        let change = WireGuardReconciler.update(from: device([have]), to: device([want])).peers
        #expect(change.count == 1)
        #expect(change[0].allowedIPs == [F.net("fd00:9::/64")])
        #expect(!change[0].replaceAllowedIPs)
    }

    @Test func shrunkAllowedIPsAreReplacedWhole() {
        let have = F.peer(2, allowed: ["fd00::2/128", "fd00:9::/64"])
        let want = F.peer(2, allowed: ["fd00::2/128", "fd00:8::/64"])
        let change = WireGuardReconciler.update(from: device([have]), to: device([want])).peers
        #expect(change.count == 1)
        #expect(change[0].replaceAllowedIPs)
        #expect(change[0].allowedIPs == [F.net("fd00::2/128"), F.net("fd00:8::/64")])
    }

    @Test func allowedIPOrderDoesNotMatter() {
        let have = F.peer(2, allowed: ["fd00::2/128", "10.0.0.2/32"])
        let want = F.peer(2, allowed: ["10.0.0.2/32", "fd00::2/128", "10.0.0.2/32"])
        #expect(WireGuardReconciler.update(from: device([have]), to: device([want])).isEmpty)
    }

    @Test func presharedKeyRemovalSendsTheZeroKey() {
        var have = F.peer(2)
        have.presharedKey = F.key(9)
        let change = WireGuardReconciler.update(from: device([have]), to: device([F.peer(2)])).peers
        #expect(change.count == 1 && change[0].presharedKey == .zero)
    }

    @Test func statisticsAreIgnored() {
        var have = F.peer(2, allowed: ["fd00::2/128"])
        have.rxBytes = 1000
        have.txBytes = 2000
        have.lastHandshake = 1_700_000_000
        #expect(
            WireGuardReconciler.update(from: device([have]), to: device([F.peer(2, allowed: ["fd00::2/128"])])).isEmpty)
    }

    @Test func unmanagedDeviceFieldsAreLeftAlone() {
        var desired = device([], port: nil)
        desired.privateKey = nil
        desired.fwmark = nil
        var current = device([], key: 7, port: 4000)
        current.fwmark = 9
        #expect(WireGuardReconciler.update(from: current, to: desired).isEmpty)
    }

    @Test func duplicateDesiredPeersCollapse() {
        let update = WireGuardReconciler.update(from: device([]), to: device([F.peer(2), F.peer(2)]))
        #expect(update.peers.count == 1)
    }
}

@Suite struct NetlinkLinkStateTests {
    typealias F = WireGuardFixtures

    func address(_ text: String, flags: UInt32 = 0) -> InterfaceAddress {
        InterfaceAddress(linkIndex: 3, prefix: F.net(text), flags: flags)
    }

    @Test func addressesAreAddedAndRemovedButLinkLocalStays() {
        let current = [address("fe80::1/64"), address("fd00::1/64"), address("fd00::9/64")]
        let plan = LinkStateReconciler.addressPlan(
            current: current, desired: [F.net("fd00::1/64"), F.net("fd00::2/64")], options: AddressOptions())
        #expect(plan.add == [F.net("fd00::2/64")])
        #expect(plan.remove == [F.net("fd00::9/64")])
    }

    @Test func aMissingNoPrefixRouteFlagIsFixed() {
        let plan = LinkStateReconciler.addressPlan(
            current: [address("fd00::1/64")], desired: [F.net("fd00::1/64")],
            options: AddressOptions(noPrefixRoute: true))
        #expect(plan.add == [F.net("fd00::1/64")])
        #expect(plan.remove.isEmpty)
        let done = LinkStateReconciler.addressPlan(
            current: [address("fd00::1/64", flags: 0x200)], desired: [F.net("fd00::1/64")],
            options: AddressOptions(noPrefixRoute: true))
        #expect(done.isEmpty)
    }

    @Test func onlyMeshRoutesAreEverRemoved() {
        let kernel = RouteEntry(destination: F.net("fe80::/64"), linkIndex: 3, proto: 2, metric: 256)
        let stale = RouteEntry(destination: F.net("fd00:5::/64"), linkIndex: 3, metric: 1024)
        let kept = RouteEntry(destination: F.net("fd00:6::/64"), linkIndex: 3, metric: 1024)
        let plan = LinkStateReconciler.routePlan(
            current: [kernel, stale, kept],
            desired: [
                RouteEntry(destination: F.net("fd00:6::/64"), linkIndex: 3),
                RouteEntry(destination: F.net("10.1.0.0/16"), linkIndex: 3),
            ])
        #expect(plan.remove == [stale])
        #expect(plan.replace.map(\.destination) == [F.net("10.1.0.0/16")])
    }

    @Test func aRouteOnAnotherLinkIsReplaced() {
        let current = [RouteEntry(destination: F.net("fd00:6::/64"), linkIndex: 4, metric: 1024)]
        let plan = LinkStateReconciler.routePlan(
            current: current, desired: [RouteEntry(destination: F.net("fd00:6::/64"), linkIndex: 3)])
        #expect(plan.replace.count == 1 && plan.remove.isEmpty)
    }
}
