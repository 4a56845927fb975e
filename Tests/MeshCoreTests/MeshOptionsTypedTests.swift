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
