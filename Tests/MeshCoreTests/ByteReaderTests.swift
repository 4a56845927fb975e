import Testing

@testable import MeshCore

@Suite struct ByteReaderTests {
    @Test func readsBigEndian() throws {
        var reader = ByteReader([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15])
        #expect(try reader.readU8("a") == 1)
        #expect(try reader.readU16("b") == 0x0203)
        #expect(try reader.readU32("c") == 0x0405_0607)
        #expect(try reader.readU64("d") == 0x0809_0A0B_0C0D_0E0F)
        try reader.finish()
        #expect(throws: WireError.truncated(field: "e")) { try reader.readU8("e") }
    }

    @Test func lengthsAreCheckedAgainstLimitAndInput() {
        var reader = ByteReader([5, 1, 2])
        #expect(throws: WireError.tooLarge(field: "s", length: 5, limit: 4)) {
            try reader.readLengthPrefixed("s", limit: 4)
        }
        var short = ByteReader([5, 1, 2])
        #expect(throws: WireError.truncated(field: "s")) { try short.readLengthPrefixed("s", limit: 10) }
        // A count that could not possibly fit in the input fails before any allocation.
        var counts = ByteReader([0xFF, 0xFF, 0])
        #expect(throws: WireError.truncated(field: "n")) {
            try counts.readCount("n", limit: 65_535, minimumElementSize: 1)
        }
    }

    @Test func stringsMustBeValidUTF8() {
        var reader = ByteReader([2, 0xC3, 0x28])
        #expect(throws: WireError.invalid(field: "s", reason: "not valid UTF-8")) {
            try reader.readString("s", limit: 10)
        }
    }

    @Test func writerMirrorsReader() throws {
        var writer = ByteWriter()
        writer.writeU16(0xBEEF)
        writer.writeString("hi", limit: 300)
        writer.writeCount(3, limit: 8)
        var reader = ByteReader(writer.bytes)
        #expect(try reader.readU16("a") == 0xBEEF)
        #expect(try reader.readString("b", limit: 300) == "hi")
        #expect(try reader.readCount("c", limit: 8, minimumElementSize: 0) == 3)
        try reader.finish()
    }

    @Test func trailingBytesAreReported() {
        let reader = ByteReader([1, 2])
        #expect(throws: WireError.trailingBytes(count: 2)) { try reader.finish() }
    }
}
