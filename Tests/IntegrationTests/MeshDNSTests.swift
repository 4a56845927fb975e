import Foundation
import Testing

/// The DNS responder and the hosts export of a real smegd, asked with the real `dig`.
@Suite(.serialized) struct MeshDNSTests {
    struct DigAnswer {
        var status: String
        var addresses: [String]
    }

    /// `dig @127.0.0.1 -p PORT NAME TYPE`, read back into the status and the AAAA and A answers
    /// (in the order of the answer section).
    static func dig(_ name: String, _ type: String = "AAAA", port: Int) throws -> DigAnswer {
        let result = try ProcessRunner.run(
            URL(fileURLWithPath: "/usr/bin/dig"),
            // +notcp: dig 9.18 asks ANY over TCP, and smegd answers on UDP only (docs/dns.md).
            ["@127.0.0.1", "-p", "\(port)", "+tries=2", "+timeout=2", "+norecurse", "+notcp", name, type])
        let status =
            result.stdout.firstMatch(of: /status: ([A-Z]+)/).map { String($0.1) } ?? "no answer: \(result.stdout)"
        let addresses = result.stdout.split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard !line.hasPrefix(";"), fields.count == 5, fields[3] == "AAAA" || fields[3] == "A" else { return nil }
            return String(fields[4])
        }
        return DigAnswer(status: status, addresses: addresses)
    }

    /// Asks until `accept` holds or five seconds pass: the zone may be a second behind.
    static func dig(_ name: String, port: Int, until accept: (DigAnswer) -> Bool) throws -> DigAnswer {
        var answer = try dig(name, port: port)
        for _ in 0..<25 where !accept(answer) {
            Thread.sleep(forTimeInterval: 0.2)
            answer = try dig(name, port: port)
        }
        return answer
    }

    /// A UDP port nothing listens on right now: bind port 0, read it, close.
    static func freeUDPPort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let port = withUnsafeMutablePointer(to: &address) { pointer -> Int in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                guard bind(descriptor, $0, length) == 0, getsockname(descriptor, $0, &length) == 0 else { return 0 }
                return Int(UInt16(bigEndian: pointer.pointee.sin_port))
            }
        }
        guard port != 0 else { throw HarnessError("no free UDP port") }
        return port
    }

    /// Sends each datagram to 127.0.0.1:port and forgets it.
    static func send(_ datagrams: [[UInt8]], port: Int) {
        let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        for datagram in datagrams {
            _ = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(descriptor, datagram, datagram.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
    }

    @Test func digResolvesMeshNamesFromARealDaemon() throws {
        let port = try Self.freeUDPPort()
        let files = FileManager.default.temporaryDirectory.appendingPathComponent("smegd-dns-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: files, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: files) }
        let hostsPath = files.appendingPathComponent("hosts").path
        let daemon = try DaemonHarness(
            name: "dns", arguments: ["--set", "dnsListen=127.0.0.1:\(port)", "--set", "hostsFile=\(hostsPath)"])
        defer { daemon.stop() }

        let created = try daemon.ctl(["create", "--alias", "alpha", "--name", "lab"])
        #expect(created.status == 0, "\(created.stderr)")
        let list = try #require(
            JSONSerialization.jsonObject(with: Data(try daemon.ctl(["list", "--json"]).stdout.utf8)) as? [String: Any])
        let mesh = try #require((list["meshes"] as? [[String: Any]])?.first)
        let address = try #require(mesh["address"] as? String)
        // `create` gives the mesh an IPv4 network and the founder an address in it.
        let ipv4 = try #require(mesh["ipv4Address"] as? String)
        #expect(mesh["ipv4Prefix"] is String)
        let meshId = try #require(mesh["meshId"] as? String)
        let detail = try #require(
            JSONSerialization.jsonObject(with: Data(try daemon.ctl(["get", meshId, "--json"]).stdout.utf8))
                as? [String: Any])
        let shortId = try #require((detail["members"] as? [[String: Any]])?.first?["shortId"] as? String)

        let alias = try Self.dig("alpha.lab.smeg", port: port) { $0.status == "NOERROR" && !$0.addresses.isEmpty }
        #expect(alias.status == "NOERROR")
        #expect(alias.addresses == [address])
        let short = try Self.dig("\(shortId).lab.smeg", port: port)
        #expect(short.status == "NOERROR" && short.addresses == [address])
        #expect(try Self.dig("ALPHA.LAB.SMEG", port: port).addresses == [address])
        #expect(try Self.dig("nobody.lab.smeg", port: port).status == "NXDOMAIN")
        let a = try Self.dig("alpha.lab.smeg", "A", port: port)
        #expect(a.status == "NOERROR" && a.addresses == [ipv4])
        let any = try Self.dig("\(shortId).lab.smeg", "ANY", port: port)
        #expect(any.status == "NOERROR" && any.addresses == [address, ipv4])
        let nodata = try Self.dig("alpha.lab.smeg", "MX", port: port)
        #expect(nodata.status == "NOERROR" && nodata.addresses.isEmpty)
        let apex = try Self.dig("lab.smeg", "A", port: port)
        #expect(apex.status == "NOERROR" && apex.addresses.isEmpty)
        #expect(try Self.dig("example.com", port: port).status == "REFUSED")

        // Garbage of every kind, then the daemon still answers.
        var generator = SystemRandomNumberGenerator()
        var garbage: [[UInt8]] = [[], [0], [UInt8](repeating: 0xFF, count: 12), [UInt8](repeating: 0xC0, count: 600)]
        garbage += (0..<200).map { _ in
            (0..<Int.random(in: 0...1400, using: &generator)).map { _ in UInt8.random(in: 0...255) }
        }
        Self.send(garbage, port: port)
        let after = try Self.dig("alpha.lab.smeg", port: port)
        #expect(after.status == "NOERROR" && after.addresses == [address])
        #expect(try daemon.ctl(["status"]).status == 0)

        // The hosts export: a line per address, the file and the same text from the API.
        let names = "alpha.lab.smeg \(shortId).lab.smeg"
        let lines = "\(address)\t\(names)\n\(ipv4)\t\(names)\n"
        var hosts = ""
        for _ in 0..<25 where !hosts.hasSuffix(lines) {
            Thread.sleep(forTimeInterval: 0.2)
            hosts = (try? String(contentsOfFile: hostsPath, encoding: .utf8)) ?? ""
        }
        #expect(hosts.hasPrefix("# "))
        #expect(hosts.hasSuffix(lines))
        #expect(hosts.split(separator: "\n").filter { !$0.hasPrefix("#") }.count == 2)
        #expect(try daemon.ctl(["hosts"]).stdout == hosts)
    }
}
