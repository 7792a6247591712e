// `simclr info`: what the compute core runs on.
import ArgumentParser
import Foundation
import SimCLR
import TensorCore

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Print the oneDNN version, ISA and thread count.")

    @Option(help: "Threads for oneDNN and OpenBLAS (0: all cores).")
    var threads: Int = 0

    func validate() throws {
        guard threads >= 0 else { throw ValidationError("--threads: \(threads); expected >= 0") }
    }

    func run() throws {
        ComputeThreads.set(threads)
        print("swift-simclr")
        print("  oneDNN:   \(DNNLContext.version) (CPU engine, OpenMP runtime)")
        print("  ISA:      \(DNNLContext.isa)")
        print("  threads:  \(ComputeThreads.current) (of \(ComputeThreads.available) cores; oneDNN and OpenBLAS)")
    }
}
