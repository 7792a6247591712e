// The `simclr` command: pretrain, evaluate, export, preview, show neighbours and benchmark.
import ArgumentParser
import SimCLR

@main
struct SimCLRCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simclr",
        abstract: "SimCLR contrastive pretraining and evaluation on oneDNN (Chen et al., ICML 2020).",
        subcommands: [TrainCommand.self, EvalCommand.self, EmbedCommand.self, ExportCommand.self,
                      PreviewCommand.self, NeighborsCommand.self, BenchCommand.self, InfoCommand.self])
}
