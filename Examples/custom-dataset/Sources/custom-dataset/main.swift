// SimCLR on a dataset of your own: any type that conforms to `ImageDataset` trains through
// `Trainer`, and the trained encoder gives the representation h of any image.
import Foundation
import SimCLR

/// 64 images of 16 x 16: horizontal (label 0) or vertical (label 1) stripes in a colour per image.
struct Stripes: ImageDataset {
    let name = "stripes"
    let count = 64
    let classNames = ["horizontal", "vertical"]

    func label(at index: Int) -> Int? { index % 2 }

    func image(at index: Int) throws -> RGBImage {
        let colour = [UInt8(index * 37 % 256), UInt8(index * 91 % 256), UInt8(255 - index * 13 % 256)]
        var image = RGBImage(width: 16, height: 16)
        for y in 0..<16 {
            for x in 0..<16 where (index % 2 == 0 ? y : x) % 4 < 2 {
                for c in 0..<3 { image.pixels[(y * 16 + x) * 3 + c] = colour[c] }
            }
        }
        return image
    }
}

var config = TrainConfig.defaults(for: .synthetic)  // the CIFAR-like recipe: SGD, tau 0.5, jitter 0.5
config.data.imageSize = 16
config.model.width = 0.25
config.model.headOut = 32
config.optimization.epochs = 2
config.optimization.batchSize = 16
config.runtime.threads = 2

let path = CommandLine.arguments.dropFirst().first ?? NSTemporaryDirectory() + "custom-dataset-\(getpid())"
let trainer = Trainer(config: config, folder: RunFolder(URL(fileURLWithPath: path)), data: TrainingData(train: Stripes()))
trainer.showProgress = false
let summary = try trainer.run()
print("trained \(summary.steps) steps on \(Stripes().name), last epoch's loss \(summary.finalLoss ?? .nan); run folder \(path)")

guard let encoder = trainer.model?.encoder else { fatalError("run() returned without a model") }
let h = try FeatureExtraction.representation(of: try Stripes().image(at: 0), encoder: encoder, augmentation: config.augmentation)
print("h of image 0 (\(h.count) values): " + h.prefix(8).map { String(format: "%.4f", $0) }.joined(separator: " ") + " ...")
