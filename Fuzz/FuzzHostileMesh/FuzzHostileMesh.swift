import GossipCRDT

/// A mesh of honest engines and one malicious member that sends whatever the input says (see
/// `HostileScript` for the encoding): no input may trap an engine, and after every step the
/// invariants of `HostileMesh.violations()` must hold: no live honest member removed, no
/// crashed member resurrected or kept past the prune deadline, no record of an honest member
/// that it did not publish, no epoch ahead of time.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var script = HostileScript(Array(UnsafeBufferPointer(start: data, count: size)))
    let found = script.run()
    guard found.isEmpty else {
        fatalError("hostile mesh invariant broken:\n" + found.joined(separator: "\n"))
    }
    return 0
}
