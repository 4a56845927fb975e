import ArgumentParser
import GossipCRDT

/// Runs many instances of the GossipCRDT protocol over a simulated network.
@main
struct SimCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "smeg-sim",
        abstract: "Simulate the smegmesh membership protocol with many nodes in one process."
    )

    func run() throws {
        throw ValidationError("the simulator is not built yet")
    }
}
