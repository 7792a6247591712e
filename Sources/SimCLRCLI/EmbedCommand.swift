// `simclr embed`. PLACEHOLDER being replaced by the trainer work (issue 4); it refuses to run.
import ArgumentParser

struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "embed", abstract: "Write the representation h of every image as .npy.")
    func run() throws { throw ValidationError("simclr embed is not available in this build yet") }
}
