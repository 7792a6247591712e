// `simclr export`. PLACEHOLDER being replaced by the trainer work (issue 4); it refuses to run.
import ArgumentParser

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "export", abstract: "Write the encoder alone as safetensors.")
    func run() throws { throw ValidationError("simclr export is not available in this build yet") }
}
