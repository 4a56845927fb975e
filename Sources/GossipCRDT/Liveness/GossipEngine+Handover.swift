/// Handing the lead over in a young mesh.
///
/// Youth is counted in adopted epochs, so members that saw a new member arrive at different
/// moments disagree for an epoch or two about whether it may lead yet. At a handover that
/// disagreement used to be permanent: a member that counted the new leader young refused its
/// line, and adopted no epoch that would have aged it. The leader that steps down settles it:
/// its followers trusted it to lead (and so to prune anyone), so its word on its successor adds
/// no power it lacked.
extension GossipEngine {
    /// A leader that stepped down tells every member about its successor's first signed
    /// heartbeat itself: the members that count the successor young would refuse it from anyone
    /// else (`isVouched`). One heartbeat per member once per handover, about what one epoch's
    /// acknowledgements cost the leader.
    mutating func handOver(_ heartbeat: Heartbeat, except from: NodeID) -> [Outgoing] {
        guard liveness.handingOver, heartbeat.epoch.leader != me, heartbeat.epoch == liveness.epoch else { return [] }
        liveness.handingOver = false
        let leader = heartbeat.epoch.leader
        return members.map(\.owner).filter { $0 != me && $0 != from && $0 != leader }.map {
            Outgoing(to: .member($0), message: .heartbeat(heartbeat))
        }
    }

    /// Whether the leader we follow hands us a newer epoch of another leader, which it follows
    /// itself now. Youth is counted in adopted epochs, so a member that saw the new leader
    /// arrive a little later than ours did would count it young until it adopts more epochs,
    /// and adopt none while it refuses the only line that still runs: four of 50 members that
    /// joined 50 ms apart stayed on a dead line for good (`GossipCoreTests`). Our leader's word
    /// is enough: it could prune anyone while we followed it, so naming its successor gives it
    /// no power it lacked. Only a newer epoch, signed by a present member allowed to lead.
    func isVouched(_ heartbeat: Heartbeat, by from: NodeID) -> Bool {
        let leader = heartbeat.epoch.leader
        guard let current = liveness.epoch, current.leader == from, from != me, leader != from, leader != me,
            !hasLeft, heartbeat.epoch.number > current.number, !cannotLead.contains(leader),
            let record = store.record(for: leader)
        else { return false }
        return validator.accept(heartbeat, leader: record)
    }
}
