/// Turns "what the device has" and "what it should have" into the smallest update.
///
/// The rules protect live traffic: an unchanged peer is never touched (removing and re-adding
/// it would drop its session and its roamed endpoint); a desired endpoint of nil keeps whatever
/// endpoint the device learned, which is how NAT'd clients stay reachable; only fields that
/// differ are sent; AllowedIPs that only grew are added without `replace`, so the kernel never
/// sees a window in which a prefix is unrouted.
public enum WireGuardReconciler {
    public static func update(from current: WireGuardDevice, to desired: WireGuardDevice) -> WireGuardDeviceUpdate {
        var update = WireGuardDeviceUpdate()
        if let key = desired.privateKey, key != current.privateKey { update.privateKey = key }
        if let port = desired.listenPort, port != current.listenPort { update.listenPort = port }
        if let mark = desired.fwmark, mark != (current.fwmark ?? 0) { update.fwmark = mark }

        var existing: [WireGuardKey: WireGuardPeer] = [:]
        for peer in current.peers { existing[peer.publicKey] = peer }
        var wanted = Set<WireGuardKey>()
        var changes: [WireGuardPeerUpdate] = []
        for peer in desired.peers where wanted.insert(peer.publicKey).inserted {
            if let have = existing[peer.publicKey] {
                if let change = peerChange(from: have, to: peer) { changes.append(change) }
            } else {
                var added = WireGuardPeerUpdate.add(peer)
                added.allowedIPs = unique(peer.allowedIPs)
                changes.append(added)
            }
        }
        // Removals first, so an AllowedIP handed from a leaving peer to a new one ends with the new one.
        let removals = current.peers.filter { !wanted.contains($0.publicKey) }.map {
            WireGuardPeerUpdate.removal($0.publicKey)
        }
        update.peers = removals + changes
        return update
    }

    /// The fields of one existing peer that differ, or nil when none do.
    static func peerChange(from have: WireGuardPeer, to want: WireGuardPeer) -> WireGuardPeerUpdate? {
        var change = WireGuardPeerUpdate(publicKey: want.publicKey, updateOnly: true)
        var changed = false
        if want.presharedKey != have.presharedKey {
            change.presharedKey = want.presharedKey ?? .zero
            changed = true
        }
        if let endpoint = want.endpoint, endpoint != have.endpoint {
            change.endpoint = endpoint
            changed = true
        }
        if want.persistentKeepalive != have.persistentKeepalive {
            change.persistentKeepalive = want.persistentKeepalive
            changed = true
        }
        let wantIPs = unique(want.allowedIPs)
        let haveSet = Set(have.allowedIPs)
        let wantSet = Set(wantIPs)
        if wantSet != haveSet {
            if haveSet.isSubset(of: wantSet) {
                change.allowedIPs = wantIPs.filter { !haveSet.contains($0) }
            } else {
                change.replaceAllowedIPs = true
                change.allowedIPs = wantIPs
            }
            changed = true
        }
        return changed ? change : nil
    }

    private static func unique(_ prefixes: [IPNet]) -> [IPNet] {
        var seen = Set<IPNet>()
        return prefixes.filter { seen.insert($0).inserted }
    }
}
