/// Protocol timing and sizing. The defaults are the ones the simulator's bars were measured with
/// (docs/gossip.md).
public struct GossipConfig: Sendable, Hashable {
    /// One anti-entropy round: memberlist's gossip interval, short enough that news that missed
    /// every push is repaired within a fraction of a second.
    public var syncInterval: Duration = .milliseconds(200)
    /// How often the leader opens an epoch.
    public var heartbeatInterval: Duration = .seconds(1)
    /// How long after opening an epoch the leader waits for acknowledgements before counting a
    /// miss. Short, so that a crash is noticed within 3 intervals plus this window.
    public var ackWindow: Duration = .milliseconds(300)
    /// Peers per round while there is news to spread, and peers each new piece of news is pushed
    /// to at once.
    public var fanout = 3
    /// Peers an idle digest goes to (the backstop, once per `idleDigestInterval`).
    public var idleFanout = 1
    /// Peers per round for a node with no news whose summary differs from its leader's: one
    /// peer left the last 1% of 10,000 members 0.6 s behind the rest after a prune (they are
    /// reached only by the digests of others), two bring them in with the first 99%.
    public var repairFanout = 2
    /// While a node's summary equals the one its leader signed into the current epoch, it sends
    /// one idle digest per this interval instead of one per round: the heartbeat already told
    /// it that it agrees, so the digests would only repeat that (memberlist's push-pull runs
    /// every 30 s too).
    public var idleDigestInterval: Duration = .seconds(30)
    /// How often the driver should call `tick`: the ack deadline and epoch timers are only as
    /// precise as this. Calling more often is harmless.
    public var tickInterval: Duration = .milliseconds(100)
    /// Rounds that news keeps riding along with digests after it was learnt.
    public var rumorRounds = 3
    /// Epochs in a row a member may miss before the leader prunes it.
    public var missedEpochsBeforePrune: UInt64 = 3
    /// Heartbeat intervals without a new epoch after which the leader is presumed failed.
    public var silentIntervalsBeforeFailover: UInt64 = 3
    /// Epochs a tombstone stays after every live member has it, for members that are only briefly
    /// cut off; after that only its version floor remains.
    public var tombstoneRetentionEpochs: UInt64 = 60
    /// First and longest wait between attempts to reach a pruned member again, so partitions heal.
    public var redialInitialBackoff: Duration = .seconds(2)
    public var redialMaxBackoff: Duration = .seconds(60)
    /// A pruned member is forgotten by the re-dialler after this long.
    public var redialGiveUpAfter: Duration = .seconds(24 * 3600)
    /// Entries (members and removals) the store holds at most; records of further new
    /// identities are refused. Bounds the memory and state file a flood of identities can cost.
    public var maxMembers = 10_000
    /// New identities accepted per second once the burst is spent: a flood of fresh keys grows
    /// the view slowly enough for the leader to prune those that never acknowledge, while a
    /// mass join of a few hundred nodes passes in the burst.
    public var newMembersPerSecond = 50
    public var newMemberBurst = 400
    /// Epochs a heartbeat may run ahead of what this node has seen plus the intervals elapsed
    /// since: absorbs clock-rate differences and the increments of leader failovers.
    public var epochSlack: UInt64 = 3

    public init() {}

    /// Epochs a member must have been present through, in this node's view, before it may lead
    /// here: two more than it takes the leader to prune a member that never acknowledges, so
    /// fresh identities with low keys (a sybil flood) are pruned before they could take over.
    /// Counted in epochs, not time: while a failover opens no epochs, nothing is pruned either,
    /// so time alone would let sybils come of age during one.
    public var provenAfterEpochs: UInt64 { missedEpochsBeforePrune.adding(saturating: 2) }

    /// `provenAfterEpochs` at one epoch per interval, for reports and test bounds.
    public var provenAfter: Duration { heartbeatInterval * Int(clamping: provenAfterEpochs) }
}
