import ArgumentParser
import Foundation
import MeshCore

/// Synthetic peers for the bulk and timing commands: distinct keys, one IPv6 and one IPv4
/// AllowedIP each, an endpoint and a keepalive, so every attribute kind is exercised.
enum SyntheticPeers {
    static func make(count: Int) throws -> [WireGuardPeer] {
        try (0..<count).map { index in
            let high = UInt8(truncatingIfNeeded: index >> 8)
            let low = UInt8(truncatingIfNeeded: index)
            var v6 = IPNet.parseAddress("fd00:1::")!
            v6[14] = high
            v6[15] = low
            return WireGuardPeer(
                publicKey: try WireGuardKey.generatePrivate().publicKey(),
                endpoint: WireGuardEndpoint(address: IPNet.parseAddress("fd00:ee::\(index + 1)")!, port: 51820),
                allowedIPs: [IPNet(address: v6, prefixLength: 128)!, IPNet("10.\(high).\(low).1/32")!],
                persistentKeepalive: 25)
        }
    }

    /// True when `device` holds exactly `peers`' configuration (order and statistics ignored).
    static func matches(_ device: WireGuardDevice, _ peers: [WireGuardPeer]) -> Bool {
        func normalise(_ list: [WireGuardPeer]) -> [WireGuardKey: WireGuardPeer] {
            var result: [WireGuardKey: WireGuardPeer] = [:]
            for peer in list {
                var copy = peer.configuration
                copy.allowedIPs.sort()
                result[peer.publicKey] = copy
            }
            return result
        }
        return device.peers.count == peers.count && normalise(device.peers) == normalise(peers)
    }
}

struct PeerSet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peers", abstract: "Add N synthetic peers to an interface, read them back and compare.")

    @Argument var interface: String
    @Option(help: "How many peers.") var count = 500
    @Flag(help: "Delete the interface afterwards.") var delete = false
    @OptionGroup var options: BackendOptions

    func run() throws {
        let backend = try options.open(interface)
        let peers = try SyntheticPeers.make(count: count)
        var desired = try backend.device(named: interface)
        desired.peers += peers
        let started = monotonicSeconds()
        let update = try backend.reconcile(desired)
        let readBack = try backend.device(named: interface)
        let seconds = monotonicSeconds() - started
        let added = readBack.peers.filter { peer in peers.contains { $0.publicKey == peer.publicKey } }
        let ok = SyntheticPeers.matches(WireGuardDevice(name: interface, peers: added), peers)
        print(
            "peers: backend=\(backend.kind.rawValue) interface=\(interface) sent=\(update.peers.count) "
                + "read_back=\(added.count) match=\(ok) seconds=\(String(format: "%.3f", seconds))")
        if delete { try backend.deleteInterface(interface) }
        if !ok { throw ExitCode.failure }
    }
}

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Time applying N peers to an empty device, then one changed peer into it.")

    @Argument var interface: String
    @Option(help: "How many peers.") var peers = 1000
    @Option(help: "Rounds; the report gives the median.") var rounds = 3
    @OptionGroup var options: BackendOptions

    struct Result: Codable {
        var backend: WireGuardBackendKind
        var peers: Int
        var rounds: Int
        var fullApplySeconds: [Double]
        /// Read the device, diff, send: what a reconcile pass costs.
        var oneChangeSeconds: [Double]
        /// Of that, only sending the one-peer update.
        var oneChangeSendSeconds: [Double]
        var fullApplyMedian: Double
        var oneChangeMedian: Double
        var oneChangeSendMedian: Double
    }

    func run() throws {
        var full: [Double] = []
        var one: [Double] = []
        var send: [Double] = []
        var kind = WireGuardBackendKind.kernel
        for _ in 0..<rounds {
            let backend = try options.open(interface)
            kind = backend.kind
            defer { try? backend.deleteInterface(interface) }
            let set = try SyntheticPeers.make(count: peers)
            var desired = WireGuardDevice(
                name: interface, privateKey: try WireGuardKey.generatePrivate(), listenPort: 0, peers: set)
            var started = monotonicSeconds()
            try backend.reconcile(desired)
            full.append(monotonicSeconds() - started)
            guard SyntheticPeers.matches(try backend.device(named: interface), set) else {
                throw ValidationError("read back after the full apply does not match")
            }
            desired.peers[peers / 2].endpoint = WireGuardEndpoint("[fd00:ef::1]:4242")
            desired.peers[peers / 2].allowedIPs.append(IPNet("fd00:2::1/128")!)
            started = monotonicSeconds()
            let update = WireGuardReconciler.update(from: try backend.device(named: interface), to: desired)
            let sendStarted = monotonicSeconds()
            try backend.apply(update, to: interface)
            let finished = monotonicSeconds()
            one.append(finished - started)
            send.append(finished - sendStarted)
            guard update.peers.count == 1,
                SyntheticPeers.matches(try backend.device(named: interface), desired.peers)
            else {
                throw ValidationError("the one-peer change sent \(update.peers.count) peers or did not read back")
            }
        }
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        try printJSON(
            Result(
                backend: kind, peers: peers, rounds: rounds, fullApplySeconds: full, oneChangeSeconds: one,
                oneChangeSendSeconds: send, fullApplyMedian: median(full), oneChangeMedian: median(one),
                oneChangeSendMedian: median(send)))
    }
}
