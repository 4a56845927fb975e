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

    /// The contiguous fast path, the copy taken for other collections and a byte-by-byte
    /// reference agree on every input, including slices that do not start at index 0.
    @Test func contiguousAndGenericPathsAgree() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            let padded = (0..<40).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let start = Int.random(in: 0...8, using: &generator)
            let slice = padded[start..<start + 32]
            let bytes = Array(slice)
            var reference: [UInt64] = [0, 0, 0, 0]
            for index in 0..<32 { reference[index / 8] = reference[index / 8] << 8 | UInt64(bytes[index]) }
            let expected = NodeID(reference[0], reference[1], reference[2], reference[3])
            #expect(NodeID(bytes: bytes) == expected)
            #expect(NodeID(bytes: slice) == expected)
            #expect(NodeID(bytes: bytes.lazy.map { $0 }) == expected)  // not contiguous
            #expect(expected.bytes == bytes)
        }
    }
}
