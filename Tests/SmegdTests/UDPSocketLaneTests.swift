import Logging
import MeshCore
import NIOCore
import Testing

@testable import smegd

/// The urgent lane on a real loopback socket: picked datagrams come out of `urgentDatagrams`
/// only, the rest out of `datagrams` in order, and a flood of picked ones overflows its own
/// queue (counted) without costing the main queue a datagram.
@Suite struct UDPSocketLaneTests {
    static func bind(urgentBuffer: Int) throws -> UDPSocket {
        try UDPSocket.bind(
            host: "127.0.0.1", port: 0,
            options: .init(
                receiveBufferBytes: 4 * 1024 * 1024, urgent: { $0.first == 0xAA }, urgentBuffer: urgentBuffer),
            purpose: "the test socket", logger: Logger(label: "test"))
    }

    static func take(_ count: Int, from stream: AsyncStream<Datagram>) async -> [[UInt8]] {
        var taken: [[UInt8]] = []
        for await datagram in stream {
            taken.append(datagram.bytes)
            if taken.count == count { break }
        }
        return taken
    }

    @Test func pickedDatagramsTakeTheirOwnLane() async throws {
        let socket = try Self.bind(urgentBuffer: 16)
        defer { socket.close() }
        let target = try SocketAddress(ipAddress: "127.0.0.1", port: socket.localPort!)
        for n in 0..<6 { socket.send(n % 2 == 0 ? [0xAA, UInt8(n)] : [0x01, UInt8(n)], to: target) }
        let urgent = await Self.take(3, from: socket.urgentDatagrams)
        let normal = await Self.take(3, from: socket.datagrams)
        #expect(urgent == [[0xAA, 0], [0xAA, 2], [0xAA, 4]])
        #expect(normal == [[0x01, 1], [0x01, 3], [0x01, 5]])
        #expect(socket.receivedCount == 3)
    }

    @Test func aFloodOfUrgentDatagramsCostsTheMainQueueNothing() async throws {
        let socket = try Self.bind(urgentBuffer: 4)
        defer { socket.close() }
        let target = try SocketAddress(ipAddress: "127.0.0.1", port: socket.localPort!)
        for n in 0..<200 { socket.send([0xAA, UInt8(n)], to: target) }
        socket.send([0x01, 0xFF], to: target)
        let normal = await Self.take(1, from: socket.datagrams)
        #expect(normal == [[0x01, 0xFF]])
        // The receiver thread has taken every urgent datagram before the last one: all but the
        // four newest were dropped from their own queue, none from the main one.
        #expect(socket.urgentDroppedCount == 196)
        #expect(socket.droppedCount == 0)
        let urgent = await Self.take(4, from: socket.urgentDatagrams)
        #expect(urgent == (196..<200).map { [0xAA, UInt8($0)] })
    }

    @Test func withoutAPickerTheUrgentLaneIsFinished() async throws {
        let socket = try UDPSocket.bind(
            host: "127.0.0.1", port: 0, options: .init(), purpose: "the test socket", logger: Logger(label: "test"))
        defer { socket.close() }
        var iterator = socket.urgentDatagrams.makeAsyncIterator()
        let next = await iterator.next()
        #expect(next.map(\.bytes) == nil)
    }
}
