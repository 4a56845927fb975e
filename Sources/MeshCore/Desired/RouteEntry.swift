/// One route in the main table (or another table), as rtnetlink reports or we install it.
public struct RouteEntry: Hashable, Sendable {
    public var destination: IPNet
    public var gateway: [UInt8]?
    public var linkIndex: Int32?
    public var table: UInt32
    /// Who installed it (`RTPROT_*`); reconciliation only ever touches its own protocol.
    public var proto: UInt8
    public var metric: UInt32?

    public init(
        destination: IPNet, gateway: [UInt8]? = nil, linkIndex: Int32? = nil, table: UInt32 = RouteEntry.mainTable,
        proto: UInt8 = RouteEntry.meshProtocol, metric: UInt32? = nil
    ) {
        self.destination = destination
        self.gateway = gateway
        self.linkIndex = linkIndex
        self.table = table
        self.proto = proto
        self.metric = metric
    }

    /// `RT_TABLE_MAIN` of <linux/rtnetlink.h>, a kernel ABI constant.
    public static let mainTable: UInt32 = 254

    /// The `rtm_protocol` smegmesh marks its routes with, so it can tell them from routes the
    /// kernel, DHCP or the operator installed and never removes those. The kernel does not
    /// interpret values above `RTPROT_STATIC`; 0x5e is unassigned in iproute2's rt_protos.
    public static let meshProtocol: UInt8 = 0x5e
}
