import GossipCRDT
import Testing

@Suite struct NodeIDTests {
    @Test func roundTripsThirtyTwoBytes() {
        let bytes = (0..<32).map { UInt8($0 * 7 & 0xff) }
        let id = NodeID(bytes: bytes)
        #expect(id?.bytes == bytes)
    }

    @Test(arguments: [0, 1, 31, 33, 64])
    func rejectsWrongLength(count: Int) {
        #expect(NodeID(bytes: [UInt8](repeating: 1, count: count)) == nil)
    }

    @Test func ordersByRawBytes() {
        var low = [UInt8](repeating: 0xff, count: 32)
        var high = [UInt8](repeating: 0x00, count: 32)
        low[0] = 0x01
        high[0] = 0x02
        #expect(NodeID(bytes: low)! < NodeID(bytes: high)!)
        var a = [UInt8](repeating: 0, count: 32)
        var b = a
        a[31] = 1
        b[31] = 2
        #expect(NodeID(bytes: a)! < NodeID(bytes: b)!)
        #expect(!(NodeID(bytes: a)! < NodeID(bytes: a)!))
    }

    @Test func describesWithShortHex() {
        var bytes = [UInt8](repeating: 0, count: 32)
        bytes[3] = 0xab
        #expect(NodeID(bytes: bytes)!.description == "000000ab")
    }
}
