import MeshCore
import Testing

/// Options are strings and optional numbers at the API and on disk, and typed everywhere else.
@Suite struct MeshOptionsTypedTests {
    @Test func rolesRoundTripThroughTheirNames() {
        for role in NodeRecord.Role.allCases {
            #expect(MeshOptions.role(named: role.description) == role)
            #expect(MeshOptions(role: role.description).resolvedRole == role)
        }
        for name in ["", "Peer", "CLIENT", "boss", " peer"] { #expect(MeshOptions.role(named: name) == nil) }
    }

    @Test func eachValueHasOneDefault() {
        let none = MeshOptions()
        #expect(none.resolvedRole == .peer)
        #expect(none.resolvedListenPort == MeshOptions.defaultListenPort)
        #expect(none.resolvedKeepalive == nil)
        #expect(none.invalidReason == nil)
    }

    /// A file edited by hand can hold anything; the typed values never trap on it.
    @Test func outOfRangeValuesFallBackOrClampInsteadOfTrapping() {
        for port in [Int.min, -1, 0, 65_536, Int.max] {
            let options = MeshOptions(listenPort: port)
            #expect(options.invalidReason != nil, "\(port)")
            #expect(options.resolvedListenPort == MeshOptions.defaultListenPort)
        }
        #expect(MeshOptions(listenPort: 7000).resolvedListenPort == 7000)
        #expect(MeshOptions(keepalive: Int.max).resolvedKeepalive == UInt16.max)
        #expect(MeshOptions(keepalive: -5).resolvedKeepalive == 0)
        #expect(MeshOptions(keepalive: -5).invalidReason != nil)
        #expect(MeshOptions(role: "boss").invalidReason == "role must be peer or client, not 'boss'")
        #expect(MeshOptions(role: "boss").resolvedRole == .peer)
    }
}

/// One check for both sides: smegd words a problem with the API's keys, smegctl with its flags.
@Suite struct MeshOptionProblemTests {
    @Test func eachFieldIsCheckedOnceAndWordedForBothSides() {
        let cases: [(MeshOptions, MeshOptionProblem.Field)] = [
            (MeshOptions(role: "boss"), .role), (MeshOptions(listenPort: 0), .listenPort),
            (MeshOptions(keepalive: 70_000), .keepalive), (MeshOptions(endpoint: "nowhere"), .endpoint),
            (MeshOptions(advertiseRoutes: ["fd00::/64", "10.0.0.0/33"]), .advertiseRoutes),
        ]
        for (options, field) in cases {
            let problem = options.problem
            #expect(problem?.field == field)
            #expect(problem?.description.hasPrefix(field.wording + " ") == true)
            #expect(problem?.flagDescription.hasPrefix(field.flag + " ") == true)
        }
        #expect(MeshOptions(listenPort: 0).invalidReason == "listenPort must be between 1 and 65535")
        #expect(MeshOptions(listenPort: 0).problem?.flagDescription == "--listen-port must be between 1 and 65535")
        #expect(
            MeshOptions(endpoint: "nowhere").invalidReason
                == "endpoint 'nowhere' is not HOST:PORT (IPv6 as [ADDRESS]:PORT)")
        #expect(
            MeshOptions(
                role: "client", listenPort: 51_821, endpoint: "[2001:db8::1]:51821", keepalive: 25,
                advertiseRoutes: ["fd00:1::/64"]
            ).problem == nil)
    }
}
