// `simclr train`. PLACEHOLDER being replaced by the trainer work (issue 4); it refuses to run.
import ArgumentParser

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "train", abstract: "Pretrain an encoder with SimCLR.")
    func run() throws { throw ValidationError("simclr train is not available in this build yet") }
}
