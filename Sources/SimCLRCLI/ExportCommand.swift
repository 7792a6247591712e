// `simclr export`: the encoder alone (torchvision ResNet names, no head, no optimizer state) as
// safetensors, loadable with strict=True into torchvision's resnet (see tools/check_torchvision_load.py).
import ArgumentParser
import Foundation
import SimCLR

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Write the encoder alone as safetensors (torchvision state_dict names).")

    @Option(help: "Checkpoint file or run folder (its last checkpoint).") var checkpoint: String
    @Option(help: "Output .safetensors file.") var out: String = "encoder.safetensors"

    func run() throws {
        let url = try Checkpoint.resolve(checkpoint)
        let info = try Checkpoint.info(url)
        var rng = RandomState(seed: 0)
        let encoder = ResNet(info.config.encoderConfig, rng: &rng)
        try Checkpoint.loadEncoder(url, into: encoder)
        let configJSON = String(decoding: try JSONEncoder().encode(info.config.encoderConfig), as: UTF8.self)
        let trainJSON = info.config.json()
        let m = info.config.model
        try SafeTensors.save(
            parameters: encoder.parameters, buffers: encoder.buffers,
            metadata: ["format": Checkpoint.encoderFormat, "epoch": String(info.epoch), "step": String(info.step),
                       "arch": m.arch.rawValue, "stem": m.stem.rawValue, "width": String(m.width),
                       "encoder": configJSON, "config": trainJSON],
            to: URL(fileURLWithPath: out))
        let count = encoder.parameters.reduce(0) { $0 + $1.value.count }
        print("wrote \(out): \(m.arch.rawValue) (\(m.stem.rawValue) stem, width \(m.width)), \(encoder.parameters.count) parameters "
              + "+ \(encoder.buffers.count) buffers, \(count) weights, from \(url.path) (epoch \(info.epoch))")
    }
}
