import ArgumentParser
import SimCLR

@main
struct SimCLRCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "simclr", abstract: "SimCLR in Swift.")
}
