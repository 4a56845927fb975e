import GossipCRDT

/// Naming one present member for a verb that acts on it (`smegctl ping`), in any of the forms
/// an operator has at hand: what `smegctl get` prints (alias, short id, key) or what they would
/// type into `ping6` (its overlay address, IPv6 or IPv4).
extension MeshNode {
    /// A present member, as the control API names it.
    public struct NamedMember: Equatable, Sendable {
        public var key: WireGuardPublicKey
        /// The alias it holds (`AliasTable`), not merely claims.
        public var alias: String?
        public var shortId: String
        public var address: IPv6Address
        public var isSelf: Bool
    }

    /// The present member `name` names: an overlay address first (no alias or key looks like
    /// one), then as the owners' verbs resolve members (alias, key, unique start of a key or
    /// short id). Members that left, were pruned or are not yet known are refused, with the
    /// same words as those verbs.
    public func member(named name: String) throws(OwnerActionError) -> NamedMember {
        var id = try memberID(byAddress: name)
        if id == nil { id = try resolve(name, allowUnknownKey: false) }
        guard let id, let record = records[id], engine.store.isPresent(id) else { throw .unknownMember(name) }
        return NamedMember(
            key: record.wireGuardKey, alias: aliasTable().alias(of: id), shortId: AliasTable.shortID(of: id),
            address: record.address, isSelf: id == identity.nodeID)
    }

    /// The member whose IPv6 or IPv4 overlay address `text` is; nil when `text` is no address.
    private func memberID(byAddress text: String) throws(OwnerActionError) -> NodeID? {
        if let v6 = IPv6Address(text) {
            guard let id = records.first(where: { $0.value.address == v6 })?.key else { throw .unknownMember(text) }
            return id
        }
        if let v4 = IPv4Address(text) {
            guard let id = records.first(where: { ipv4?.address(of: $0.value.signingKey) == v4 })?.key else {
                throw .unknownMember(text)
            }
            return id
        }
        return nil
    }
}
