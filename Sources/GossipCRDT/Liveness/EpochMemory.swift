/// The epoch line as a node saves it across a restart.
///
/// Epochs are not replicated state, so a restarted node once knew no number at all: if it then
/// led alone for a moment (nobody reachable yet), its own epochs from 1 became the reference of
/// its epoch bound, and the mesh's leader, thousands of epochs ahead, looked like a forger to
/// it from then on. Saved, the line survives the restart and is projected over the downtime.
public struct EpochMemory: Sendable, Equatable, Codable {
    /// The highest epoch number the node accepted: its own epochs continue above it.
    public var highest: UInt64
    /// Where the line furthest ahead could be when saved, at one epoch per interval from the
    /// last accepted reference: the reference of the bound after the restart.
    public var line: UInt64

    public init(highest: UInt64, line: UInt64) {
        self.highest = highest
        self.line = line
    }
}
