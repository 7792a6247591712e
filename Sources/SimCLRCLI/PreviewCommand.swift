// `simclr preview`: a PNG grid of images and their augmented views.
import ArgumentParser
import Foundation
import SimCLR

struct PreviewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preview", abstract: "Write a PNG grid: one row per image, the original then its augmented views.")

    @OptionGroup var data: DatasetOptions
    @Option(help: "Number of images (rows).") var images: Int = 8
    @Option(help: "Views per image (columns after the original).") var views: Int = 4
    @Option(help: "Split to show.") var split: DatasetSplit = .train
    @Option(help: "Seed of the views.") var seed: UInt64 = 0
    @Option(help: "Colour-jitter strength s (default per dataset: 0.5 CIFAR, 1.0 others).") var jitter: Float?
    @Option(help: "Output PNG.") var out: String = "preview.png"

    func validate() throws {
        guard images >= 1 else { throw ValidationError("--images: \(images); expected >= 1") }
        guard views >= 1 else { throw ValidationError("--views: \(views); expected >= 1") }
        if let j = jitter, j < 0 { throw ValidationError("--jitter: \(j); expected >= 0") }
        _ = try data.settings()
    }

    func run() throws {
        let settings = try data.settings()
        let dataset = try settings.open(split)
        var config = settings.augmentation(views: views)
        if let jitter { config.jitterStrength = jitter }
        let pipeline = try AugmentationPipeline(config)
        let grid = try Preview.grid(dataset: dataset, images: images, views: views, pipeline: pipeline, seed: seed)
        let url = URL(fileURLWithPath: out)
        try PNGCodec.write(grid, to: url)
        print("wrote \(url.path) (\(grid.width)x\(grid.height), \(min(images, dataset.count)) images x \(views) views of \(dataset.name))")
    }
}
