// `simclr eval`. PLACEHOLDER being replaced by the trainer work (issue 4); it refuses to run.
import ArgumentParser

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "eval", abstract: "Evaluate a pretrained encoder (linear probe, kNN).")
    func run() throws { throw ValidationError("simclr eval is not available in this build yet") }
}
