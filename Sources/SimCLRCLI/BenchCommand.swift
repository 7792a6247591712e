// `simclr bench step|augment`: the speed benchmarks, one JSON line each, with the same fields as
// the PyTorch reference scripts in ../shared/bench so the two can be compared side by side.
import ArgumentParser
import Data
import Foundation
import NN
import SimCLR

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench", abstract: "Speed benchmarks (JSON lines).", subcommands: [StepBench.self, AugmentBench.self])
}

struct StepBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "step",
        abstract: "One SimCLR training step (forward of 2B images, NT-Xent, backward, SGD) on random input.")

    @Option(help: "\(Architecture.choicesText).") var arch: Architecture = .resnet18
    @Option(help: "cifar or imagenet stem.") var stem: ResNetConfig.Stem = .cifar
    @Option(help: "Width multiplier.") var width: Double = 1.0
    @Option(help: "Images per view (2B go through the network).") var batch: Int = 256
    @Option(name: .customLong("image-size"), help: "Image side.") var imageSize: Int = 32
    @Option(help: "Threads (0: all cores).") var threads: Int = 0
    @Option(help: "Timed steps.") var steps: Int = 10
    @Option(help: "Untimed steps first.") var warmup: Int = 2
    @Option(name: .customLong("conv-algorithm"),
            help: "3x3 stride-1 convolutions: auto (Winograd from 16 channels, input gradient from 32), direct or winograd.")
    var convAlgorithm: ConvolutionAlgorithm = .auto

    func validate() throws {
        guard width > 0 else { throw ValidationError("--width: \(width); expected > 0") }
        guard batch >= 2 else { throw ValidationError("--batch: \(batch); expected >= 2") }
        guard imageSize >= 8 else { throw ValidationError("--image-size: \(imageSize); expected >= 8") }
        guard threads >= 0 else { throw ValidationError("--threads: \(threads); expected >= 0") }
        guard steps >= 1 else { throw ValidationError("--steps: \(steps); expected >= 1") }
        guard warmup >= 0 else { throw ValidationError("--warmup: \(warmup); expected >= 0") }
    }

    func run() throws {
        var b = StepBenchmark()
        b.depth = arch.depth
        b.stem = stem
        b.width = width
        b.batch = batch
        b.imageSize = imageSize
        b.threads = threads
        b.steps = steps
        b.warmup = warmup
        b.convolutionAlgorithm = convAlgorithm
        let bar = ProgressBar(label: "bench step", total: steps + warmup, unit: "step")
        let fields = try b.run { done, _ in bar.update(done) }
        bar.finish()
        print(jsonLine(fields))
    }
}

struct AugmentBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "augment", abstract: "SimCLR augmentation throughput (2 views per image), like torch_simclr_aug.py.")

    @OptionGroup var data: DatasetOptions
    @Option(help: "Output view side.") var size: Int = 32
    @Option(help: "Worker threads.") var threads: Int = 1
    @Option(help: "Source images per pass.") var images: Int = 2048
    @Option(help: "Timed passes.") var repeats: Int = 5

    func validate() throws {
        guard size >= 8 else { throw ValidationError("--size: \(size); expected >= 8") }
        guard threads >= 1 else { throw ValidationError("--threads: \(threads); expected >= 1") }
        guard images >= 1, repeats >= 1 else { throw ValidationError("--images and --repeats must be >= 1") }
        _ = try data.settings()
    }

    func run() throws {
        var settings = try data.settings()
        let dataset = try settings.open(.train)
        settings.imageSize = size
        let result = try AugmentBenchmark.run(dataset: dataset, size: size, threads: threads, images: images, repeats: repeats,
                                              config: settings.augmentation())
        let json = try JSONEncoder().encode(result)
        print(String(decoding: json, as: UTF8.self))
    }
}
